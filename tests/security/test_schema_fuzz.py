"""schemathesis fuzzes every operation of the OpenAPI schema (``/api/schema/``) in process,
with a member's key (every scope) and an operator's key, on bounded examples: no answer is a
5xx, and every answer (status code, content type, body, headers) is one the schema documents.

``SCHEMA_FUZZ_EXAMPLES`` sets the examples per operation and key (default 4; the whole file
stays under a minute). The seed is fixed so a failure reproduces; ``SCHEMA_FUZZ_SEED`` changes it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.factories import make_api_key
from tests.registry.helpers import new_member, new_region, subject, submit

EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "4"))
SEED = int(os.environ.get("SCHEMA_FUZZ_SEED", "20261126"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def keys(db: None) -> dict[str, str]:
    """A member's key with every scope and the operator's admin key, over a region with data."""
    region = new_region()
    member = new_member(region)
    other = new_member(region)
    for n in range(3):
        submit(member, subject(f"fuzz-{n}"))
        submit(other, subject(f"fuzz-{n}"), "WHITE", "GOOD_REPAYMENT")
    _key, member_secret = make_api_key(member, scopes=["lookup", "upload", "entries", "disputes"])
    _key, operator_secret = make_api_key(region.operator, role="OPERATOR_ADMIN")
    return {"member": member_secret, "operator": operator_secret}


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """schemathesis calls the WSGI app directly, whose request signals would close the test's
    database connection inside its transaction (Django's test client disconnects them too)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@seed(SEED)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.parametrize("who", ["member", "operator"])
def test_every_operation_answers_within_its_schema_and_never_5xx(case: Any, who: str, keys: dict[str, str]) -> None:
    cache.clear()  # the region's request limits would otherwise answer 429 after a few examples
    case.call_and_validate(headers={"Authorization": f"Api-Key {keys[who]}"}, checks=CHECKS)
