"""`mistakes.csv`: what every check said about every submission, in long format.

One row per submission and check: `submission, function, check, hidden, status, score,
max_score, mistake`. `mistake` is the id of the known mistake the check recognised
(the mutant's name, as in the check's hint; empty when none). Hidden checks are
included: the file is for instructors. It sits beside `gradebook.csv`, and
`cnnex gradebook merge` merges it the same way.
"""

from __future__ import annotations

import csv
from pathlib import Path

from autograder.errors import GraderError
from autograder.reports.gradebook import write_csv

COLUMNS = ["submission", "function", "check", "hidden", "status", "score", "max_score", "mistake"]
MAX_FIELD = 200  # ids, names and statuses are short; a longer value was not written by the grader


def rows(name: str, checks: list[dict]) -> list[dict]:
    """The rows of one submission from its record's checks (`class_report.submission_record`)."""
    return [
        {
            "submission": name,
            "function": c["function"],
            "check": c["check"],
            "hidden": "true" if c["hidden"] else "false",
            "status": c["status"],
            "score": f"{c['score']:g}",
            "max_score": f"{c['max_score']:g}",
            "mistake": c["mistake"],
        }
        for c in checks
    ]


def write(path: str | Path, table: list[dict]) -> None:
    """Write the rows atomically, grouped by submission (checks in their order)."""
    write_csv(path, COLUMNS, table)


def read(path: str | Path) -> list[dict]:
    """The rows of a `mistakes.csv` written by `write`.

    Raises:
        GraderError: missing, or not such a file.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames != COLUMNS:
                raise GraderError(f"{path} is not a mistakes.csv written by `cnnex grade` (header {reader.fieldnames})")
            return [{k: str(r.get(k) or "")[:MAX_FIELD] for k in COLUMNS} for r in reader]
    except OSError as err:
        raise GraderError(f"Cannot read {path}: {err.strerror or err}") from None


def merge(paths: list[str | Path]) -> list[dict]:
    """The rows of several `mistakes.csv` (of the shards of one exercise) as one table.

    Raises:
        GraderError: the same submission's check appears twice with different rows.
    """
    seen: dict[tuple[str, str], dict] = {}
    for path in paths:
        for r in read(path):
            key = (r["submission"], r["check"])
            if key in seen and seen[key] != r:
                raise GraderError(f"Submission {r['submission']!r} appears in two mistakes.csv with different results")
            seen[key] = r
    return list(seen.values())
