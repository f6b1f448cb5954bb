from core.urls import api_path
from lenders.api import views

urlpatterns = [
    *api_path("region", views.RegionView.as_view(), name="api-region"),
    *api_path("region/hash-key", views.HashKeyView.as_view(), name="api-region-hash-key"),
    *api_path("members", views.MemberListView.as_view(), name="api-members"),
    *api_path("members/<int:pk>", views.MemberDetailView.as_view(), name="api-member"),
    *api_path("audit-events", views.AuditEventListView.as_view(), name="api-audit-events"),
]
