"""Structured logs: one JSON object per line, for a log shipper to read without parsing text.

Every line carries the time (UTC), level, logger, message and the request id of the web
request or Celery task it belongs to (``core.request_context``), plus the structured fields a
caller passes as ``extra={"http": {...}}`` or ``extra={"task": {...}}``.

Secrets never reach a line: the deployment's own secrets (``SECRET_KEY``,
``KEY_ENCRYPTION_SECRET``, ``METRICS_TOKEN``) and anything written after ``Api-Key`` or
``Bearer`` are replaced before the line is written, as a net under the rule that code never
logs them in the first place.

This module imports nothing from Django at load time: gunicorn's own logging uses it before
the project is loaded.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from typing import Any

_CREDENTIAL = re.compile(r"(?i)\b(api-key|bearer)(\s+)[^\s,;\"']+")
_STRUCTURED_FIELDS = ("http", "task", "event")
_SECRET_SETTINGS = ("SECRET_KEY", "KEY_ENCRYPTION_SECRET", "METRICS_TOKEN")


def _deployment_secrets() -> list[str]:
    try:
        from django.conf import settings

        if not settings.configured:
            return []
        values: list[str] = []
        for name in _SECRET_SETTINGS:
            value = getattr(settings, name, "") or ""
            values += [part for part in str(value).split(",") if len(part) >= 8]
        return values
    except Exception:  # logging must never fail because settings cannot be read
        return []


def redact(text: str, secrets: list[str] | None = None) -> str:
    """``text`` without credentials: API keys and bearer tokens, and the given secrets."""
    text = _CREDENTIAL.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    for secret in secrets if secrets is not None else _deployment_secrets():
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return text


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON (``ensure_ascii=False``: Chinese stays readable)."""

    def format(self, record: logging.LogRecord) -> str:
        created = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC)
        line: dict[str, Any] = {
            "ts": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _request_id(),
        }
        for name in _STRUCTURED_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return redact(json.dumps(line, ensure_ascii=False, default=str))


def _request_id() -> str:
    from core.request_context import current_request_context

    ctx = current_request_context()
    return ctx.request_id if ctx else "-"
