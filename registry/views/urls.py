"""The registry's portal pages: the member's pages, the operator's, and the dispute pages."""

from registry.views import disputes_urls, member_urls, operator_urls

urlpatterns = [*member_urls.urlpatterns, *operator_urls.urlpatterns, *disputes_urls.urlpatterns]
