"""Assertions on the API's one error shape (``api.md``), shared by the API tests."""

from __future__ import annotations

import re
from typing import Any

# What an error response must never show: a stack trace, SQL, a file path of the code.
_LEAKS = re.compile(
    r"Traceback|File \"|\.py\"|\bSELECT\b|\bINSERT INTO\b|\bUPDATE \w+ SET\b|\bFROM core_|\bFROM lenders_"
)


def assert_no_leak(response: Any, *secrets: str) -> None:
    text = response.content.decode("utf-8", errors="replace")
    found = _LEAKS.search(text)
    assert found is None, f"the response leaks {found.group(0)!r}: {text[:500]}"
    for secret in secrets:
        assert secret not in text, "the response carries a secret"


def assert_error(response: Any, status: int, code: str, *secrets: str) -> dict[str, Any]:
    """The response is ``status`` in the shape ``{"error": {"code", "message", "details"}}``
    with ``code``; returns the ``error`` object for further checks."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    assert_no_leak(response, *secrets)
    return error
