from __future__ import annotations

from typing import Any


def drop_slashed_twins(endpoints: list[tuple[str, Any, str, Any]], **kwargs: Any) -> list[tuple[str, Any, str, Any]]:
    """drf-spectacular preprocessing hook: document each API path once, without the slash."""
    return [endpoint for endpoint in endpoints if not endpoint[0].endswith("/")]


# Every refusal of the API has one shape (core/errors.py, api.md); the schema says which
# statuses any operation may answer with it, so that clients and the fuzzing test
# (tests/security/test_schema_fuzz.py) know every answer.
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": True},
            },
        }
    },
}
_ERRORS = {
    "400": "The request is malformed or breaks a rule (validation_error and others).",
    "401": "No API key or session, or the key is invalid, revoked or expired.",
    "403": "The caller's role or key scopes do not allow this.",
    "404": "No such object, or it belongs to another member.",
    "429": "Too many requests: the region's limit for this key, or too many failed keys from this address.",
    "503": "The database or the broker is briefly unavailable.",
}
_BODY_ERRORS = {
    "409": "The object's state does not allow the action.",
    "413": "The request body is larger than this endpoint accepts.",
    "415": "The request body's media type is not one this endpoint accepts.",
}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}}


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the error shape as a component, and the error
    statuses on every operation that does not document them itself."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = _ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            errors = dict(_ERRORS)
            if method in ("post", "put", "patch"):
                errors.update(_BODY_ERRORS)
            for status, description in errors.items():
                response: dict[str, Any] = {
                    "description": description,
                    "content": {"application/json": {"schema": ref}},
                }
                if status in ("429", "503"):
                    response["headers"] = _RETRY_AFTER
                operation["responses"].setdefault(status, response)
    return result
