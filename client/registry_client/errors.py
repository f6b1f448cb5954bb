"""What the client refuses or fails at, with the exit code each one ends with (``commands.md``:
1 when what was asked cannot be done, 2 on bad arguments)."""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class ClientError(Exception):
    """A failure to report in plain words on standard error; ends the program with ``exit_code``."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(ClientError):
    """A bad argument or missing configuration."""

    exit_code = EXIT_USAGE


class NetworkError(ClientError):
    """The registry could not be reached, or the connection broke."""


class ApiError(ClientError):
    """The registry answered with an error (``api.md``'s shape, or something else at that URL)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None, *, hint: str = "") -> None:
        self.status = status
        self.code = code
        self.details = details if details is not None else {}
        self.hint = hint
        super().__init__(self._describe(message))
        self.api_message = message

    def _describe(self, message: str) -> str:
        lines = [f"The registry refused the request (HTTP {self.status}, {self.code}): {message}"]
        lines += [f"  {line}" for line in _detail_lines(self.details)]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


def _detail_lines(details: Any, path: tuple[str, ...] = ()) -> list[str]:
    """``{"file": ["required"], "subjects": {"3": ["bad"]}}`` as ``file: required``, ``subjects.3: bad``."""
    if isinstance(details, dict):
        return [line for key, value in details.items() for line in _detail_lines(value, (*path, str(key)))]
    if isinstance(details, list) and any(isinstance(item, (dict, list)) for item in details):
        return [line for index, item in enumerate(details) for line in _detail_lines(item, (*path, str(index)))]
    text = "; ".join(str(item) for item in details) if isinstance(details, list) else str(details or "")
    if not text:
        return []
    return [f"{'.'.join(path)}: {text}" if path else text]
