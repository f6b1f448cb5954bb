"""A progress bar drawn by hand on standard error. On a terminal it redraws one line; in a log
(a nightly job's output) it writes a line only when the state changes or another tenth is done."""

from __future__ import annotations

import sys
from typing import TextIO

WIDTH = 30


class Progress:
    def __init__(self, stream: TextIO | None = None, *, unit: str = "rows") -> None:
        self._stream = stream or sys.stderr
        self._tty = bool(getattr(self._stream, "isatty", lambda: False)())
        self._unit = unit
        self._drawn = 0
        self._last_label: str | None = None
        self._last_tenth = -1

    def show(
        self, label: str, done: int | None = None, total: int | None = None, *, fraction: float | None = None
    ) -> None:
        """``done`` of ``total`` units, or a ``fraction`` (0 to 1) when the total is not known yet."""
        if done is not None and total:
            fraction = done / total
        if fraction is not None:
            fraction = min(max(fraction, 0.0), 1.0)
        if self._tty:
            self._draw(label, done, total, fraction)
            return
        tenth = int(fraction * 10) if fraction is not None else -1
        if label == self._last_label and tenth <= self._last_tenth:
            return
        self._last_label, self._last_tenth = label, tenth
        self._stream.write(self._text(label, done, total, fraction) + "\n")
        self._stream.flush()

    def close(self) -> None:
        """End the bar's line (on a terminal), so what follows starts on a line of its own."""
        if self._tty and self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = 0

    def _draw(self, label: str, done: int | None, total: int | None, fraction: float | None) -> None:
        text = self._text(label, done, total, fraction)
        padding = " " * max(self._drawn - len(text), 0)
        self._stream.write("\r" + text + padding)
        self._stream.flush()
        self._drawn = len(text)

    def _text(self, label: str, done: int | None, total: int | None, fraction: float | None) -> str:
        counted = f"{done:,}/{total:,} {self._unit}" if done is not None and total else ""
        if not counted and done:
            counted = f"{done:,} {self._unit}"
        if fraction is None:
            return f"{label} {counted}".rstrip()
        filled = round(fraction * WIDTH)
        bar = "#" * filled + "-" * (WIDTH - filled)
        return f"[{bar}] {fraction * 100:5.1f}%  {counted + '  ' if counted else ''}{label}"
