"""Check a student file in this process: the front end of `cnnex check` (and of tests).

The checks, scoring and report are the pipeline's (`autograder.pipeline`); this module
only chooses to load the student's file here. `cnnex grade` loads it in a sandboxed
child instead (`autograder.grading`, `autograder.isolation`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from autograder import exercises
from autograder.checks import Exercise
from autograder.pipeline import Checking, Report, open_file


def check_file(
    exercise: str | Exercise,
    path: str | Path,
    hidden: bool = False,
    functions: Iterable[str] | None = None,
) -> Report:
    """Run an exercise's checks on a student's `.py` or `.ipynb` file, in this process.

    Args:
        exercise: name ("ex01", "ex01_convolution") or `Exercise`.
        path: the student's file.
        hidden: include hidden checks (needs the reference solutions).
        functions: only check these functions.
    """
    ex = exercise if isinstance(exercise, Exercise) else exercises.get(exercise)
    return Checking(ex, lambda: open_file(ex, path)).report(hidden, functions)
