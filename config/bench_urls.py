"""The URLconf of the benchmark's server (``registry.benchmark.settings``): the project's own
URLs plus the raw-cursor ceiling view that ``quality.md`` compares the lookup endpoint with."""

from django.urls import path

from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as project_urlpatterns
from registry.benchmark.views import ceiling_lookup

urlpatterns = [
    path(
        "bench/ceiling/<int:hash_key_id>/<str:id_type>/<str:subject_hash>",
        ceiling_lookup,
        name="bench-ceiling",
    ),
    *project_urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
