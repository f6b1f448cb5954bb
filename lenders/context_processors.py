from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, Any]:
    """The signed-in person's actor for templates (navigation by capability)."""
    return {"actor": getattr(request, "actor", None)}
