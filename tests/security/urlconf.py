"""The project's URL conf as a flat list, for the table-driven security tests: a new page or
endpoint shows up here, and the tables that must cover it fail until they do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    pattern: str  # e.g. "api/v1/entries/<int:pk>"
    name: str | None

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/")

    @property
    def has_parameters(self) -> bool:
        return "<" in self.pattern


def _walk(resolver: URLResolver, prefix: str = "") -> Iterator[Route]:
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            yield from _walk(item, prefix + str(item.pattern))
        elif isinstance(item, URLPattern):
            yield Route(prefix + str(item.pattern), item.name)


def routes() -> list[Route]:
    """Every named route once (the API's unnamed slashed twins are left out)."""
    return [route for route in _walk(get_resolver()) if route.name]


def route_names(*, api: bool) -> set[str]:
    return {route.name for route in routes() if route.is_api == api and route.name}
