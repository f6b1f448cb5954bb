"""``generate_entries_csv`` (``commands.md``) and the generation it stands on: every row passes the
row rules of the upload pipeline, the hashes are of valid numbers under the region's key, the
deliberate errors are exactly the ones asked for, a seed makes the file reproducible."""

from __future__ import annotations

import csv
import datetime
import io
import json
import random
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from stdnum.cn import ric, uscc

from lenders.models import Member, Region
from registry.generation import COLUMNS, EntryRowGenerator, NumberGenerator, organisation_check_char, region_hasher
from registry.services.entry_rules import RowRules
from registry_client.hashing import canonicalise

pytestmark = pytest.mark.django_db


def generate(member: Member, rows: int, *options: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "generate_entries_csv", "--member", str(member.pk), "--rows", str(rows), *options, stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


def parse(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def refused_or_repeated(region: Region, rows: list[dict[str, str]]) -> list[int]:
    """The physical lines the upload pipeline would refuse: a row-rule error or a repeated subject."""
    rules = RowRules(region, timezone.localdate())
    seen: set[tuple[str, str]] = set()
    bad = []
    for line, row in enumerate(rows, start=2):
        _entry, errors = rules.check(row)
        subject = (row["id_type"].upper(), row["subject_hash"].lower())
        if errors or subject in seen:
            bad.append(line)
        seen.add(subject)
    return bad


def test_every_generated_row_passes_the_row_rules_of_the_upload_pipeline(member: Member) -> None:
    out, _err = generate(member, 2000, "--seed", "1")

    rows = parse(out)

    assert len(rows) == 2000
    assert refused_or_repeated(member.region, rows) == []


def test_rows_pass_the_rules_under_a_region_s_own_retention(member: Member) -> None:
    Region.objects.filter(pk=member.region_id).update(black_retention_years=2, white_retention_years=1)
    member.refresh_from_db()
    member.region.refresh_from_db()

    rows = parse(generate(member, 2000, "--seed", "2")[0])

    assert refused_or_repeated(member.region, rows) == []


def test_hashes_are_of_valid_numbers_under_the_region_s_current_key(member: Member) -> None:
    rows = parse(generate(member, 300, "--seed", "3")[0])
    hasher = region_hasher(member.region)
    # The same seed, key and day give the same numbers: hash them again through the client's code.
    again = EntryRowGenerator(hasher=hasher, today=timezone.localdate(), seed=3).rows(300)

    for row, generated in zip(rows, again, strict=True):
        canonical = canonicalise(row["id_type"], generated.raw)
        assert canonical == generated.raw
        assert hasher.hash(row["id_type"], generated.raw).subject_hash == row["subject_hash"]
        assert generated.raw not in row.values()


def test_hashes_are_64_hex_and_subjects_unique(member: Member) -> None:
    rows = parse(generate(member, 3000, "--seed", "4")[0])

    assert all(len(row["subject_hash"]) == 64 and int(row["subject_hash"], 16) >= 0 for row in rows)
    assert len({(row["id_type"], row["subject_hash"]) for row in rows}) == 3000


def test_the_mix_is_realistic(member: Member) -> None:
    rows = parse(generate(member, 4000, "--seed", "5")[0])
    today = timezone.localdate()

    lists = Counter(row["list"] for row in rows)
    assert 0.80 < lists["BLACK"] / len(rows) < 0.90
    assert set(Counter(row["id_type"] for row in rows)) == {"RIC", "USCC", "MOBILE"}
    reasons = Counter(row["reason"] for row in rows if row["list"] == "BLACK")
    assert reasons.most_common(1)[0][0] == "SEVERE_OVERDUE"
    assert len(reasons) == 5
    assert 0.01 < sum(1 for row in rows if row["expires_on"]) / len(rows) < 0.10
    assert all(datetime.date.fromisoformat(row["event_date"]) <= today for row in rows)
    assert sum(1 for row in rows if row["reference"]) > len(rows) / 2
    assert any("执" in row["reference"] for row in rows if row["reason"] == "COURT_ENFORCED")


@pytest.mark.parametrize("errors", [1, 5, 13])
def test_errors_k_gives_exactly_k_rows_the_pipeline_would_refuse(member: Member, errors: int) -> None:
    out, err = generate(member, 400, "--seed", "6", "--errors", str(errors))

    bad = refused_or_repeated(member.region, parse(out))

    assert len(bad) == errors
    for line in bad:
        assert f"  line {line}: " in err


def test_errors_of_every_kind_are_injected(member: Member) -> None:
    _out, err = generate(member, 100, "--seed", "7", "--errors", "10")

    for kind in ("bad_hash", "future_date", "reason_not_for_list", "duplicate_subject", "bad_id_type"):
        assert f"{kind} 2" in err


def test_one_row_with_one_error_is_still_one_refused_row(member: Member) -> None:
    out, _err = generate(member, 1, "--seed", "8", "--errors", "1")

    assert len(refused_or_repeated(member.region, parse(out))) == 1


def test_the_same_seed_gives_the_same_file(member: Member) -> None:
    first, _ = generate(member, 500, "--seed", "42", "--errors", "3")
    second, _ = generate(member, 500, "--seed", "42", "--errors", "3")
    other, _ = generate(member, 500, "--seed", "43", "--errors", "3")

    assert first == second
    assert first != other


def test_without_a_seed_the_seed_used_is_reported(member: Member) -> None:
    _out, err = generate(member, 5)

    assert "seed: " in err


def test_output_writes_the_file_and_prints_the_json_on_standard_error(member: Member, tmp_path: Path) -> None:
    path = tmp_path / "entries.csv"

    out, err = generate(member, 50, "--seed", "9", "--output", str(path))

    assert out == ""
    assert json.loads(err.strip().splitlines()[-1]) == {"rows": 50, "path": str(path)}
    assert len(parse(path.read_text(encoding="utf-8"))) == 50
    assert f"key_id: {member.region.current_hash_key.key_id}" in err


def test_without_output_the_data_is_standard_output_and_the_json_standard_error(member: Member) -> None:
    out, err = generate(member, 20, "--seed", "10")

    assert out.startswith(",".join(COLUMNS) + "\n")
    assert json.loads(err.strip().splitlines()[-1]) == {"rows": 20, "path": None}


@pytest.mark.parametrize(
    ("rows", "options"),
    [(0, []), (5, ["--errors", "6"]), (5, ["--errors", "-1"])],
)
def test_out_of_range_values_exit_2(member: Member, rows: int, options: list[str]) -> None:
    with pytest.raises(CommandError) as refused:
        generate(member, rows, *options)

    assert refused.value.returncode == 2


def test_an_unknown_member_exits_2(db: None) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("generate_entries_csv", "--member", "999999", "--rows", "1", stdout=io.StringIO())

    assert refused.value.returncode == 2


def test_an_unwritable_output_exits_1(member: Member, tmp_path: Path) -> None:
    with pytest.raises(CommandError) as refused:
        generate(member, 1, "--output", str(tmp_path / "missing-dir" / "x.csv"))

    assert refused.value.returncode == 1


def test_generated_numbers_are_valid_for_python_stdnum() -> None:
    numbers = NumberGenerator(random.Random(11), today=datetime.date(2026, 11, 26))
    for _ in range(3000):
        resident = numbers.ric()
        assert resident[-1] == ric.calc_check_digit(resident)
        born = ric.get_birth_date(resident)
        assert datetime.date(1955, 11, 26) < born <= datetime.date(2008, 11, 26)
        code = numbers.uscc()
        assert uscc.is_valid(code)
        assert code[16] == organisation_check_char(code[8:16])
        assert canonicalise("MOBILE", numbers.mobile())
