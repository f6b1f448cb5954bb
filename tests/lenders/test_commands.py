"""The management commands of ``commands.md``: one JSON object as the last line of standard
output; exit 0 on success, 1 when the action cannot be done or the check fails, 2 on bad
arguments or out-of-range values."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from core.models import AuditEvent
from lenders.models import ApiKey, HashKey, Member, Region, User
from tests.factories import valid_uscc

PROJECT_DIR = Path(settings.BASE_DIR)
STAFF_PASSWORD = "Correct-horse-battery-9"


def run(name: str, *args: str) -> tuple[int, dict[str, Any] | None, str]:
    """Call a command as the operator's shell would: exit code, its JSON line, its stderr."""
    out, err = StringIO(), StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    lines = out.getvalue().strip().splitlines()
    return code, (json.loads(lines[-1]) if lines else None), err.getvalue()


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


# -- create_region, rotate_hash_key ----------------------------------------------------------


def test_create_region_prints_code_name_and_first_key_id(db):
    code, result, _err = run("create_region", "--code", "sz", "--name", "深圳")
    assert code == 0
    region = Region.objects.get()
    assert result == {"code": "SZ", "name": "深圳", "key_id": region.current_hash_key.key_id}


@pytest.mark.parametrize("bad_code", ["1X", "S", "WAY_TOO_LONG_REGION_CODE"])
def test_create_region_with_a_bad_code_exits_2(db, bad_code):
    code, result, err = run("create_region", "--code", bad_code, "--name", "深圳")
    assert (code, result) == (2, None)
    assert "code" in err
    assert not Region.objects.exists()


def test_rotate_hash_key_prints_the_new_current_key(region):
    old = region.current_hash_key.key_id
    code, result, _err = run("rotate_hash_key", "--region", region.code)
    assert code == 0
    assert result == {"region": region.code, "key_id": region.current_hash_key.key_id}
    assert result["key_id"] != old
    assert HashKey.objects.filter(key_id=old).exists()


def test_rotate_hash_key_of_an_unknown_region_exits_2(db):
    assert run("rotate_hash_key", "--region", "NOPE")[0] == 2


# -- create_member, update_member ----------------------------------------------------------


def test_create_member_prints_id_name_and_region(region):
    code, result, _err = run("create_member", "--region", region.code, "--name", "前海小贷", "--uscc", valid_uscc(31))
    assert code == 0
    member = Member.objects.get()
    assert result == {"id": member.pk, "name": "前海小贷", "region": region.code}


def test_create_member_with_a_bad_uscc_exits_2(region):
    code, result, err = run("create_member", "--region", region.code, "--name", "前海小贷", "--uscc", "123")
    assert (code, result) == (2, None)
    assert "uscc" in err
    assert not Member.objects.exists()


def test_create_member_in_an_unknown_region_exits_2(db):
    assert run("create_member", "--region", "NOPE", "--name", "x", "--uscc", valid_uscc(32))[0] == 2


def test_update_member_prints_the_changed_member(member):
    code, result, _err = run(
        "update_member", "--member", str(member.pk), "--trust-weight", "0.5", "--excluded-from-consensus", "true"
    )
    assert code == 0
    assert result is not None
    assert (result["id"], result["trust_weight"], result["excluded_from_consensus"]) == (member.pk, 0.5, True)
    member.refresh_from_db()
    assert str(member.trust_weight) == "0.500"


def test_update_member_suspends(member):
    code, result, _err = run("update_member", "--member", str(member.pk), "--status", "SUSPENDED")
    assert code == 0 and result is not None
    assert result["status"] == "SUSPENDED"


@pytest.mark.parametrize("weight", ["1.5", "-0.1", "heavy", "NaN"])
def test_update_member_with_an_out_of_range_trust_weight_exits_2(member, weight):
    code, result, err = run("update_member", "--member", str(member.pk), "--trust-weight", weight)
    assert (code, result) == (2, None)
    assert "trust_weight" in err
    member.refresh_from_db()
    assert str(member.trust_weight) == "1.000"
    assert not AuditEvent.objects.filter(action="member.update").exists()


def test_update_member_of_an_unknown_member_exits_2(db):
    assert run("update_member", "--member", "999999", "--status", "ACTIVE")[0] == 2


# -- create_staff ----------------------------------------------------------------------------


def test_create_staff_of_a_member_prints_id_username_and_roles(member):
    code, result, _err = run(
        "create_staff",
        *("--org", str(member.pk), "--username", "qh_admin", "--password", STAFF_PASSWORD),
        *("--roles", "member_admin,ANALYST"),
    )
    assert code == 0
    user = User.objects.get(username="qh_admin")
    assert result == {"id": user.pk, "username": "qh_admin", "roles": ["ANALYST", "MEMBER_ADMIN"]}
    assert user.member == member


def test_create_staff_of_the_operator(region):
    code, result, _err = run(
        "create_staff",
        *("--org", f"operator:{region.code.lower()}", "--username", "regulator1", "--password", STAFF_PASSWORD),
        *("--roles", "REGULATOR"),
    )
    assert code == 0 and result is not None
    assert User.objects.get(pk=result["id"]).operator == region.operator


@pytest.mark.parametrize(
    ("org", "roles", "password"),
    [
        ("member", "OWNER", STAFF_PASSWORD),
        ("member", "OPERATOR_ADMIN", STAFF_PASSWORD),
        ("member", "ANALYST", "short"),
        ("nonsense", "ANALYST", STAFF_PASSWORD),
        ("999999", "ANALYST", STAFF_PASSWORD),
        ("operator:NOPE", "REGULATOR", STAFF_PASSWORD),
    ],
)
def test_create_staff_with_a_bad_argument_exits_2(member, org, roles, password):
    org = str(member.pk) if org == "member" else org
    code, result, _err = run(
        "create_staff", "--org", org, "--username", "someone", "--password", password, "--roles", roles
    )
    assert (code, result) == (2, None)
    assert not User.objects.filter(username="someone").exists()


def test_create_staff_never_prints_the_password(member):
    out, err = StringIO(), StringIO()
    call_command(
        "create_staff",
        *("--org", str(member.pk), "--username", "quiet", "--password", STAFF_PASSWORD, "--roles", "VIEWER"),
        stdout=out,
        stderr=err,
    )
    assert STAFF_PASSWORD not in out.getvalue() + err.getvalue()


# -- create_api_key --------------------------------------------------------------------------


def test_create_api_key_for_a_member_prints_a_key_that_works(member):
    code, result, _err = run(
        "create_api_key", "--org", str(member.pk), "--scopes", "lookup, upload", "--name", "nightly"
    )
    assert code == 0 and result is not None
    assert set(result) == {"id", "prefix", "key"}
    assert result["key"].startswith(result["prefix"] + ".")
    assert ApiKey.objects.get(prefix=result["prefix"]).scopes == ["lookup", "upload"]
    assert _client(result["key"]).get("/api/v1/region/hash-key").status_code == 200


def test_create_api_key_for_the_operator_acts_with_its_role(region, member):
    code, result, _err = run(
        "create_api_key", "--org", f"operator:{region.code}", "--role", "regulator", "--name", "exports"
    )
    assert code == 0 and result is not None
    client = _client(result["key"])
    assert client.get("/api/v1/members").status_code == 200
    assert client.patch(f"/api/v1/members/{member.pk}", {"status": "SUSPENDED"}, format="json").status_code == 403


def test_create_api_key_with_an_expiry_stores_it(member):
    code, result, _err = run(
        "create_api_key", "--org", str(member.pk), "--scopes", "lookup", "--name", "n", "--expires", "2099-12-31"
    )
    assert code == 0 and result is not None
    assert ApiKey.objects.get(prefix=result["prefix"]).expiry_date is not None


@pytest.mark.parametrize(
    "extra",
    [
        ["--scopes", "admin"],
        ["--scopes", "lookup", "--expires", "31/12/2099"],
        ["--scopes", "lookup", "--expires", "2000-01-01"],
        ["--role", "OPERATOR_ADMIN"],
    ],
)
def test_create_api_key_with_a_bad_argument_exits_2(member, extra):
    code, result, _err = run("create_api_key", "--org", str(member.pk), "--name", "n", *extra)
    assert (code, result) == (2, None)
    assert not ApiKey.objects.exists()


# -- load_demo -------------------------------------------------------------------------------


def _without_entry_counts(result: dict[str, Any] | None) -> dict[str, Any]:
    """load_demo also reports what it did to the demo entries (created, then unchanged)."""
    assert result is not None
    return {key: value for key, value in result.items() if key != "entries"}


def test_load_demo_run_twice_changes_nothing(db):
    first = run("load_demo")
    counts = (Member.objects.count(), User.objects.count(), ApiKey.objects.count(), HashKey.objects.count())
    events = AuditEvent.objects.count()
    second = run("load_demo")
    assert first[0] == second[0] == 0
    assert _without_entry_counts(first[1]) == _without_entry_counts(second[1])
    assert "created" not in (second[1] or {}).get("entries", {})
    assert (Member.objects.count(), User.objects.count(), ApiKey.objects.count(), HashKey.objects.count()) == counts
    assert counts[0] >= 2 and counts[2] >= 1
    assert AuditEvent.objects.count() == events
    assert run("verify_audit_chain")[:2] == (0, {"events": events, "ok": True, "first_broken_id": None})


@pytest.fixture
def people_and_keys_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip load_demo's registry data (its ``extend_demo`` hook): these tests are about the
    sign-ins and keys, and the demo entries take most of its time."""
    from registry.management.commands.load_demo import Command

    monkeypatch.setattr(Command, "extend_demo", lambda self, **kwargs: {})


def test_load_demo_sign_ins_cover_every_role(db, people_and_keys_only):
    _code, result, _err = run("load_demo")
    assert result is not None
    roles = {role for sign_in in result["sign_ins"] for role in sign_in["roles"]}
    assert roles == {"MEMBER_ADMIN", "ANALYST", "UPLOADER", "VIEWER", "OPERATOR_ADMIN", "REGULATOR"}
    for sign_in in result["sign_ins"]:
        assert User.objects.get(username=sign_in["username"]).check_password(sign_in["password"])


def test_load_demo_api_keys_work_against_the_api(db, people_and_keys_only):
    _code, result, _err = run("load_demo")
    assert result is not None
    for shown in result["api_keys"]:
        response = _client(shown["key"]).get("/api/v1/region")
        assert response.status_code == 200, shown["name"]
        assert response.json()["code"] == result["region"]


def test_load_demo_is_refused_in_production_with_exit_1(db, settings):
    settings.PRODUCTION = True
    code, result, err = run("load_demo")
    assert (code, result) == (1, None)
    assert "production" in err
    assert not Region.objects.exists()


# -- the same commands as separate processes: real exit codes --------------------------------


def _env(tmp_path: Path, database: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_NAME")}
    env.update(DJANGO_ENV="test", REGISTRY_VAR_DIR=str(tmp_path / "var"), PYTHONDONTWRITEBYTECODE="1")
    env["DATABASE_URL"] = f"sqlite:///{database or tmp_path / 'unused.sqlite3'}"
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def _last_json(process: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return json.loads(process.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ["create_member", "--region", "SZ", "--name", "x"],
        ["update_member", "--member", "not-a-number"],
        ["update_member", "--member", "1", "--status", "PAUSED"],
        ["create_api_key", "--org", "1", "--name", "n", "--scopes", "lookup", "--role", "REGULATOR"],
    ],
)
def test_argument_errors_exit_2_before_touching_the_database(tmp_path, args):
    process = manage(_env(tmp_path), *args)
    assert process.returncode == 2, process.stderr
    assert "error:" in process.stderr
    assert process.stdout == ""


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated SQLite file, made once and copied for each test that needs one."""
    directory = tmp_path_factory.mktemp("commands-db")
    database = directory / "template.sqlite3"
    process = manage(_env(directory, database), "migrate", "--noinput", "-v", "0")
    assert process.returncode == 0, process.stderr
    return database


@pytest.fixture
def process_env(tmp_path: Path, migrated_database: Path) -> dict[str, str]:
    database = tmp_path / "registry.sqlite3"
    shutil.copy(migrated_database, database)
    return _env(tmp_path, database)


def test_commands_in_separate_processes_exit_0_2_and_1(process_env):
    region = manage(process_env, "create_region", "--code", "SZ", "--name", "深圳")
    assert region.returncode == 0, region.stderr
    assert _last_json(region)["code"] == "SZ"

    bad_uscc = manage(process_env, "create_member", "--region", "SZ", "--name", "x", "--uscc", "123")
    assert bad_uscc.returncode == 2
    assert "uscc" in bad_uscc.stderr and bad_uscc.stdout == ""

    member = manage(process_env, "create_member", "--region", "SZ", "--name", "前海小贷", "--uscc", valid_uscc(5))
    assert member.returncode == 0, member.stderr
    member_id = str(_last_json(member)["id"])

    out_of_range = manage(process_env, "update_member", "--member", member_id, "--trust-weight", "1.5")
    assert out_of_range.returncode == 2
    assert "trust_weight" in out_of_range.stderr

    verified = manage(process_env, "verify_audit_chain")
    assert verified.returncode == 0
    assert _last_json(verified) == {"events": 2, "ok": True, "first_broken_id": None}


def test_verify_audit_chain_in_a_separate_process_exits_1_on_a_tampered_log(process_env):
    assert manage(process_env, "create_region", "--code", "SZ", "--name", "深圳").returncode == 0
    database = process_env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        first_id = connection.execute("SELECT MIN(id) FROM core_auditevent").fetchone()[0]
        connection.execute("UPDATE core_auditevent SET details = '{}' WHERE id = ?", [first_id])
    process = manage(process_env, "verify_audit_chain")
    assert process.returncode == 1
    assert _last_json(process) == {"events": 1, "ok": False, "first_broken_id": first_id}
    assert str(first_id) in process.stderr
