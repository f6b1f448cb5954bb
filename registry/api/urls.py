from core.urls import api_path
from registry.api import disputes, uploads, views

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
    *api_path("disputes", disputes.DisputeListView.as_view(), name="api-disputes"),
    *api_path("disputes/<int:pk>", disputes.DisputeDetailView.as_view(), name="api-dispute"),
    *api_path(
        "disputes/<int:pk>/items/<int:item_id>/respond",
        disputes.DisputeRespondView.as_view(),
        name="api-dispute-item-respond",
    ),
    *api_path("disputes/<int:pk>/escalate", disputes.DisputeEscalateView.as_view(), name="api-dispute-escalate"),
    *api_path("disputes/<int:pk>/arbitrate", disputes.DisputeArbitrateView.as_view(), name="api-dispute-arbitrate"),
    *api_path("disputes/<int:pk>/evidence", disputes.DisputeEvidenceView.as_view(), name="api-dispute-evidence"),
    *api_path(
        "disputes/<int:pk>/evidence/<int:evidence_id>",
        disputes.DisputeEvidenceFileView.as_view(),
        name="api-dispute-evidence-file",
    ),
    *api_path(
        "subjects/<str:id_type>/<str:subject_hash>/history",
        views.SubjectHistoryView.as_view(),
        name="api-subject-history",
    ),
]
