"""Realistic demo rows of a member's upload file (``csv.md``), for ``generate_entries_csv``,
the tests and the import benchmark.

Identity numbers are made valid by construction, never drawn from Faker (its zh_CN ``ssn()``
fails python-stdnum's checks two times in three): resident IDs with a real area code, a real
birth date of an adult borrower and the GB 11643 check digit; enterprise codes with the
GB 11714 organisation check character and the GB 32100 check character; mobile numbers on
real operator prefixes. Every number is hashed with the region's key through the one hashing
implementation (``registry_client.hashing``), so the file is what a member's client would send.

A file is determined by the seed, the region's key and retention and the day it is made.
"""

from __future__ import annotations

import csv
import datetime
import io
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from lenders.key_encryption import decrypt_key
from lenders.models import Region
from registry.services.entry_rules import add_years
from registry_client.hashing import SubjectHasher

COLUMNS = ("id_type", "subject_hash", "list", "reason", "event_date", "expires_on", "reference")

# Where borrowers of a Guangdong lender come from: mostly the province, many from the provinces
# that send it workers. (code, weight)
RIC_AREAS = [
    ("440303", 6), ("440304", 7), ("440305", 7), ("440306", 9), ("440307", 9), ("440308", 2),  # 深圳
    ("440103", 3), ("440104", 3), ("440105", 3), ("440106", 4), ("440111", 3),  # 广州
    ("441900", 4), ("440604", 3), ("441302", 2), ("440507", 2), ("445102", 2), ("440902", 2),  # 广东
    ("430102", 2), ("430104", 2), ("430521", 2), ("431021", 2),  # 湖南
    ("360426", 1), ("360102", 1), ("362101", 2),  # 江西
    ("450103", 2), ("452501", 1),  # 广西
    ("510104", 1), ("510107", 1), ("511623", 1),  # 四川
    ("410102", 1), ("411302", 1), ("420106", 1), ("420117", 1),  # 河南, 湖北
    ("350102", 1), ("350203", 1), ("500103", 1), ("522101", 1),  # 福建, 重庆, 贵州
    ("110105", 1), ("310115", 1),  # 北京, 上海
]  # fmt: skip
USCC_AREAS = ["440300", "440303", "440304", "440305", "440306", "440307", "440100", "440106", "441900", "440600"]
MOBILE_PREFIXES = [
    *(str(p) for p in range(130, 140)), "145", "147", "150", "151", "152", "153", "155", "156", "157", "158",
    "159", "166", "170", "171", "173", "175", "176", "177", "178", *(str(p) for p in range(180, 190)),
    "191", "193", "195", "196", "197", "198", "199",
]  # fmt: skip
ID_TYPE_SHARES = [("RIC", 85), ("USCC", 10), ("MOBILE", 5)]
BLACK_PERCENT = 85
# Plausible frequencies: most black listings are long overdue loans, few are court-enforced.
REASON_SHARES = {
    "BLACK": [("SEVERE_OVERDUE", 55), ("WRITE_OFF", 18), ("OTHER_BLACK", 12), ("FRAUD", 8), ("COURT_ENFORCED", 7)],
    "WHITE": [("GOOD_REPAYMENT", 60), ("LONG_TERM_CLIENT", 30), ("VERIFIED_BUSINESS", 10)],
}
EXPIRES_PERCENT = 5
REFERENCE_PERCENT = 80
BORROWER_AGES = (18, 70)
# Event dates stay this many days inside retention, so a file made today still imports next month.
RETENTION_MARGIN_DAYS = 31
COURTS = ["粤0303", "粤0304", "粤0305", "粤0306", "粤0307", "粤0308", "粤03", "粤0106", "粤1971"]
ERROR_KINDS = ("bad_hash", "future_date", "reason_not_for_list", "duplicate_subject", "bad_id_type")
BAD_ID_TYPES = ("PASSPORT", "IDCARD", "SFZ", "RID")

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "0123456789X"
_USCC_VALUE = {char: value for value, char in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_EVENT_MASK = 0x3FFF


def _wheel(shares: list[tuple[str, int]]) -> list[str]:
    """A list in which each value appears as often as its share: ``rng.choice`` on it is a weighted draw."""
    return [value for value, weight in shares for _ in range(weight)]


def organisation_check_char(body: str) -> str:
    """The GB 11714 check character of an 8-character organisation code body."""
    total = sum(int(char, 36) * weight for char, weight in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


class NumberGenerator:
    """Valid raw identity numbers of each type, already canonical (they pass
    ``registry_client.hashing.canonicalise`` unchanged). Fast: one draw of random bits per number."""

    def __init__(self, rng: random.Random, *, today: datetime.date) -> None:
        self._bits = rng.getrandbits
        self._areas = _wheel(RIC_AREAS)
        youngest, oldest = BORROWER_AGES
        first = add_years(today, -oldest - 1) + datetime.timedelta(days=1)
        last = add_years(today, -youngest)
        self._births = [f"{first + datetime.timedelta(days=d):%Y%m%d}" for d in range((last - first).days + 1)]
        self._sequences = [f"{n:03d}" for n in range(1000)]

    def ric(self) -> str:
        """A resident ID of an adult born on a real day, with the GB 11643 check digit."""
        bits = self._bits(64)
        areas, births = self._areas, self._births
        body = (
            areas[(bits & 0xFFFF) % len(areas)]
            + births[((bits >> 16) & 0xFFFFFF) % len(births)]
            + self._sequences[(bits >> 40) % 1000]
        )
        # stdnum's cn.ric.calc_check_digit, inlined: this is the hot path of a million-row file.
        return body + _RIC_CHECK[(1 - 2 * int(body, 13)) % 11]

    def uscc(self) -> str:
        """An enterprise code: 91/92/93, an area, an organisation code with its GB 11714 check
        character, and the GB 32100 check character."""
        bits = self._bits(96)
        kind = (bits & 0xFFFF) % 100
        # 91: enterprise, 92: individual business, 93: farmers' cooperative (all registered by 市场监管).
        prefix = "91" if kind < 80 else "92" if kind < 95 else "93"
        area = USCC_AREAS[((bits >> 16) & 0xFFFF) % len(USCC_AREAS)]
        bits >>= 32
        if bits % 100 < 65:  # codes issued since 2015 start with MA
            bits //= 100
            organisation = "MA"
            for _ in range(6):
                bits, index = divmod(bits, len(_USCC_ALPHABET))
                organisation += _USCC_ALPHABET[index]
        else:
            organisation = str(10_000_000 + (bits // 100) % 90_000_000)
        body = prefix + area + organisation + organisation_check_char(organisation)
        # stdnum's cn.uscc.calc_check_digit without its clean-up of the input (ours is clean).
        total = sum(_USCC_VALUE[char] * weight for char, weight in zip(body, _USCC_WEIGHTS, strict=True))
        return body + _USCC_ALPHABET[(31 - total) % 31]

    def mobile(self) -> str:
        """A mobile number on a real operator prefix."""
        bits = self._bits(48)
        return MOBILE_PREFIXES[(bits & 0xFFFF) % len(MOBILE_PREFIXES)] + f"{(bits >> 16) % 100_000_000:08d}"

    def number(self, id_type: str) -> str:
        if id_type == "RIC":
            return self.ric()
        if id_type == "USCC":
            return self.uscc()
        return self.mobile()


@dataclass(frozen=True)
class InjectedError:
    """A deliberate error: its physical line (the header is line 1), its kind and what it is."""

    line: int
    kind: str
    description: str


class GeneratedRow(NamedTuple):
    """One data row: its cells in ``COLUMNS`` order, the raw number it hashes (kept in memory
    for tests, never written) and the kind of deliberate error it carries, if any, with what
    is wrong (never showing the raw number)."""

    cells: tuple[str, str, str, str, str, str, str]
    raw: str
    error: str | None = None
    detail: str = ""


def _event_window(today: datetime.date, years: int) -> list[tuple[str, datetime.date]]:
    """Event days from today back to the earliest still ``RETENTION_MARGIN_DAYS`` inside retention,
    most recent first."""
    horizon = today + datetime.timedelta(days=RETENTION_MARGIN_DAYS)
    days = []
    day = today
    while add_years(day, years) > horizon:
        days.append((day.isoformat(), add_years(day, years)))
        day -= datetime.timedelta(days=1)
    return days


def _skewed(window: list[tuple[str, datetime.date]]) -> list[tuple[str, datetime.date]]:
    return [window[int(len(window) * (i / (_EVENT_MASK + 1)) ** 1.5)] for i in range(_EVENT_MASK + 1)]


class EntryRowGenerator:
    """Rows of one member's upload file: unique subjects, about 85% BLACK, reasons with plausible
    frequencies, event dates within retention (most of them recent) and never in the future,
    some ``expires_on``, references like loan contract and court case numbers."""

    def __init__(
        self,
        *,
        hasher: SubjectHasher,
        today: datetime.date,
        seed: int,
        black_retention_years: int = 5,
        white_retention_years: int = 3,
    ) -> None:
        self.hasher = hasher
        self.today = today
        self._rng = random.Random(seed)
        self._bits = self._rng.getrandbits
        self.numbers = NumberGenerator(self._rng, today=today)
        self._id_types = _wheel(ID_TYPE_SHARES)
        self._reasons = {kind: _wheel(shares) for kind, shares in REASON_SHARES.items()}
        # Recent events are more frequent than old ones: a table of event days drawn uniformly.
        self._events = {
            "BLACK": _skewed(_event_window(today, black_retention_years)),
            "WHITE": _skewed(_event_window(today, white_retention_years)),
        }
        self._seen: set[int] = set()
        self._reference_base = self._rng.randrange(10_000_000, 90_000_000)
        self._last_valid: tuple[int, GeneratedRow] | None = None

    def rows(self, count: int, *, errors: int = 0) -> Iterator[GeneratedRow]:
        """``count`` rows, ``errors`` of which carry one deliberate error each (see ``ERROR_KINDS``)."""
        if not 0 <= errors <= count:
            raise ValueError("errors must be between 0 and the number of rows")
        rng = self._rng
        kinds = [ERROR_KINDS[i % len(ERROR_KINDS)] for i in range(errors)]
        rng.shuffle(kinds)
        planned = dict(zip(sorted(rng.sample(range(count), errors)), kinds, strict=True))
        if not planned:
            for index in range(count):
                yield self.valid_row(index)
            return
        for index in range(count):
            kind = planned.get(index)
            if kind is None:
                row = self.valid_row(index)
                self._last_valid = (index, row)
            else:
                row = self.error_row(index, kind)
            yield row

    def _subject(self) -> tuple[str, str, str]:
        """A new (id_type, raw number, subject_hash), never one this generator made before."""
        id_types, numbers, hash_canonical, seen = self._id_types, self.numbers, self.hasher.hash_canonical, self._seen
        while True:
            id_type = id_types[self._bits(16) % len(id_types)]
            raw = numbers.ric() if id_type == "RIC" else numbers.number(id_type)
            # Numbers are generated canonical, so the hash of the raw number is the subject's.
            digest = hash_canonical(id_type, raw)
            # A 60-bit prefix is a compact and exact-enough key: a collision only means drawing again.
            marker = int(digest[:15], 16)
            if marker not in seen:
                seen.add(marker)
                return id_type, raw, digest

    def _listing(self, index: int) -> tuple[str, str, str, str, str]:
        """(list, reason, event_date, expires_on, reference) of a valid listing; one draw of
        random bits, cut in 16-bit fields."""
        bits = self._bits(128)
        list_kind = "BLACK" if (bits & 0xFFFF) % 100 < BLACK_PERCENT else "WHITE"
        reasons = self._reasons[list_kind]
        reason = reasons[((bits >> 16) & 0xFFFF) % len(reasons)]
        event_text, limit = self._events[list_kind][(bits >> 32) & _EVENT_MASK]
        expires_on = ""
        if ((bits >> 48) & 0xFFFF) % 100 < EXPIRES_PERCENT:
            room = (limit - self.today).days - RETENTION_MARGIN_DAYS
            if room > 0:
                offset = RETENTION_MARGIN_DAYS + ((bits >> 64) & 0xFFFF) % room
                expires_on = (self.today + datetime.timedelta(days=offset)).isoformat()
        reference = ""
        if ((bits >> 80) & 0xFFFF) % 100 < REFERENCE_PERCENT:
            bits >>= 96
            if reason == "COURT_ENFORCED":
                court = COURTS[(bits & 0xFF) % len(COURTS)]
                reference = f"({event_text[:4]}){court}执{1 + (bits >> 8) % 29999}号"
            elif bits & 0x100:
                reference = f"HT{event_text[:4]}{event_text[5:7]}{self._reference_base + index:08d}"
            else:
                reference = f"LN{self._reference_base + index:010d}"
        return list_kind, reason, event_text, expires_on, reference

    def valid_row(self, index: int) -> GeneratedRow:
        id_type, raw, digest = self._subject()
        # tuple.__new__ skips the named tuple's Python-level __new__: a million rows, a second saved.
        return tuple.__new__(GeneratedRow, ((id_type, digest, *self._listing(index)), raw, None, ""))

    def error_row(self, index: int, kind: str) -> GeneratedRow:
        rng = self._rng
        if kind == "duplicate_subject" and self._last_valid is None:
            kind = "bad_hash"  # nothing earlier to repeat
        if kind == "duplicate_subject":
            assert self._last_valid is not None
            earlier_index, earlier = self._last_valid
            cells = (earlier.cells[0], earlier.cells[1], *self._listing(index))
            return GeneratedRow(cells, earlier.raw, kind, f"repeats the subject of line {earlier_index + 2}")
        id_type, raw, digest = self._subject()
        list_kind, reason, event_text, expires_on, reference = self._listing(index)
        if kind == "bad_hash":
            if rng.randrange(2):
                digest = digest[:63]
                detail = "subject_hash has 63 characters, not 64"
            else:
                digest = digest[:40] + "g" + digest[41:]
                detail = "subject_hash has a character that is not hexadecimal"
        elif kind == "future_date":
            event_text = (self.today + datetime.timedelta(days=rng.randrange(1, 60))).isoformat()
            expires_on = ""
            detail = f"event_date {event_text} is in the future"
        elif kind == "reason_not_for_list":
            other = "WHITE" if list_kind == "BLACK" else "BLACK"
            reason = rng.choice(self._reasons[other])
            detail = f"reason {reason} is not valid for list {list_kind}"
        elif kind == "bad_id_type":
            id_type = rng.choice(BAD_ID_TYPES)
            detail = f"id_type {id_type} is not RIC, USCC or MOBILE"
        else:
            raise ValueError(f"unknown error kind {kind!r}")
        cells = (id_type, digest, list_kind, reason, event_text, expires_on, reference)
        return GeneratedRow(cells, raw, kind, detail)


def region_hasher(region: Region) -> SubjectHasher:
    """A hasher with the region's current key (decrypted in memory only)."""
    key = region.current_hash_key
    return SubjectHasher(decrypt_key(key.encrypted_key), key.key_id)


@dataclass(frozen=True)
class WrittenFile:
    rows: int
    errors: list[InjectedError]


def write_csv(rows: Iterable[GeneratedRow], write: Callable[[str], object], *, chunk_rows: int = 8192) -> WrittenFile:
    """Write the header and ``rows`` as CSV through ``write``, a chunk of rows at a time (the file
    is never held in memory); returns the row count and where the deliberate errors are."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    errors = []
    count = 0
    for row in rows:
        writer.writerow(row.cells)
        count += 1
        if row.error:
            errors.append(InjectedError(line=count + 1, kind=row.error, description=row.detail))
        if count % chunk_rows == 0:
            write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    write(buffer.getvalue())
    return WrittenFile(rows=count, errors=errors)
