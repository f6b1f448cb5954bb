"""The registry's portal pages: the member's pages and the operator's."""

from registry.views import member_urls, operator_urls

urlpatterns = [*member_urls.urlpatterns, *operator_urls.urlpatterns]
