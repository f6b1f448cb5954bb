from __future__ import annotations

from core.models import AuditEvent
from lenders.choices import Role
from lenders.models import User
from tests.factories import PASSWORD
from tests.lenders.test_portal_support import page_text, signed_in

NEW_PASSWORD = "Sturdy-new-passphrase-7"
NEW_USER: dict[str, str | list[str]] = {
    "username": "new.analyst",
    "last_name": "王",
    "first_name": "小明",
    "email": "wang@example.org",
    "password": NEW_PASSWORD,
    "password_again": NEW_PASSWORD,
    "roles": [Role.ANALYST, Role.UPLOADER],
}


def test_member_admin_lists_only_its_own_staff(member, other_member, user_with):
    admin = user_with(member, Role.MEMBER_ADMIN)
    colleague = user_with(member, Role.VIEWER)
    stranger = user_with(other_member, Role.VIEWER)
    response = signed_in(admin, language="en").get("/staff/")
    assert response.status_code == 200
    html = page_text(response)
    assert colleague.username in html
    assert "Viewer" in html
    assert stranger.username not in html


def test_member_admin_creates_a_user_with_roles(member, user_with):
    admin = user_with(member, Role.MEMBER_ADMIN)
    client = signed_in(admin, language="en")
    form = client.get("/staff/new/")
    html = page_text(form)
    assert 'value="ANALYST"' in html
    assert 'value="OPERATOR_ADMIN"' not in html  # only the roles of a member
    response = client.post("/staff/new/", NEW_USER)
    assert response.status_code == 302
    created = User.objects.get(username="new.analyst")
    assert created.member == member
    assert created.role_codes == {Role.ANALYST, Role.UPLOADER}
    assert created.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="staff.create", object_id=str(created.pk))
    assert event.user_id == admin.pk
    assert event.details["roles"] == ["ANALYST", "UPLOADER"]
    detail = page_text(client.get(response["Location"]))
    assert "User new.analyst was created." in detail


def test_staff_create_refuses_an_operator_role_for_a_member(member, user_with):
    client = signed_in(user_with(member, Role.MEMBER_ADMIN), language="en")
    response = client.post("/staff/new/", {**NEW_USER, "roles": [Role.OPERATOR_ADMIN]})
    assert response.status_code == 200
    assert 'id="id_roles_error"' in page_text(response)
    assert not User.objects.filter(username="new.analyst").exists()


def test_staff_create_shows_the_services_errors_on_their_fields(member, user_with):
    admin = user_with(member, Role.MEMBER_ADMIN)
    client = signed_in(admin, language="en")
    response = client.post(
        "/staff/new/", {**NEW_USER, "username": admin.username, "password": "password", "password_again": "password"}
    )
    assert response.status_code == 200
    html = page_text(response)
    assert "This user name is taken." in html
    assert 'id="id_password_error"' in html
    assert User.objects.filter(member=member).count() == 1


def test_member_admin_changes_roles(member, user_with):
    admin = user_with(member, Role.MEMBER_ADMIN)
    colleague = user_with(member, Role.VIEWER)
    client = signed_in(admin)
    response = client.post(f"/staff/{colleague.pk}/", {"roles": [Role.UPLOADER]})
    assert response.status_code == 302
    assert User.objects.get(pk=colleague.pk).role_codes == {Role.UPLOADER}
    assert AuditEvent.objects.filter(action="staff.set_roles", object_id=str(colleague.pk)).exists()


def test_member_admin_deactivates_and_reactivates_a_user(member, user_with):
    admin = user_with(member, Role.MEMBER_ADMIN)
    colleague = user_with(member, Role.VIEWER)
    client = signed_in(admin)
    assert client.post(f"/staff/{colleague.pk}/active/", {"active": "0"}).status_code == 302
    colleague.refresh_from_db()
    assert colleague.is_active is False
    refused = signed_in(colleague)  # a session of a deactivated user is no longer valid
    assert refused.get("/").status_code == 302
    assert client.post(f"/staff/{colleague.pk}/active/", {"active": "1"}).status_code == 302
    colleague.refresh_from_db()
    assert colleague.is_active is True
    actions = list(AuditEvent.objects.filter(object_id=str(colleague.pk)).values_list("action", flat=True))
    assert actions[-2:] == ["staff.deactivate", "staff.activate"]


def test_admin_cannot_deactivate_themself(member, user_with):
    admin = user_with(member, Role.MEMBER_ADMIN)
    client = signed_in(admin, language="en")
    response = client.post(f"/staff/{admin.pk}/active/", {"active": "0"}, follow=True)
    assert "You cannot deactivate your own account." in page_text(response)
    admin.refresh_from_db()
    assert admin.is_active is True


def test_another_members_user_is_not_found(member, other_member, user_with):
    client = signed_in(user_with(member, Role.MEMBER_ADMIN))
    stranger = user_with(other_member, Role.VIEWER)
    assert client.get(f"/staff/{stranger.pk}/").status_code == 404
    assert client.post(f"/staff/{stranger.pk}/", {"roles": [Role.MEMBER_ADMIN]}).status_code == 404
    assert client.post(f"/staff/{stranger.pk}/active/", {"active": "0"}).status_code == 404
    stranger.refresh_from_db()
    assert stranger.role_codes == {Role.VIEWER}
    assert stranger.is_active is True


def test_operator_admin_manages_the_operators_own_staff(operator, member, user_with):
    admin = user_with(operator, Role.OPERATOR_ADMIN)
    member_user = user_with(member, Role.MEMBER_ADMIN)
    client = signed_in(admin, language="en")
    html = page_text(client.get("/staff/"))
    assert admin.username in html
    assert member_user.username not in html
    form_html = page_text(client.get("/staff/new/"))
    assert 'value="REGULATOR"' in form_html
    assert 'value="ANALYST"' not in form_html
    response = client.post("/staff/new/", {**NEW_USER, "username": "inspector", "roles": [Role.REGULATOR]})
    assert response.status_code == 302
    assert User.objects.get(username="inspector").operator == operator
    assert client.get(f"/staff/{member_user.pk}/").status_code == 404


def test_viewer_and_regulator_are_refused_the_staff_pages(member, operator, user_with):
    for user in (user_with(member, Role.VIEWER), user_with(operator, Role.REGULATOR)):
        client = signed_in(user)
        assert client.get("/staff/").status_code == 403
        assert client.get("/staff/new/").status_code == 403
        assert client.post("/staff/new/", NEW_USER).status_code == 403
    assert not User.objects.filter(username="new.analyst").exists()


def test_new_user_can_sign_in(member, user_with):
    client = signed_in(user_with(member, Role.MEMBER_ADMIN))
    client.post("/staff/new/", NEW_USER)
    from django.test import Client

    fresh = Client()
    response = fresh.post("/accounts/login/", {"username": "new.analyst", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert PASSWORD != NEW_PASSWORD
