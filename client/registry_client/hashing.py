"""Canonicalisation of identity numbers and their keyed hash (spec: ``hashing.md``).

This is the project's one Python implementation: the lender client, the server and the
tests all import it. A raw number that fails a rule is refused with ``InvalidIdentifier``,
whose ``rule`` is a stable code and whose message says what is wrong; it is never hashed
"as is".
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumValidationError

ID_TYPES = ("RIC", "USCC", "MOBILE")
ALGORITHM = "HMAC-SHA256"
KEY_BYTES = 32

_SEPARATORS = re.compile(r"[\s\-]+")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_RIC_BODY = re.compile(r"[0-9]{17}[0-9X]")


class InvalidIdentifier(ValueError):
    """A raw identity number that does not satisfy the rules of its type."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def _cleaned(raw: str) -> str:
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()


def _canonical_ric(number: str, today: datetime.date) -> str:
    if len(number) == 15 and number.isdecimal():
        body = number[:6] + "19" + number[6:]
        number = body + ric.calc_check_digit(body + "0")
    if len(number) != 18:
        raise InvalidIdentifier("length", f"a resident ID has 18 characters (or 15 digits), not {len(number)}")
    if not _RIC_BODY.fullmatch(number):
        raise InvalidIdentifier("format", "a resident ID is 17 digits followed by a digit or X")
    try:
        birth = ric.get_birth_date(number)
    except StdnumValidationError:
        raise InvalidIdentifier("birth_date", "characters 7 to 14 of this resident ID are not a real date") from None
    if birth > today:
        raise InvalidIdentifier("birth_date", "the birth date of this resident ID is in the future")
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidIdentifier("checksum", "the check digit of this resident ID is wrong")
    return number


def _canonical_uscc(number: str) -> str:
    if len(number) != 18:
        raise InvalidIdentifier("length", f"a unified social credit code has 18 characters, not {len(number)}")
    try:
        return str(uscc.validate(number))
    except StdnumValidationError as exc:
        rule = {"InvalidChecksum": "checksum"}.get(type(exc).__name__, "format")
        message = (
            "the check character of this unified social credit code is wrong"
            if rule == "checksum"
            else "this is not a valid unified social credit code (characters 0-9, A-H, J-N, P, Q, R, T, U, W, X, Y)"
        )
        raise InvalidIdentifier(rule, message) from None


def _canonical_mobile(number: str) -> str:
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            number = number[len(prefix) :]
            break
    if not _MOBILE.fullmatch(number):
        raise InvalidIdentifier("format", "a mobile number is 11 digits starting with 13 to 19 (+86 or 0086 allowed)")
    return number


def canonicalise(id_type: str, raw: str, *, today: datetime.date | None = None) -> str:
    """Return the canonical form of ``raw`` for ``id_type`` or raise ``InvalidIdentifier``."""
    if id_type not in ID_TYPES:
        raise InvalidIdentifier("id_type", f"unknown id_type {id_type!r}; use one of {', '.join(ID_TYPES)}")
    number = _cleaned(raw)
    if not number:
        raise InvalidIdentifier("empty", "the identity number is empty")
    if id_type == "RIC":
        return _canonical_ric(number, today or datetime.date.today())
    if id_type == "USCC":
        return _canonical_uscc(number)
    return _canonical_mobile(number)


def subject_hash(key: bytes, id_type: str, canonical: str) -> str:
    """The lowercase hex HMAC-SHA256 of ``id_type:canonical`` under the region key."""
    return hmac.new(key, f"{id_type}:{canonical}".encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class HashedIdentifier:
    id_type: str
    canonical: str
    subject_hash: str


class SubjectHasher:
    """Hashes many numbers under one key, reusing a pre-keyed HMAC state (about twice as fast)."""

    def __init__(self, key: bytes, key_id: str) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a region hash key is {KEY_BYTES} bytes, not {len(key)}")
        self.key_id = key_id
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def hash_canonical(self, id_type: str, canonical: str) -> str:
        mac = self._keyed.copy()
        mac.update(f"{id_type}:{canonical}".encode("ascii"))
        return mac.hexdigest()

    def hash(self, id_type: str, raw: str, *, today: datetime.date | None = None) -> HashedIdentifier:
        canonical = canonicalise(id_type, raw, today=today)
        return HashedIdentifier(id_type, canonical, self.hash_canonical(id_type, canonical))
