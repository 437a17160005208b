"""A one-line progress bar with an ETA, for batch grading (written to stderr).

On a terminal the line is redrawn in place; in a log (CI, Slurm) a line is printed
every `every` seconds and at the end, so logs stay short.
"""

from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    """Progress of `total` items.

    Args:
        total: items to do.
        stream: where to write (stderr by default).
        every: seconds between lines when `stream` is not a terminal.
    """

    def __init__(self, total: int, stream=None, every: float = 10.0, width: int = 28):
        self.total = total
        self.stream = stream or sys.stderr
        self.every = every
        self.width = width
        self.done = 0
        self.start = time.monotonic()
        self._last = -1e9
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def line(self, now: float | None = None) -> str:
        """`[#########...........]  12/40  2.4/s  ETA 0:00:11`"""
        now = time.monotonic() if now is None else now
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        filled = int(self.width * self.done / self.total) if self.total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        eta = _clock((self.total - self.done) / rate) if rate > 0 else "?"
        return f"[{bar}] {self.done}/{self.total}  {rate:.1f}/s  ETA {eta}"

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self._tty:
            self.stream.write("\r" + self.line(now))
            self.stream.flush()
        elif now - self._last >= self.every or self.done >= self.total:
            self._last = now
            self.stream.write(self.line(now) + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()
