"""Forgotten passwords: Django's reset views (an e-mail with a one-time link, the link's token
checked by Django) with the portal's templates, in the reader's language.

The e-mail goes through ``EMAIL_BACKEND`` (the console in development). An address that
belongs to no active account gets the same answer and no e-mail, so the form does not tell
who has an account. The new password is set by ``staff_reset_password``, which checks it
against the password rules and writes the audit event.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.http import HttpResponse
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from core.errors import Forbidden, InvalidInput
from lenders.actors import Actor
from lenders.services.staff import staff_reset_password


class ResetRequestForm(PasswordResetForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = gettext_lazy("E-mail address")
        self.fields["email"].help_text = gettext_lazy("The address your administrator recorded for your account.")


class NewPasswordForm(SetPasswordForm):  # type: ignore[type-arg]
    """Django's form for the two password fields; saving goes through the service."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = gettext_lazy("New password")
        self.fields["new_password1"].help_text = gettext_lazy(
            "At least 10 characters, not common, not all digits, not like your user name."
        )
        self.fields["new_password2"].label = gettext_lazy("New password again")

    def save(self, commit: bool = True) -> Any:
        try:
            actor = Actor.for_user(self.user)
        except Forbidden:  # a suspended member's staff may still recover their account
            actor = Actor.system("password reset")
        return staff_reset_password(user=self.user, new_password=self.cleaned_data["new_password1"], actor=actor)


@method_decorator(never_cache, name="dispatch")
class ResetRequestView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    form_class = ResetRequestForm
    success_url = reverse_lazy("password-reset-done")


class ResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


@method_decorator(never_cache, name="dispatch")
class ResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = NewPasswordForm
    success_url = reverse_lazy("password-reset-complete")

    def form_valid(self, form: NewPasswordForm) -> HttpResponse:  # type: ignore[override]
        try:
            return super().form_valid(form)
        except InvalidInput as exc:
            for field, messages in (exc.details or {}).items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, str(message))
            return self.form_invalid(form)


class ResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
