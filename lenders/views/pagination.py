"""Page numbers for portal lists (the API pages by cursor; people like page numbers)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PER_PAGE = 50


def page_of(request: HttpRequest, items: Any, per_page: int = PER_PAGE) -> tuple[Page[Any], str]:
    """The requested page (a wrong or too large number gives the nearest page) and the query
    string of the other filters, for the pager's links."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    others = request.GET.copy()
    others.pop("page", None)
    return page, others.urlencode()
