from core.urls import api_path
from registry.api import uploads, views

urlpatterns = [
    *api_path("entries", views.EntryListView.as_view(), name="api-entries"),
    *api_path("entries/<int:pk>", views.EntryDetailView.as_view(), name="api-entry"),
    *api_path("entries/<int:pk>/withdraw", views.EntryWithdrawView.as_view(), name="api-entry-withdraw"),
    *api_path("lookups/batch", views.LookupBatchView.as_view(), name="api-lookup-batch"),
    *api_path("lookups/<str:id_type>/<str:subject_hash>", views.LookupView.as_view(), name="api-lookup"),
    *api_path("uploads", uploads.UploadListView.as_view(), name="api-uploads"),
    *api_path("uploads/<int:pk>", uploads.UploadDetailView.as_view(), name="api-upload"),
    *api_path("uploads/<int:pk>/errors", uploads.UploadErrorsView.as_view(), name="api-upload-errors"),
    *api_path("uploads/<int:pk>/confirm", uploads.UploadConfirmView.as_view(), name="api-upload-confirm"),
    *api_path("uploads/<int:pk>/cancel", uploads.UploadCancelView.as_view(), name="api-upload-cancel"),
    *api_path(
        "subjects/<str:id_type>/<str:subject_hash>/history",
        views.SubjectHistoryView.as_view(),
        name="api-subject-history",
    ),
]
