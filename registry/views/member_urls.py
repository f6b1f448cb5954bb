"""The member's registry pages: its own entries, lookups and uploads (included by ``registry.views.urls``)."""

from django.urls import URLPattern, path

from registry.views import entries, lookups, uploads

urlpatterns: list[URLPattern] = [
    path("lookups/", lookups.lookup, name="lookup"),
    path("entries/", entries.entry_list, name="entry-list"),
    path("entries/new/", entries.entry_new, name="entry-new"),
    path("entries/<int:entry_id>/", entries.entry_detail, name="entry-detail"),
    path("uploads/", uploads.upload_list, name="upload-list"),
    path("uploads/<int:upload_id>/", uploads.upload_detail, name="upload-detail"),
    path("uploads/<int:upload_id>/status", uploads.upload_status_json, name="upload-status"),
    path("uploads/<int:upload_id>/errors.csv", uploads.upload_errors_csv, name="upload-errors"),
    path("uploads/<int:upload_id>/confirm", uploads.upload_confirm_view, name="upload-confirm"),
    path("uploads/<int:upload_id>/cancel", uploads.upload_cancel_view, name="upload-cancel"),
]
