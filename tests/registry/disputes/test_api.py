"""The disputes API (``api.md``): filing, reading as each side sees it, answering, escalating
and arbitrating, with the project's error shape for every refusal."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.choices import DisputeItemState
from registry.models import DisputeItem
from tests.registry.disputes.helpers import answer, file, item_of
from tests.registry.helpers import error_of, subject, submit

API = "/api/v1/disputes"


@pytest.fixture
def listed(member, other_member):  # type: ignore[no-untyped-def]
    h = subject("api")
    submit(member, h)
    submit(other_member, h)
    return h


def _file_body(h: str, **extra: str) -> dict[str, str]:
    return {"id_type": "RIC", "subject_hash": h, "grounds": "REPAID", "statement": "Repaid in full in March.", **extra}


def test_filing_answers_201_without_naming_the_respondents(filer, listed, disputes_api):
    response = disputes_api(filer).post(API, _file_body(listed, consent_reference="CONSENT-7"), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["state"], body["role"], body["subject_hash"], body["consent_reference"]) == (
        "OPEN",
        "filer",
        listed,
        "CONSENT-7",
    )
    assert len(body["items"]) == 2
    assert all(item["respondent"] is None and item["entry"] is None for item in body["items"])
    assert all(item["days_left"] == 20 for item in body["items"])


def test_a_second_filing_is_409_with_the_open_disputes_id(filer, other_member, listed, disputes_api):
    first = disputes_api(filer).post(API, _file_body(listed), format="json").json()

    error = error_of(disputes_api(other_member).post(API, _file_body(listed), format="json"), 409, "dispute_open")

    assert error["details"] == {"dispute_id": first["id"]}


def test_filing_without_black_entries_is_a_clear_409(filer, disputes_api):
    error = error_of(
        disputes_api(filer).post(API, _file_body(subject("nobody")), format="json"), 409, "no_black_entries"
    )

    assert "黑名单" in error["message"]  # the registry's language: the subject has no black entry


def test_bad_filing_input_is_400_naming_each_field(filer, disputes_api):
    response = disputes_api(filer).post(
        API,
        {"id_type": "RIC", "subject_hash": "12", "grounds": "NOPE", "statement": "x", "colour": "red"},
        format="json",
    )

    error = error_of(response, 400, "validation_error")
    assert {"colour"} <= set(error["details"])


def test_a_respondent_sees_only_its_own_item_and_answers_it(member, other_member, filer, listed, disputes_api):
    dispute = file(filer, listed)
    client = disputes_api(member)

    body = client.get(f"{API}/{dispute.pk}").json()
    assert body["role"] == "respondent"
    assert [i["id"] for i in body["items"]] == [item_of(dispute, member).pk]
    assert body["items"][0]["addressed_to_you"] is True
    assert body["items"][0]["entry"]["reason"] == "SEVERE_OVERDUE"
    assert body["answerable_items"] == [item_of(dispute, member).pk]
    assert body["filer"] == {"kind": "member", "id": None, "name": None}

    response = client.post(
        f"{API}/{dispute.pk}/items/{item_of(dispute, member).pk}/respond",
        {"decision": "CONFIRM", "note": "Overdue since 2025; file attached to our case."},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["items"][0]["state"] == "CONFIRMED"


def test_answering_an_item_not_addressed_to_you_is_404(member, other_member, filer, listed, disputes_api):
    dispute = file(filer, listed)

    response = disputes_api(member).post(
        f"{API}/{dispute.pk}/items/{item_of(dispute, other_member).pk}/respond",
        {"decision": "WITHDRAW", "note": "x"},
        format="json",
    )

    error_of(response, 404, "not_found")
    assert item_of(dispute, other_member).state == DisputeItemState.OPEN


def test_an_answer_after_the_deadline_day_is_409(member, filer, listed, disputes_api):
    dispute = file(filer, listed)
    item = item_of(dispute, member)
    DisputeItem.objects.filter(pk=item.pk).update(deadline=datetime.date.today() - datetime.timedelta(days=2))

    response = disputes_api(member).post(
        f"{API}/{dispute.pk}/items/{item.pk}/respond", {"decision": "CONFIRM", "note": "late"}, format="json"
    )

    error_of(response, 409, "deadline_passed")


def test_a_correct_answer_takes_the_corrected_fields(member, filer, listed, disputes_api):
    dispute = file(filer, listed)
    item = item_of(dispute, member)

    response = disputes_api(member).post(
        f"{API}/{dispute.pk}/items/{item.pk}/respond",
        {"decision": "CORRECT", "note": "Wrong reason code.", "corrected": {"reason": "WRITE_OFF"}},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["items"][0]["corrected"] == {"reason": ["SEVERE_OVERDUE", "WRITE_OFF"]}


def test_another_members_dispute_is_404(region, member, filer, listed, disputes_api):
    from tests.factories import MemberFactory

    dispute = file(filer, listed)
    stranger = MemberFactory(region=region)

    error_of(disputes_api(stranger).get(f"{API}/{dispute.pk}"), 404, "not_found")
    assert disputes_api(stranger).get(API).json()["results"] == []


def test_lists_by_role(member, other_member, filer, listed, disputes_api):
    dispute = file(filer, listed)

    def ids(client, role=""):  # type: ignore[no-untyped-def]
        return [d["id"] for d in client.get(API + (f"?role={role}" if role else "")).json()["results"]]

    assert ids(disputes_api(filer), "filed") == [dispute.pk]
    assert ids(disputes_api(filer), "received") == []
    assert ids(disputes_api(member), "received") == [dispute.pk]
    assert ids(disputes_api(member), "filed") == []
    error_of(disputes_api(member).get(API + "?role=mine"), 400, "validation_error")


def test_the_list_costs_the_same_queries_for_one_or_many_disputes(region, member, filer, disputes_api):
    client = disputes_api(member)
    submit(member, subject("q0"))
    file(filer, subject("q0"))
    client.get(API)  # the key's first use records it; not part of the list's cost
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(API).json()["results"]) == 1
    for n in range(1, 6):
        submit(member, subject(f"q{n}"))
        file(filer, subject(f"q{n}"))
    with CaptureQueriesContext(connection) as six:
        assert len(client.get(API).json()["results"]) == 6

    assert len(six) == len(one)


def test_escalation_and_arbitration_through_the_api(
    region, member, other_member, filer, listed, disputes_api, key_client
):
    dispute = file(filer, listed)
    answer(dispute, member, "CONFIRM")
    answer(dispute, other_member, "WITHDRAW")
    operator = key_client(region.operator, role="OPERATOR_ADMIN")
    regulator = key_client(region.operator, role="REGULATOR")

    response = disputes_api(filer).post(f"{API}/{dispute.pk}/escalate", {"reason": "Receipt attached."}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "ESCALATED"

    seen = operator.get(f"{API}/{dispute.pk}").json()
    assert seen["can_arbitrate"] is True
    assert {i["respondent"]["id"] for i in seen["items"]} == {member.pk, other_member.pk}
    decision = {
        "items": [{"item_id": item_of(dispute, member).pk, "decision": "REMOVE", "reason": "Receipt is genuine."}]
    }
    error_of(regulator.post(f"{API}/{dispute.pk}/arbitrate", decision, format="json"), 403, "permission_denied")
    error_of(
        disputes_api(member).post(f"{API}/{dispute.pk}/arbitrate", decision, format="json"), 403, "permission_denied"
    )

    response = operator.post(f"{API}/{dispute.pk}/arbitrate", decision, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "ARBITRATED"
    assert regulator.get(f"{API}/{dispute.pk}").json()["state"] == "ARBITRATED"


def test_escalation_outside_the_window_is_409(region, member, other_member, filer, listed, disputes_api):
    from registry.models import Dispute

    dispute = file(filer, listed)
    answer(dispute, member, "CONFIRM")
    answer(dispute, other_member, "CONFIRM")
    Dispute.objects.filter(pk=dispute.pk).update(resolved_on=datetime.date.today() - datetime.timedelta(days=40))

    error_of(
        disputes_api(filer).post(f"{API}/{dispute.pk}/escalate", {"reason": "late"}, format="json"),
        409,
        "escalation_window_closed",
    )


def test_the_disputes_scope_is_required(member, filer, listed, key_client):
    dispute = file(filer, listed)
    client = key_client(member, scopes=["lookup"])

    error_of(client.get(f"{API}/{dispute.pk}"), 403, "permission_denied")
    error_of(client.post(API, _file_body(listed), format="json"), 403, "permission_denied")


def test_a_viewer_reads_but_cannot_answer(member, filer, listed, user_with, session_client):
    dispute = file(filer, listed)
    client = session_client(user_with(member, "VIEWER"))

    assert client.get(f"{API}/{dispute.pk}").status_code == 200
    response = client.post(
        f"{API}/{dispute.pk}/items/{item_of(dispute, member).pk}/respond",
        {"decision": "CONFIRM", "note": "x"},
        format="json",
    )
    assert response.status_code == 403
