"""One pipeline from a submission to its report, for every front end.

A front end only chooses where the student's code runs and how the report is shown:

    pytest, `cnnex check`     the file, loaded in this process           (`open_file`)
    a notebook cell           the notebook's live namespace              (`open_namespace`)
    `cnnex grade`, Gradescope the file, loaded in a sandboxed child      (`grading.Grader`)

Each of them makes an `Opened` (the student's functions behind the student contract, the
policy's verdicts, what went wrong while reading the file) and hands it to `Checking`,
which runs the checks (all at once, or one at a time for pytest's items), scores them and
returns a `Report`. The file is read and parsed once, where it is opened; writers (terminal,
notebook HTML, `results.json`, the gradebook, the class report) take the `Report` as it is.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Iterable

from autograder.checks import ERROR, POLICY, Check, Exercise, Result, run_check, run_checks
from autograder.errors import LoadError
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


@dataclasses.dataclass
class Opened:
    """A submission, opened by a front end.

    Attributes:
        student: the student's functions: a `Student` (`autograder.student`) or a namespace.
        policy: function -> why it breaks the exercise's policy; its checks are not run.
        problems: what went wrong while reading the file (a cell that raised, ...).
        unreadable: why the file cannot be read at all (empty, not Python), or None.
        functions: anonymised sources of the graded functions, for the class report.
    """

    student: Any = None
    policy: dict[str, str] = dataclasses.field(default_factory=dict)
    problems: list[str] = dataclasses.field(default_factory=list)
    unreadable: str | None = None
    functions: dict[str, str] = dataclasses.field(default_factory=dict)


def unreadable_result(check: Check, message: str) -> Result:
    return Result(check.name, check.function, 0.0, check.points, ERROR, message, check.hidden)


def unloadable(exercise: Exercise, message: str, hidden: bool, functions: Iterable[str] | None = None) -> Report:
    """Every check at 0 with the same message, for a file that cannot be read at all."""
    results = [unreadable_result(c, message) for c in exercise.checks_for(functions, hidden)]
    return Report(exercise.name, results, [message])


class Checking:
    """The checks of one exercise on one opened submission.

    Args:
        exercise: the `Exercise`.
        opened: an `Opened` (or an object with its attributes, read live), or a callable
            that makes one, called once, when the first check needs it (pytest collects
            without running any student code).
        reference: the reference implementation; default: the exercise's own (solutions
            or recordings).
    """

    def __init__(self, exercise: Exercise, opened, reference: Any = None):
        self.exercise = exercise
        self._opened = opened
        self._reference = reference

    @property
    def opened(self) -> Opened:
        if callable(self._opened):  # opened when first needed
            self._opened = self._opened()
        return self._opened

    @property
    def reference(self) -> Any:
        if self._reference is None:
            self._reference = reference_for(self.exercise.name)
        return self._reference

    def result(self, check: Check) -> Result:
        """The `Result` of one check."""
        opened = self.opened
        if opened.unreadable is not None:
            return unreadable_result(check, opened.unreadable)
        if check.function in opened.policy:
            return Result(check.name, check.function, 0.0, check.points, POLICY,
                          opened.policy[check.function], check.hidden)
        return run_check(self.exercise, check, opened.student, self.reference)

    def report(self, hidden: bool = False, functions: Iterable[str] | None = None) -> Report:
        """Run the checks (the public ones, or all with `hidden`; only `functions`' if given)."""
        start = time.perf_counter()
        opened, ex = self.opened, self.exercise
        if opened.unreadable is not None:
            report = unloadable(ex, opened.unreadable, hidden, functions)
        else:
            results = run_checks(ex, opened.student, self.reference, hidden, functions, opened.policy)
            report = Report(ex.name, results, list(opened.problems), functions=dict(opened.functions))
        report.execution_time = time.perf_counter() - start
        return report


def open_file(exercise: Exercise, path: str | Path) -> Opened:
    """A student's `.py` or `.ipynb`, loaded in this process: read and parsed once."""
    from autograder.loading import load
    from autograder.policy import policy_failures

    try:
        student = load(path, module_name=f"student_{exercise.name}")
    except LoadError as err:
        return Opened(unreadable=str(err))
    policy = policy_failures(student.trees, exercise.functions, exercise.numpy_only)
    return Opened(student, policy, list(student.problems))
