"""Demo data of the registry for ``load_demo``: realistic, deterministic entries of several
members over subjects whose raw identity numbers are known, so a person trying the portal
can type one in and see a real consensus; and a few uploads, so that the uploads pages show
real history (an applied nightly file, one with a few invalid rows skipped, one refused)."""

from __future__ import annotations

import datetime
import random
import zlib
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from stdnum.cn import ric

from core.errors import Conflict
from lenders.actors import Actor
from lenders.key_encryption import decrypt_key
from lenders.models import ApiKey, Member, Region, User
from lenders.permissions import Perm
from registry.choices import UPLOAD_TERMINAL_STATES, ErrorPolicy, UploadMode, UploadState
from registry.generation import EntryRowGenerator, region_hasher, write_csv
from registry.models import Dispute, Upload
from registry.services.entries import entry_submit
from registry.uploads import receiving
from registry.uploads.services import upload_process, upload_receive
from registry_client.hashing import SubjectHasher


def with_check_digit(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


# Raw numbers shown in the README; the first two are numbers of the spec's test vectors.
SHOWCASE = [
    # (raw resident ID, [(member index, list, reason, event date)], what the consensus shows)
    (
        "360426199101010071",
        [(0, "BLACK", "SEVERE_OVERDUE", "2026-03-01"), (1, "BLACK", "SEVERE_OVERDUE", "2026-02-11")],
        "BLACK 84",
    ),
    ("11010519491231002X", [(0, "BLACK", "FRAUD", "2025-09-14")], "WATCH 100"),
    (with_check_digit("44030519880715001"), [(2, "BLACK", "COURT_ENFORCED", "2025-12-02")], "BLACK (decisive)"),
    (
        with_check_digit("44030319900228002"),
        [(0, "WHITE", "GOOD_REPAYMENT", "2026-05-20"), (1, "WHITE", "LONG_TERM_CLIENT", "2025-11-03")],
        "WHITE",
    ),
    (
        with_check_digit("44030419851212003"),
        [(1, "BLACK", "WRITE_OFF", "2025-04-18"), (2, "WHITE", "GOOD_REPAYMENT", "2026-01-09")],
        "WATCH, conflict",
    ),
]
REASONS = {
    "BLACK": [("SEVERE_OVERDUE", 50), ("WRITE_OFF", 20), ("FRAUD", 12), ("OTHER_BLACK", 12), ("COURT_ENFORCED", 6)],
    "WHITE": [("GOOD_REPAYMENT", 60), ("LONG_TERM_CLIENT", 30), ("VERIFIED_BUSINESS", 10)],
}
AREAS = ["440300", "440303", "440304", "440305", "440306", "440307", "360426", "110105", "430102", "450103"]


@dataclass(frozen=True)
class DemoRow:
    member: int
    raw: str
    list: str
    reason: str
    event_date: str


def valid_ric(rng: random.Random) -> str:
    birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 42))
    body = f"{rng.choice(AREAS)}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return with_check_digit(body)


def _rows(members: int, subjects: int = 240, seed: int = 20261126) -> list[DemoRow]:
    rng = random.Random(seed)
    rows = [DemoRow(m, raw, lst, reason, day) for raw, entries, _ in SHOWCASE for m, lst, reason, day in entries]
    # Event dates inside retention (black 5 years, white 3) and not in the future.
    windows = {"BLACK": (datetime.date(2023, 1, 1), 1270), "WHITE": (datetime.date(2024, 6, 1), 790)}
    for _ in range(subjects):
        raw = valid_ric(rng)
        holders = rng.sample(range(members), k=min(members, rng.choices([1, 2, 3], weights=[70, 22, 8])[0]))
        list_kind = "BLACK" if rng.random() < 0.8 else "WHITE"
        for member in holders:
            codes, weights = zip(*REASONS[list_kind], strict=True)
            reason = rng.choices(codes, weights=weights)[0]
            start, span = windows[list_kind]
            day = start + datetime.timedelta(days=rng.randrange(0, span))
            rows.append(DemoRow(member, raw, list_kind, reason, day.isoformat()))
    return rows


def load_demo_entries(*, region: Region, members: list[Member]) -> dict[str, int]:
    """Submit the demo entries through the entry service (idempotent: unchanged on a rerun)."""
    key = region.current_hash_key
    hasher = SubjectHasher(decrypt_key(key.encrypted_key), key.key_id)
    counts: dict[str, int] = {}
    actors = {i: Actor(region=region, member=m, permissions=frozenset(Perm)) for i, m in enumerate(members)}
    for row in _rows(len(members)):
        hashed = hasher.hash("RIC", row.raw)
        try:
            outcome = entry_submit(
                actor=actors[row.member],
                data={
                    "id_type": "RIC",
                    "subject_hash": hashed.subject_hash,
                    "list": row.list,
                    "reason": row.reason,
                    "event_date": row.event_date,
                    "reference": f"DEMO-{zlib.crc32(row.raw.encode()) % 100000:05d}",
                },
            )
        except Conflict as refused:
            # A demo dispute removed this entry (load_demo_disputes): on a rerun it stays removed.
            if refused.code != "relist_blocked":
                raise
            counts["relist_blocked"] = counts.get("relist_blocked", 0) + 1
            continue
        counts[outcome.result] = counts.get(outcome.result, 0) + 1
    return counts


# -- uploads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUpload:
    member: int
    file_name: str
    rows: int
    errors: int  # rows with one deliberate error each (registry.generation.ERROR_KINDS in turn)
    error_policy: str
    seed: int
    expected: str  # the state the upload must end in


DEMO_UPLOADS = [
    DemoUpload(0, "qianhai-nightly-demo.csv", 300, 0, ErrorPolicy.REJECT_FILE, 20261127, UploadState.SUCCEEDED),
    DemoUpload(
        0, "qianhai-corrections-demo.csv", 40, 3, ErrorPolicy.SKIP_INVALID_ROWS, 20261128, UploadState.SUCCEEDED
    ),
    DemoUpload(1, "nanshan-nightly-demo.csv", 150, 5, ErrorPolicy.REJECT_FILE, 20261129, UploadState.REJECTED),
]


def _sender(member: Member) -> Actor | None:
    """Who sends the member's demo files: its nightly job's API key (upload scope) if it has
    one, else the first of its staff who may upload."""
    for key in ApiKey.objects.filter(member=member, revoked_at__isnull=True).order_by("pk"):
        actor = Actor.for_api_key(key)
        if actor.can(Perm.UPLOAD):
            return actor
    for user in User.objects.filter(member=member, is_active=True).order_by("pk"):
        actor = Actor.for_user(user)
        if actor.can(Perm.UPLOAD):
            return actor
    return None


def _demo_file(region: Region, spec: DemoUpload) -> bytes:
    generator = EntryRowGenerator(
        hasher=region_hasher(region),
        today=timezone.localdate(),
        seed=spec.seed,
        black_retention_years=region.black_retention_years,
        white_retention_years=region.white_retention_years,
    )
    parts: list[str] = []
    write_csv(generator.rows(spec.rows, errors=spec.errors), parts.append)
    return "".join(parts).encode()


def load_demo_uploads(*, region: Region, members: list[Member]) -> list[dict[str, object]]:
    """Send the demo files through the upload service and process each at once, with the
    service the Celery task runs (no worker needed). Idempotent: a member's demo file already
    sent (found by its name, whatever became of it) is not sent again."""
    shown: list[dict[str, object]] = []
    for spec in DEMO_UPLOADS:
        if spec.member >= len(members):
            continue
        member = members[spec.member]
        upload = Upload.objects.of_member(member).filter(file_name=spec.file_name).order_by("-pk").first()
        if upload is None:
            sender = _sender(member)
            if sender is None:
                continue
            upload, _created = upload_receive(
                actor=sender,
                file=SimpleUploadedFile(spec.file_name, _demo_file(region, spec), content_type="text/csv"),
                mode=UploadMode.DELTA,
                error_policy=spec.error_policy,
            )
            stored = upload.file_path
            outcome = upload_process(upload_id=upload.pk)
            if outcome.state != spec.expected:
                raise RuntimeError(f"demo upload {spec.file_name} ended {outcome.state}, not {spec.expected}")
            if outcome.state in UPLOAD_TERMINAL_STATES:
                # The job deletes a finished upload's file once the transaction commits; delete it
                # now, so that nothing is left behind if load_demo's transaction is rolled back.
                receiving.discard(stored)
            upload.refresh_from_db()
        shown.append(
            {
                "member": member.pk,
                "file_name": upload.file_name,
                "upload": upload.pk,
                "state": upload.state,
                "rows": upload.rows_total,
                "invalid": upload.invalid,
            }
        )
    return shown


# -- disputes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoDispute:
    """A dispute on the first generated subject listed BLACK by exactly the ``respondents``."""

    respondents: tuple[int, ...]
    filer: int
    filed_days_ago: int
    grounds: str
    statement: str
    # (respondent, decision, note, days after filing) in order; then an escalation, if any.
    answers: tuple[tuple[int, str, str, int], ...]
    escalate_days_after_filing: int | None = None


DEMO_DISPUTES = [
    # Open, with days left: 南山 has confirmed, 前海 has still to answer (qh_analyst's inbox).
    DemoDispute(
        respondents=(0, 1),
        filer=2,
        filed_days_ago=6,
        grounds="NOT_ME",
        statement="申请人称身份证于2024年遗失，名下贷款系他人冒用办理，已提供派出所报案回执。",
        answers=((1, "CONFIRM", "核对借款合同与面签影像，借款人为本人，逾期属实。", 2),),
    ),
    # Resolved: 前海 withdrew its entry (removed; relisting blocked for 30 days).
    DemoDispute(
        respondents=(0,),
        filer=1,
        filed_days_ago=12,
        grounds="REPAID",
        statement="申请人称已于2025年12月结清全部欠款，附结清证明。",
        answers=((0, "WITHDRAW", "经核实已结清，系我司未及时更新名单，撤回该条目。", 3),),
    ),
    # Escalated: 南山 confirmed, 前海 (the filer) took it to the operator.
    DemoDispute(
        respondents=(1,),
        filer=0,
        filed_days_ago=25,
        grounds="WRONG_DETAILS",
        statement="申请人称逾期天数计算有误，实际逾期不足90天。",
        answers=((1, "CONFIRM", "系统记录逾期117天，维持原报送。", 4),),
        escalate_days_after_filing=17,
    ),
]


def _demo_dispute_subjects(members: int) -> list[str | None]:
    """The raw number each demo dispute is about: generated subjects, never a showcase one."""
    showcase = {raw for raw, _entries, _shows in SHOWCASE}
    black: dict[str, set[int]] = {}
    for row in _rows(members):
        if row.raw not in showcase:
            black.setdefault(row.raw, set())
            if row.list == "BLACK":
                black[row.raw].add(row.member)
    chosen: list[str | None] = []
    for spec in DEMO_DISPUTES:
        found = next(
            (raw for raw, holders in black.items() if holders == set(spec.respondents) and raw not in chosen), None
        )
        chosen.append(found)
    return chosen


def load_demo_disputes(*, region: Region, members: list[Member]) -> list[dict[str, object]]:
    """File and answer the demo disputes through the dispute services, dated in the past so that
    they show days left and an escalation. Idempotent: a subject that has a dispute is left alone."""
    from registry.services.disputes import dispute_escalate, dispute_file, dispute_item_respond

    if len(members) < 3:
        return []
    key = region.current_hash_key
    hasher = SubjectHasher(decrypt_key(key.encrypted_key), key.key_id)
    actors = [Actor(region=region, member=m, permissions=frozenset(Perm)) for m in members]
    today = timezone.localdate()
    shown: list[dict[str, object]] = []
    for spec, raw in zip(DEMO_DISPUTES, _demo_dispute_subjects(len(members)), strict=True):
        if raw is None:
            continue
        subject_hash = hasher.hash("RIC", raw).subject_hash
        dispute = Dispute.objects.filter(hash_key=key, id_type="RIC", subject_hash=bytes.fromhex(subject_hash)).first()
        if dispute is None:
            filed_on = today - datetime.timedelta(days=spec.filed_days_ago)
            dispute = dispute_file(
                actor=actors[spec.filer],
                id_type="RIC",
                subject_hash=subject_hash,
                grounds=spec.grounds,
                statement=spec.statement,
                consent_reference=f"DEMO-CONSENT-{zlib.crc32(raw.encode()) % 10000:04d}",
                today=filed_on,
            )
            for respondent, decision, note, after in spec.answers:
                item = dispute.items.get(respondent=members[respondent])
                dispute_item_respond(
                    actor=actors[respondent],
                    dispute_id=dispute.pk,
                    item_id=item.pk,
                    decision=decision,
                    note=note,
                    today=filed_on + datetime.timedelta(days=after),
                )
            if spec.escalate_days_after_filing is not None:
                dispute_escalate(
                    actor=actors[spec.filer],
                    dispute_id=dispute.pk,
                    reason="我司认为逾期天数应自宽限期届满起算，请运营方裁决。",
                    today=filed_on + datetime.timedelta(days=spec.escalate_days_after_filing),
                )
            dispute.refresh_from_db()
        shown.append({"dispute": dispute.pk, "state": dispute.state, "raw": raw, "filer": members[spec.filer].pk})
    return shown
