"""The check model: an exercise, its checks and its mutants.

An exercise module builds one `Exercise`, registers checks on it with
`@EXERCISE.check(...)` and known-wrong variants of the reference with
`@EXERCISE.mutant(...)`. A check body receives a `Context` (`autograder.context`); it
calls the student's code through `ctx.call` / `ctx.compare` / `ctx.exact`, and fails by
raising `CheckFailed`.

The engine's other parts live in their own modules and are re-exported here, so
`from autograder.checks import X` serves exercises, tests and notebooks alike:
`outcomes` (statuses, `CheckFailed`, `Result`), `formatting` (signatures, shapes),
`comparisons` (arrays with a tolerance, counts and shapes exactly), `student` (the
`Student` contract), `context` (`Context`) and `running` (`run_check`, `run_checks`).
Exercises also use `geometry` (`pair`, `pads`, `windows` for their plain implementations
and mutants) and, for Keras classifiers, `keras_verdicts` and `keras_errors`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, Callable, Iterable

from autograder.comparisons import as_array, compare_arrays, equal_exactly, matches, mismatch_slice, reproduces
from autograder.context import Context
from autograder.formatting import describe, format_shape, shape_diagnosis, signature
from autograder.outcomes import (
    CRASHED,
    ERROR,
    FAILED,
    GENERIC_MISTAKES,
    MEMORY,
    MODIFIES_INPUT,
    NOT_IMPLEMENTED,
    PASSED,
    POLICY,
    TIMEOUT,
    ArgumentModified,
    CheckFailed,
    Diagnosis,
    Result,
    StudentError,
    Unavailable,
)
from autograder.resources import NUMPY, Resources
from autograder.running import run_check, run_checks
from autograder.student import InProcess, Student

__all__ = [
    "CRASHED", "ERROR", "FAILED", "MEMORY", "NOT_IMPLEMENTED", "PASSED", "POLICY", "TIMEOUT",
    "GENERIC_MISTAKES", "MODIFIES_INPUT",
    "ArgumentModified", "Check", "CheckFailed", "Context", "Diagnosis", "Exercise", "InProcess", "Mutant",
    "Result", "Student", "StudentError", "Unavailable",
    "as_array", "compare_arrays", "describe", "equal_exactly", "format_shape", "matches",
    "mismatch_slice", "mistake_hint", "reproduces", "run_check", "run_checks", "shape_diagnosis", "signature",
]


def mistake_hint(exercise: "Exercise", function: str, mistake: str) -> str:
    """The hint students saw for `mistake` (a `Result.mistake`) in a check of `function` ("" if unknown)."""
    owner, _, name = mistake.rpartition(".")
    for mutant in exercise.mutants.get(owner or function, []):
        if mutant.name == name:
            return mutant.hint
    return GENERIC_MISTAKES.get(name, "")


@dataclasses.dataclass
class Check:
    """One check: a name that begins with the function it checks, points, visibility."""

    name: str
    function: str
    points: float
    hidden: bool
    body: Callable[["Context"], Any]
    success: str = ""

    @property
    def seed(self) -> int:
        """A seed derived from the name, so every run draws the same fixtures."""
        return int.from_bytes(hashlib.sha256(self.name.encode()).digest()[:4], "little")


@dataclasses.dataclass
class Mutant:
    """A known-wrong variant of a reference function and the hint that names the mistake."""

    function: str
    name: str
    hint: str
    impl: Callable

    @property
    def diagnosis(self) -> Diagnosis:
        """The hint as a `Diagnosis` that names this mutant."""
        return Diagnosis(self.hint, self.function, self.name)


class Exercise:
    """An exercise: its functions, checks and mutants.

    Args:
        name: e.g. "ex01_convolution".
        title: one line for `cnnex list`.
        functions: the names of the contract functions, in teaching order.
        numpy_only: functions that must be written in NumPy (policy check).
        resources: limits, preloading and oracle (`autograder.resources`; NumPy's by default).
    """

    def __init__(
        self,
        name: str,
        title: str,
        functions: Iterable[str],
        numpy_only: Iterable[str] = (),
        resources: Resources = NUMPY,
    ):
        self.name = name
        self.title = title
        self.functions = list(functions)
        self.numpy_only = list(numpy_only)
        self.resources = resources
        self.checks: list[Check] = []
        self.mutants: dict[str, list[Mutant]] = {}
        self.probes: dict[str, Callable] = {}

    def __repr__(self) -> str:
        return f"Exercise({self.name!r}, {len(self.checks)} checks, {self.max_score():g} points)"

    def check(self, name: str, points: float = 1, hidden: bool = False, success: str = ""):
        """Register a check. `name` must begin with one of the exercise's functions."""
        function = name.split(":", 1)[0].strip()
        if function not in self.functions:
            raise ValueError(
                f"A check name must begin with the function it checks, one of {self.functions}. "
                f"Received: name={name!r}"
            )
        if any(c.name == name for c in self.checks):
            raise ValueError(f"Duplicate check name. Received: name={name!r}")

        def register(body):
            self.checks.append(Check(name, function, points, hidden, body, success))
            return body

        return register

    def mutant(self, function: str, hint: str, name: str | None = None):
        """Register a known-wrong variant of `function`, with the hint that names it."""

        def register(impl):
            self.mutants.setdefault(function, []).append(
                Mutant(function, name or impl.__name__, hint, impl)
            )
            return impl

        return register

    def diagnosis(self, function: str, name: str):
        """The hint (a `Diagnosis`) of the known mistake `name` of `function`, to raise in a check.

        Raises:
            KeyError: `function` has no mutant named `name`.
        """
        for mutant in self.mutants.get(function, []):
            if mutant.name == name:
                return mutant.diagnosis
        raise KeyError(f"{function} has no known mistake {name!r}")

    def max_score(self, hidden: bool = True) -> float:
        return sum(c.points for c in self.checks if hidden or not c.hidden)

    def checks_for(self, functions: Iterable[str] | None = None, hidden: bool = True) -> list[Check]:
        wanted = set(functions) if functions is not None else None
        return [
            c
            for c in self.checks
            if (hidden or not c.hidden) and (wanted is None or c.function in wanted)
        ]
