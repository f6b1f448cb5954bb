"""Every vector of ``hash-vectors.json`` (copied beside this test from the spec), through the
one Python implementation that the client and the server share."""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path

import pytest

from registry_client.hashing import InvalidIdentifier, SubjectHasher, canonicalise, subject_hash

HERE = Path(__file__).parent
VECTORS = json.loads((HERE / "hash-vectors.json").read_text(encoding="utf-8"))
SPEC_VECTORS = HERE.parents[2] / "shared" / "spec" / "hash-vectors.json"
KEY = base64.b64decode(VECTORS["key_b64"])


@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: f"{v['id_type']}:{v['input']}")
def test_valid_vector_canonicalises_and_hashes_exactly(vector: dict[str, str]) -> None:
    canonical = canonicalise(vector["id_type"], vector["input"])
    assert canonical == vector["canonical"]
    assert subject_hash(KEY, vector["id_type"], canonical) == vector["subject_hash"]
    hashed = SubjectHasher(KEY, VECTORS["key_id"]).hash(vector["id_type"], vector["input"])
    assert hashed.subject_hash == vector["subject_hash"]


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: f"{v['id_type']}:{v['note']}")
def test_invalid_vector_is_refused_with_the_rule_it_breaks(vector: dict[str, str]) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        canonicalise(vector["id_type"], vector["input"])
    rules = {"checksum": "checksum", "birth date": "birth_date", "length": "length", "format": "format"}
    expected_rule = next(rule for note, rule in rules.items() if vector["note"].startswith(note))
    assert refused.value.rule == expected_rule
    assert refused.value.message


def test_birth_date_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        canonicalise("RIC", "360426199101010071", today=datetime.date(1990, 12, 31))
    assert refused.value.rule == "birth_date"


def test_unknown_area_code_is_still_accepted() -> None:
    # 990000 is no area code; the number is otherwise valid and must not be refused for it.
    body = "99000019900101001"
    from stdnum.cn import ric

    number = body + ric.calc_check_digit(body + "0")
    assert canonicalise("RIC", number) == number


def test_same_digits_under_two_types_never_collide() -> None:
    assert subject_hash(KEY, "RIC", "13800138000") != subject_hash(KEY, "MOBILE", "13800138000")


@pytest.mark.parametrize(
    ("id_type", "raw", "rule"),
    [
        ("RIC", "", "empty"),
        ("PASSPORT", "E12345678", "id_type"),
        ("USCC", "123", "length"),
        ("MOBILE", "+8612800138000", "format"),
    ],
)
def test_other_refusals_name_their_rule(id_type: str, raw: str, rule: str) -> None:
    with pytest.raises(InvalidIdentifier) as refused:
        canonicalise(id_type, raw)
    assert refused.value.rule == rule


@pytest.mark.skipif(not SPEC_VECTORS.exists(), reason="the spec folder is not beside this checkout")
def test_the_copied_vectors_are_the_spec_s_vectors() -> None:
    assert json.loads(SPEC_VECTORS.read_text(encoding="utf-8")) == VECTORS
