from __future__ import annotations

from lenders.actors import Actor
from lenders.choices import MemberStatus, Role
from lenders.services.members import member_update
from tests.lenders.test_portal_support import external_references, page_text, signed_in


def test_anonymous_visitor_is_sent_to_sign_in(db, client):
    response = client.get("/members/?status=ACTIVE")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/members/%3Fstatus%3DACTIVE"


def test_missing_capability_gets_the_403_page_with_layout(member, user_with):
    viewer = user_with(member, Role.VIEWER)
    response = signed_in(viewer, language="en").get("/members/")
    assert response.status_code == 403
    html = page_text(response)
    assert "Access denied" in html
    assert "Your role does not allow this page or action." in html
    assert member.name in html  # the layout still says who is signed in


def test_suspended_members_user_gets_a_clear_403(member, user_with):
    admin = user_with(member, Role.MEMBER_ADMIN)
    member_update(member=member, status=MemberStatus.SUSPENDED, actor=Actor.system("tests"))
    client = signed_in(admin, language="en")
    for url in ("/", "/staff/", "/api-keys/", "/accounts/password/"):
        response = client.get(url)
        assert response.status_code == 403, url
        html = page_text(response)
        assert "Your organisation is suspended" in html
        assert "contact the operator" in html


def test_suspended_page_is_in_chinese_by_default(member, user_with):
    admin = user_with(member, Role.MEMBER_ADMIN)
    member_update(member=member, status=MemberStatus.SUSPENDED, actor=Actor.system("tests"))
    response = signed_in(admin).get("/")
    assert response.status_code == 403
    assert "暂停" in response.content.decode()


def test_unknown_page_is_a_404_page_with_navigation(member, user_with):
    admin = user_with(member, Role.MEMBER_ADMIN)
    response = signed_in(admin, language="en").get("/no-such-page/")
    assert response.status_code == 404
    html = page_text(response)
    assert "Page not found" in html
    assert 'href="/staff/"' in html


def test_portal_pages_are_never_cached(member, user_with):
    admin = user_with(member, Role.MEMBER_ADMIN)
    response = signed_in(admin).get("/")
    assert "no-store" in response["Cache-Control"]


def test_external_reference_detector_finds_other_hosts():
    html = '<a href="https://cdn.example.com/x.js">x</a><img src="//evil.test/p.png"><a href="/ok/">ok</a>'
    assert external_references(html) == ["https://cdn.example.com/x.js", "//evil.test/p.png"]


def test_static_assets_reference_no_other_host():
    from pathlib import Path

    static = Path(__file__).resolve().parents[2] / "static" / "portal"
    for name in ("portal.css", "portal.js"):
        text = (static / name).read_text()
        assert "http://" not in text and "https://" not in text, name
        assert "//cdn" not in text, name


def test_every_portal_page_goes_through_portal_view():
    from lenders.views.urls import urlpatterns

    # Signing in and out, and the password reset by e-mail (for people who cannot sign in).
    public = {
        "login",
        "logout",
        "password-reset",
        "password-reset-done",
        "password-reset-confirm",
        "password-reset-complete",
    }
    for pattern in urlpatterns:
        if pattern.name in public:
            continue
        assert hasattr(pattern.callback, "portal_perm"), f"{pattern.name} is not wrapped in portal_view"


def _call(view, user, method: str = "get"):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    request = getattr(RequestFactory(), method)("/somewhere/")
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return view(request)


def test_service_errors_escaping_a_view_become_error_pages(member, user_with):
    from core.errors import Conflict, Forbidden, InvalidInput, NotFound
    from lenders.views.access import portal_view

    user = user_with(member, Role.VIEWER)
    for exc, status in (
        (NotFound("Test: nothing here."), 404),
        (Forbidden("Test: not for you."), 403),
        (Conflict("Test: already done."), 409),
        (InvalidInput("Test: bad input.", details={"x": ["wrong"]}), 400),
    ):

        @portal_view()
        def failing(request, exc=exc):
            raise exc

        response = _call(failing, user)
        assert response.status_code == status
        assert exc.message in response.content.decode()


def test_write_capability_is_needed_for_unsafe_methods_only(operator, user_with):
    from django.http import HttpResponse

    from lenders.permissions import Perm
    from lenders.views.access import portal_view

    @portal_view(Perm.MEMBER_READ, write=Perm.MEMBER_WRITE)
    def page(request):
        assert request.actor.can(Perm.MEMBER_READ)
        return HttpResponse("ok")

    regulator = user_with(operator, Role.REGULATOR)
    assert _call(page, regulator).status_code == 200
    assert _call(page, regulator, "post").status_code == 403
    assert _call(page, user_with(operator, Role.OPERATOR_ADMIN), "post").status_code == 200


def test_service_refusals_land_on_the_right_form_fields():
    from django import forms

    from core.errors import Conflict, InvalidInput
    from lenders.views.access import add_service_errors, call_service

    class Form(forms.Form):
        name = forms.CharField()

    def refuse(**kwargs):
        raise InvalidInput("Not saved.", details={"name": ["Too long."], "other": ["Unknown field problem."]})

    form = Form({"name": "x"})
    assert form.is_valid()
    assert call_service(form, refuse, name="x") is None
    assert form.errors["name"] == ["Too long."]
    assert form.non_field_errors() == ["Unknown field problem."]

    conflict_form = Form({"name": "x"})
    conflict_form.is_valid()
    add_service_errors(conflict_form, Conflict("Already revoked."))
    assert conflict_form.non_field_errors() == ["Already revoked."]
