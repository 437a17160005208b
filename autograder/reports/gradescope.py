"""Results in Gradescope's `results.json` schema."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from autograder.checks import Result


def results_json(
    results: list[Result],
    execution_time: float = 0.0,
    output: str = "",
) -> dict:
    """The Gradescope document: `score`, `max_score`, `execution_time`, `output`, `tests[]`."""
    return {
        "score": round(sum(r.score for r in results), 4),
        "max_score": round(sum(r.max_score for r in results), 4),
        "execution_time": round(execution_time, 3),
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [r.to_gradescope() for r in results],
    }


def write_atomic(path: str | Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the whole new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as f:  # never a lone surrogate
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_results(path: str | Path, doc: dict) -> None:
    write_atomic(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
