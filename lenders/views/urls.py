"""The staff portal's pages, included at the site root by ``config.urls``."""

from django.urls import path

from lenders.views import accounts, api_keys, dashboard, members, password_reset, staff

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("accounts/login/", accounts.SignInView.as_view(), name="login"),
    path("accounts/logout/", accounts.sign_out, name="logout"),
    path("accounts/password/", accounts.password_change, name="password-change"),
    path("accounts/password/reset/", password_reset.ResetRequestView.as_view(), name="password-reset"),
    path("accounts/password/reset/sent/", password_reset.ResetSentView.as_view(), name="password-reset-done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        password_reset.ResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("accounts/password/reset/done/", password_reset.ResetCompleteView.as_view(), name="password-reset-complete"),
    path("members/", members.member_list, name="member-list"),
    path("members/new/", members.member_new, name="member-new"),
    path("members/<int:member_id>/", members.member_detail, name="member-detail"),
    path("staff/", staff.staff_list, name="staff-list"),
    path("staff/new/", staff.staff_new, name="staff-new"),
    path("staff/<int:user_id>/", staff.staff_detail, name="staff-detail"),
    path("staff/<int:user_id>/active/", staff.staff_active, name="staff-active"),
    path("api-keys/", api_keys.api_key_list, name="api-key-list"),
    path("api-keys/new/", api_keys.api_key_new, name="api-key-new"),
    path("api-keys/<slug:prefix>/revoke/", api_keys.api_key_revoke_view, name="api-key-revoke"),
]
