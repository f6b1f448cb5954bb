from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path


def api_path(route: str, view: Any, *, name: str) -> list[URLPattern]:
    """``api.md``: a path works with and without its trailing slash. The slashed twin is left
    out of the OpenAPI schema (``core.schema.drop_slashed_twins``)."""
    return [path(route, view, name=name), path(route + "/", view)]
