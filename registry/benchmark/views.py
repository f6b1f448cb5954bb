"""The lookup ceiling of ``quality.md``: a plain Django view doing one raw-cursor lookup of the
same consensus row the lookup endpoint reads, with no authentication, throttling or record."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse

CEILING_COLUMNS = (
    "status",
    "black_score",
    "black_members",
    "white_members",
    "n_fraud",
    "n_court_enforced",
    "n_write_off",
    "n_severe_overdue",
    "n_other_black",
    "n_good_repayment",
    "n_long_term_client",
    "n_verified_business",
    "latest_black_event_date",
    "conflict",
    "disputed",
    "valid_until",
    "updated_at",
)
_SQL = (
    f"SELECT {', '.join(CEILING_COLUMNS)} FROM registry_consensusrecord"  # noqa: S608 (constant column names)
    " WHERE hash_key_id = %s AND id_type = %s AND subject_hash = %s"
)


def ceiling_lookup(request: HttpRequest, hash_key_id: int, id_type: str, subject_hash: str) -> JsonResponse:
    try:
        subject = bytes.fromhex(subject_hash)
    except ValueError:
        return JsonResponse({"error": "subject_hash must be hexadecimal"}, status=400)
    with connection.cursor() as cursor:
        cursor.execute(_SQL, [hash_key_id, id_type, subject])
        row = cursor.fetchone()
    body = dict(zip(CEILING_COLUMNS, row, strict=True)) if row else {"status": "CLEAR"}
    return JsonResponse({"id_type": id_type, "subject_hash": subject_hash, **body})
