from django.urls import path

from lenders.views import accounts

urlpatterns = [
    path("", accounts.dashboard, name="dashboard"),
]
