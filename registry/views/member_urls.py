"""The member's registry pages: its own entries and lookups (included by ``registry.views.urls``)."""

from django.urls import URLPattern, path

from registry.views import entries, lookups

urlpatterns: list[URLPattern] = [
    path("lookups/", lookups.lookup, name="lookup"),
    path("entries/", entries.entry_list, name="entry-list"),
    path("entries/new/", entries.entry_new, name="entry-new"),
    path("entries/<int:entry_id>/", entries.entry_detail, name="entry-detail"),
]
