"""The shape every management command of ``commands.md`` shares: one JSON object as the last
line of standard output; exit 0 on success, 1 when the check fails or the action cannot be
done, 2 on bad arguments or out-of-range values."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rest_framework.utils.encoders import JSONEncoder

from core.errors import InvalidInput, ServiceError


class CheckFailed(Exception):
    """Raised by ``run`` to print its JSON result and then exit 1."""

    def __init__(self, result: dict[str, Any], message: str) -> None:
        super().__init__(message)
        self.result = result
        self.message = message


class JsonCommand(BaseCommand):
    """Subclasses implement ``run(**options) -> dict``; refusals become exit codes."""

    requires_system_checks: list[str] = []

    def run(self, **options: Any) -> dict[str, Any]:
        raise NotImplementedError

    def emit(self, result: dict[str, Any]) -> None:
        # The API's encoder, so a command prints values as the API shows them (decimals as numbers).
        self.stdout.write(json.dumps(result, ensure_ascii=False, cls=JSONEncoder))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = self.run(**options)
        except CheckFailed as failed:
            self.emit(failed.result)
            raise CommandError(failed.message, returncode=1) from None
        except InvalidInput as exc:
            raise CommandError(_describe(exc), returncode=2) from None
        except ServiceError as exc:
            raise CommandError(_describe(exc), returncode=1) from None
        self.emit(result)


def _describe(exc: ServiceError) -> str:
    parts = [exc.message]
    for field, messages in exc.details.items():
        text = "; ".join(str(m) for m in messages) if isinstance(messages, list) else str(messages)
        parts.append(f"{field}: {text}")
    return " ".join(parts)
