"""The gradebook: one CSV row per submission, one column per check, and the total.

Columns: `submission, total, max_score, <check 1>, ..., <check n>, source, notes`. A
check column holds the points earned; `source` is the file the row grades (a path, or
`archive.zip:member`); `notes` says what went wrong beyond wrong answers (a file that
could not be read, timeouts, crashes), that a submission was not graded, or that a file
was skipped. Text cells are written so that a spreadsheet never runs them as formulas.
Named `gradebook` so that it does not shadow the standard library's `csv`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from autograder.errors import GraderError
from autograder.reports import safe
from autograder.reports.gradescope import write_atomic

FIRST = ["submission", "total", "max_score"]
LAST = ["source", "notes"]
NOTEWORTHY = ("NOT_IMPLEMENTED", "ERROR", "POLICY", "TIMEOUT", "MEMORY", "CRASHED")


def _points(x: float) -> str:
    return f"{x:g}"


def row(name: str, check_names: list[str], record: dict | None, note: str = "", source: str = "") -> dict:
    """The gradebook row of one submission from its record (`class_report.submission_record`; None: not graded)."""
    out = {"submission": name, "source": source, "notes": note}
    if record is None:
        return out
    checks = record["checks"]
    scores = {c["check"]: c["score"] for c in checks}
    for check in check_names:
        if check in scores:
            out[check] = _points(scores[check])
    out["total"] = _points(sum(c["score"] for c in checks))
    out["max_score"] = _points(sum(c["max_score"] for c in checks))
    counts: dict[str, int] = {}
    for c in checks:
        if c["status"] in NOTEWORTHY:
            counts[c["status"]] = counts.get(c["status"], 0) + 1
    notes = [f"{status} x{n}" for status, n in sorted(counts.items())]
    if note:
        notes.insert(0, note)
    out["notes"] = "; ".join(notes)
    return out


def write(path: str | Path, check_names: list[str], rows: list[dict]) -> None:
    """Write the gradebook atomically, rows sorted by submission name."""
    write_csv(path, FIRST + list(check_names) + LAST, rows)


def write_csv(path: str | Path, header: list[str], rows: list[dict]) -> None:
    """Write `rows` (dicts keyed by `header`) atomically, sorted by their `submission` (stable)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in sorted(rows, key=lambda r: r["submission"]):
        writer.writerow({k: safe.csv_cell(v) if k in ("submission", "source", "notes") else v for k, v in r.items()})
    write_atomic(path, buf.getvalue())


def read(path: str | Path) -> tuple[list[str], list[dict]]:
    """The check columns and the rows of a gradebook written by `write`."""
    path = Path(path)
    if not path.exists():
        raise GraderError(f"No gradebook at {path}")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        if header[: len(FIRST)] != FIRST:
            raise GraderError(f"{path} is not a gradebook written by `cnnex grade` (header {header[:3]})")
        checks = [h for h in header[len(FIRST):] if h not in LAST]
        return checks, list(reader)


def merge(paths: list[str | Path]) -> tuple[list[str], list[dict]]:
    """Combine gradebooks (of the shards of one exercise) into one.

    Raises:
        GraderError: they grade different checks, or the same submission appears twice
            with different scores.
    """
    checks: list[str] | None = None
    rows: dict[str, dict] = {}
    for path in paths:
        these, found = read(path)
        if checks is None:
            checks = these
        elif these != checks:
            raise GraderError(
                f"{path} has other checks than the first gradebook: merge gradebooks of one exercise. "
                f"Received: {sorted(set(these) ^ set(checks))[:3]}"
            )
        for r in found:
            name = r["submission"]
            if name in rows and rows[name] != r:
                raise GraderError(f"Submission {name!r} appears in two gradebooks with different results")
            rows[name] = r
    return checks or [], list(rows.values())
