"""Text and numbers from a submission, made safe to write anywhere.

Everything a submission can influence (exception messages, names, problems, training
histories) passes through here before a writer sees it: the text becomes valid UTF-8
(lone surrogates and undecodable bytes replaced), without control or bidirectional
override characters, and bounded in length; numbers become finite floats; a training
history keeps a bounded number of series and points. Writers still escape for their
format (HTML, CSV, JSON); `csv_cell` also defuses spreadsheet formulas.
"""

from __future__ import annotations

import dataclasses
import math
import re

MAX_TEXT = 20_000
MAX_SERIES = 12
MAX_POINTS = 2_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def text(value, limit: int = MAX_TEXT) -> str:
    """`value` as printable, valid UTF-8 text of at most `limit` characters (and a note of the rest)."""
    try:
        s = value if type(value) is str else str(value)
    except Exception:  # a value whose __str__ raises
        return "(text that could not be read)"
    if len(s) > limit:
        s = s[:limit] + f"\n… ({len(s) - limit} more characters)"
    s = s.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"
    return _CONTROL.sub("?", s)


def number(value, default: float = 0.0) -> float:
    """A finite float, or `default`."""
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return x if math.isfinite(x) else default


def history(value) -> dict:
    """A training history (name -> list of numbers) with bounded size; non-finite points dropped."""
    if not isinstance(value, dict):
        return {}
    out = {}
    for name, series in list(value.items())[:MAX_SERIES]:
        if isinstance(series, (list, tuple)):
            points = [float(v) for v in series[:MAX_POINTS]
                      if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(number(v, math.nan))]
            out[text(name, 60)] = points
    return out


def csv_cell(value) -> str:
    """Text for a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    s = text(value, 2000)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s


def result(r):
    """A check `Result` with its message and attachments made safe."""
    artifacts = {}
    for key, value in (r.artifacts or {}).items():
        if key == "history":
            artifacts[key] = history(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            artifacts[text(key, 60)] = number(value)
    return dataclasses.replace(r, output=text(r.output), artifacts=artifacts)
