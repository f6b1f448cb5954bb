from __future__ import annotations

from typing import Any


def drop_slashed_twins(endpoints: list[tuple[str, Any, str, Any]], **kwargs: Any) -> list[tuple[str, Any, str, Any]]:
    """drf-spectacular preprocessing hook: document each API path once, without the slash."""
    return [endpoint for endpoint in endpoints if not endpoint[0].endswith("/")]
