"""The tamper-evident audit log (``concepts.md``): a hash chain that ``verify_audit_chain``
checks, and on PostgreSQL a table that refuses UPDATE and DELETE."""

from __future__ import annotations

import itertools
import json
import threading
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from core.audit import GENESIS_HASH, SystemActor, audit_record, audit_verify_chain
from core.models import AuditEvent
from lenders.actors import Actor
from lenders.services.regions import hash_key_rotate
from tests.factories import MemberFactory


def _verify() -> tuple[int, dict[str, object]]:
    """Run the command as an operator would; return its exit code and its JSON line."""
    out = StringIO()
    try:
        call_command("verify_audit_chain", stdout=out)
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return code, json.loads(out.getvalue().strip().splitlines()[-1])


def _tamper(sql: str, params: list[Any]) -> None:
    """A raw write behind the application's back. On PostgreSQL the append-only trigger is
    bypassed the way a superuser could, to prove that the chain still notices."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("RESET session_replication_role")


@pytest.fixture
def some_events(region) -> list[AuditEvent]:
    MemberFactory(region=region)
    MemberFactory(region=region)
    hash_key_rotate(region=region, actor=Actor.system("tests", region))
    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) >= 4
    return events


def test_events_form_a_chain_from_the_genesis_hash(some_events):
    assert some_events[0].prev_hash == GENESIS_HASH
    for previous, event in itertools.pairwise(some_events):
        assert event.prev_hash == previous.hash


def test_verify_audit_chain_reports_a_clean_log_and_exits_0(some_events):
    code, result = _verify()
    assert code == 0
    assert result == {"events": len(some_events), "ok": True, "first_broken_id": None}


def test_verify_audit_chain_on_an_empty_log_is_ok(db):
    assert _verify() == (0, {"events": 0, "ok": True, "first_broken_id": None})


def test_verify_audit_chain_finds_an_edited_details_field_and_exits_1(some_events):
    target = some_events[2]
    if connection.vendor == "postgresql":
        _tamper("UPDATE core_auditevent SET details = '{\"tampered\": true}'::jsonb WHERE id = %s", [target.id])
    else:
        _tamper("UPDATE core_auditevent SET details = '{\"tampered\": true}' WHERE id = %s", [target.id])
    code, result = _verify()
    assert code == 1
    assert result == {"events": len(some_events), "ok": False, "first_broken_id": target.id}


def test_verify_audit_chain_finds_an_edited_actor(some_events):
    target = some_events[1]
    _tamper("UPDATE core_auditevent SET actor_label = 'system:someone-else' WHERE id = %s", [target.id])
    assert audit_verify_chain().first_broken_id == target.id


def test_verify_audit_chain_finds_a_deleted_middle_row(some_events):
    deleted, following = some_events[1], some_events[2]
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [deleted.id])
    code, result = _verify()
    assert code == 1
    assert result == {"events": len(some_events) - 1, "ok": False, "first_broken_id": following.id}


def test_verify_audit_chain_finds_a_rewritten_chain_link(some_events):
    target = some_events[-1]
    _tamper("UPDATE core_auditevent SET prev_hash = %s WHERE id = %s", [GENESIS_HASH, target.id])
    assert audit_verify_chain().first_broken_id == target.id


def test_new_events_after_a_clean_verification_keep_the_chain_valid(some_events):
    audit_record(actor=SystemActor(label="tests"), action="test.later", details={"n": 1})
    assert audit_verify_chain().ok


@pytest.mark.parametrize("name", ["password", "key", "key_b64", "secret", "token", "raw_id", "Password"])
def test_audit_record_refuses_details_that_would_carry_a_secret(db, name):
    with pytest.raises(ValueError, match="secrets"):
        audit_record(actor=SystemActor(label="tests"), action="test.secret", details={name: "x"})
    assert not AuditEvent.objects.exists()


def test_audit_details_are_stored_as_json_of_plain_values(db):
    import datetime
    from decimal import Decimal

    event = audit_record(
        actor=SystemActor(label="tests"),
        action="test.values",
        details={"weight": Decimal("0.500"), "day": datetime.date(2026, 3, 1), "nested": {"b": 1, "a": [1, 2]}},
    )
    event.refresh_from_db()
    assert event.details == {"weight": "0.500", "day": "2026-03-01", "nested": {"a": [1, 2], "b": 1}}
    assert audit_verify_chain().ok


# -- PostgreSQL refuses changes to the log itself ------------------------------------------


def test_postgres_refuses_a_raw_update_of_an_audit_event(postgres_only, some_events):
    target = some_events[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE core_auditevent SET actor_label = 'forged' WHERE id = %s", [target.id])
    assert AuditEvent.objects.get(pk=target.pk).actor_label == target.actor_label


def test_postgres_refuses_a_raw_delete_of_an_audit_event(postgres_only, some_events):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [some_events[1].id])
    assert AuditEvent.objects.count() == len(some_events)


def test_postgres_refuses_an_orm_update_and_delete_of_audit_events(postgres_only, some_events):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=some_events[0].pk).update(details={})
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert audit_verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_postgres_concurrent_writers_never_fork_the_chain(postgres_only):
    errors: list[BaseException] = []

    def write(name: str) -> None:
        try:
            for n in range(15):
                with transaction.atomic():
                    audit_record(actor=SystemActor(label=name), action="test.concurrent", details={"n": n})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(f"writer-{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = audit_verify_chain()
    assert (report.events, report.ok) == (45, True)
