"""Check a student file in this process: load, apply the policy, run the checks.

This is the engine behind `pytest <file>`, `cnnex check` and the notebook cells.
Instructors' batch grading (`cnnex grade`) runs the same checks with the
student's code in an isolated child process instead (see `isolation.py`).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Iterable

from autograder import exercises
from autograder.checks import ERROR, Exercise, Result, run_checks
from autograder.errors import LoadError
from autograder.loading import load
from autograder.policy import policy_failures
from autograder.reference import reference_for


@dataclasses.dataclass
class Report:
    """The results of one exercise for one submission."""

    exercise: str
    results: list[Result]
    problems: list[str] = dataclasses.field(default_factory=list)
    execution_time: float = 0.0
    functions: dict[str, str] = dataclasses.field(default_factory=dict)  # anonymised sources, for the class report

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)


def unloadable(exercise: Exercise, message: str, hidden: bool) -> Report:
    """Every check at 0 with the same message, for a file that cannot be read at all."""
    results = [
        Result(c.name, c.function, 0.0, c.points, ERROR, message, c.hidden)
        for c in exercise.checks_for(None, hidden)
    ]
    return Report(exercise.name, results, [message])


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
    start = time.perf_counter()
    try:
        student = load(path, module_name=f"student_{ex.name}")
    except LoadError as err:
        report = unloadable(ex, str(err), hidden)
    else:
        policy = policy_failures(student.trees, ex.functions, ex.numpy_only)
        results = run_checks(ex, student, reference_for(ex.name), hidden, functions, policy)
        report = Report(ex.name, results, list(student.problems))
    report.execution_time = time.perf_counter() - start
    return report
