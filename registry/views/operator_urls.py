"""The operator's portal pages: subject history, region settings and recomputes, the audit log."""

from django.urls import URLPattern, path

from registry.views import audit, region, subjects

urlpatterns: list[URLPattern] = [
    path("subjects/", subjects.subject_search, name="subject-search"),
    path("subjects/<str:id_type>/<str:subject_hash>/", subjects.subject_detail, name="subject-detail"),
    path("region/", region.region_settings, name="region-settings"),
    path("region/hash-key/rotate/", region.region_hash_key_rotate, name="region-hash-key-rotate"),
    path("region/recompute/<int:job_id>/", region.region_recompute, name="region-recompute"),
    path("region/recompute/<int:job_id>/status", region.region_recompute_status, name="region-recompute-status"),
    path("audit/", audit.audit_list, name="audit-list"),
]
