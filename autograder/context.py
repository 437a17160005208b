"""`Context`: what a check body works with.

A check calls the student's code through `ctx.call` (or `ctx.run_probe`), compares with
`ctx.compare` (arrays, with a tolerance) or `ctx.exact` (ints, shapes, tuples: no
tolerance), and fails by raising `CheckFailed`. On a mismatch both comparisons run the
exercise's mutants of the function on the same inputs (`ctx.diagnose`): when one of them
reproduces the student's answer, the hint names that mistake.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from autograder.comparisons import compare_arrays, exact_problem, matches, mismatch_slice, reproduces
from autograder.formatting import signature
from autograder.resources import BEHAVIOUR
from autograder.keras_errors import error_verdict
from autograder.outcomes import (
    ERROR,
    GENERIC_MISTAKES,
    MODIFIES_INPUT,
    NOT_IMPLEMENTED,
    ArgumentModified,
    CheckFailed,
    Diagnosis,
    StudentError,
    Unavailable,
)
from autograder.student import Student, student_frame

if TYPE_CHECKING:
    from autograder.checks import Check, Exercise

# One call of a student's function in a diagnosis: (args, kwargs, what it returned).
Answer = tuple[tuple, dict, Any]

INT_HINT = "a count is an int: use `*`, `+` and `//`, and `int(...)` if in doubt."


class Context:
    """What a check body works with.

    Attributes:
        student: the `Student` (the engine's view of the submission).
        reference: object whose attributes are the reference functions (or None).
        rng: `np.random.Generator` seeded from the check's name.
        exercise: the `Exercise`.
        check: the `Check` being run.
    """

    def __init__(self, exercise: Exercise, check: Check, student: Student, reference: Any):
        self.exercise = exercise
        self.check = check
        self.student = student
        self.reference = reference
        self.rng = np.random.default_rng(check.seed)
        self.artifacts: dict = {}

    def attach(self, key: str, value: Any) -> None:
        """Keep plain data for the reports (e.g. a training history for the HTML feedback)."""
        self.artifacts[key] = value

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """`compute()` once per submission: later checks of the same student get the same value.

        For what several checks judge from one expensive run (a probe that builds and trains
        a model). A `compute` that raises stores nothing: the next check tries again.
        """
        if key not in self.student.memo:
            self.student.memo[key] = compute()
        return self.student.memo[key]

    # -- calling ---------------------------------------------------------------------

    def require(self, function: str) -> None:
        """Fail with a clear ERROR unless the student's file defines `function`."""
        if self.student.defines(function):
            return
        said = self.student.undefined(function)
        if said is not None:
            what, hint = said
            raise CheckFailed(what, hint=hint, status=ERROR)
        raise CheckFailed(
            f"`{function}` is not defined in your file",
            detail="\n".join(f"while loading: {p}" for p in self.student.problems),
            hint=f"Define a function named `{function}` (check the spelling), "
            "and make sure its cell has no syntax error.",
            status=ERROR,
        )

    def call(self, function: str, *args, what: str | None = None, **kwargs) -> Any:
        """Call the student's `function`; turn stubs, exceptions and input mutation into verdicts."""
        self.require(function)
        what = what or signature(function, args, kwargs, self._parameters(function))
        try:
            return self.student.call(function, args, kwargs)
        except NotImplementedError:
            raise _not_implemented(function) from None
        except StudentError as err:
            raise self._raised(function, what, err.exc_type, err.exc_message, err.where) from None
        except ArgumentModified as err:
            raise CheckFailed(
                f"`{function}` modified its `{err.argument}` argument",
                detail=f"while running {what}",
                hint=Diagnosis(GENERIC_MISTAKES[MODIFIES_INPUT], function, MODIFIES_INPUT),
            ) from None
        except Unavailable:
            raise
        except RecursionError as err:
            raise self._raised(function, what, "RecursionError", str(err), "") from None
        except SystemExit as err:  # the student's code called sys.exit / exit(): not the grader's exit
            raise self._raised(function, what, "SystemExit", f"called exit({err.code!r})", student_frame(err)) from None
        except Exception as err:  # the student's code raised
            if type(err).__name__ == "NotImplementedError":
                raise
            raise self._raised(function, what, type(err).__name__, str(err), student_frame(err)) from None

    def run_probe(self, name: str, **params) -> Any:
        """Run the exercise's probe `name` where the student's code lives; return its plain data.

        Student errors inside the probe become verdicts like those of `call`.
        """
        try:
            return self.student.run_probe(name, params)
        except CheckFailed:
            raise
        except NotImplementedError as err:
            raise _not_implemented(str(err) or name) from None
        except StudentError as err:
            raise self._raised(err.function, err.function, err.exc_type, err.exc_message, err.where) from None
        except Unavailable:
            raise
        except (Exception, SystemExit) as err:
            raise self._raised(name, f"probe {name}", type(err).__name__, str(err), student_frame(err)) from None

    def _parameters(self, function: str) -> tuple[str, ...]:
        """The contract's parameter names, read from the reference (names arrays in messages).

        An exercise whose oracle is behaviour never touches its reference (for a Keras
        exercise, loading it would import TensorFlow in the grader): its calls show positional
        arguments, in every front end alike.
        """
        if self.exercise.resources.oracle == BEHAVIOUR:
            return ()
        try:
            return tuple(inspect.signature(getattr(self.reference, function)).parameters)
        except (AttributeError, TypeError, ValueError):
            return ()

    @staticmethod
    def _raised(function, what, exc_type, exc_message, where) -> CheckFailed:
        if exc_type == "NotImplementedError":
            return _not_implemented(function)
        detail = f"{exc_type}: {exc_message}".strip()
        if where:
            detail += f"\n{where}"
        return CheckFailed(f"{what} raised an error", detail=detail, status=ERROR)

    def expected(self, function: str, *args, **kwargs) -> Any:
        """The reference output for the same call (inputs are copied first)."""
        ref = getattr(self.reference, function)
        return ref(*copy.deepcopy(args), **copy.deepcopy(kwargs))

    # -- judging ---------------------------------------------------------------------

    def compare(
        self,
        function: str,
        *args,
        axes: tuple[str, ...] | None = None,
        what: str | None = None,
        expected: Any = None,
        rtol: float = 1e-5,
        atol: float = 1e-6,
        **kwargs,
    ) -> Any:
        """Call the student's and the reference `function` on the same inputs and compare element-wise.

        On a mismatch, run the exercise's mutants of `function` on the same inputs;
        when one of them reproduces the student's output, its hint names the mistake.
        """
        what = what or signature(function, args, kwargs, self._parameters(function))
        got = self.call(function, *args, what=what, **kwargs)
        if expected is None:
            expected = self.expected(function, *args, **kwargs)
        problem = compare_arrays(got, expected, axes, rtol, atol)
        if problem is None and isinstance(expected, np.ndarray) and not isinstance(got, np.ndarray):
            problem = f"expected an ndarray, got {type(got).__name__}"
        if problem is not None:
            if not self.check.hidden:  # hidden checks never show their values
                self.attach("mismatch", mismatch_slice(got, expected))
            raise CheckFailed(what, problem, self.diagnose(function, got, args, kwargs))
        return got

    def exact(
        self,
        function: str,
        *args,
        what: str | None = None,
        expected: Any = None,
        int_hint: str = INT_HINT,
        **kwargs,
    ) -> Any:
        """Call the student's `function` and compare its answer exactly: a count, a size, a shape.

        An int must be an int and a shape a tuple of ints (an equal float is a mistake);
        on a mismatch the mutants name it, as in `compare`.

        Args:
            int_hint: the hint for an answer of the right value but not an int, when no
                mutant names the mistake.
        """
        return self.exact_each(function, [(args, kwargs)], int_hint, what=what, expected=expected)[0]

    def exact_each(
        self,
        function: str,
        calls: list[tuple[tuple, dict]],
        int_hint: str = INT_HINT,
        what: str | None = None,
        expected: Any = None,
        hint: str = "",
        oracle: Callable | None = None,
    ) -> list[Any]:
        """`exact` over several calls: every call first, then each answer is compared.

        A mistake is named only by a mutant that reproduces *every* answer, so one that
        happens to agree on the failing case alone is not blamed. `what` and `expected`
        apply to a single call.

        Args:
            hint: the hint for a wrong value when no mutant names the mistake.
            oracle: computes the expected answer from the same arguments, instead of the
                reference (an independent formula).
        """
        oracle = oracle or (lambda *args, **kwargs: self.expected(function, *args, **kwargs))
        whats = [what or signature(function, args, kwargs, self._parameters(function)) for args, kwargs in calls]
        answers = [
            (args, kwargs, self.call(function, *args, what=shown, **kwargs))
            for (args, kwargs), shown in zip(calls, whats)
        ]
        for (args, kwargs, got), shown in zip(answers, whats):
            problem = exact_problem(got, oracle(*args, **kwargs) if expected is None else expected, int_hint)
            if problem is not None:
                detail, type_hint = problem
                raise CheckFailed(shown, detail, self.diagnose_all(function, answers, reproduces) or type_hint or hint)
        return [got for _, _, got in answers]

    def diagnose(self, function: str, got: Any, args: tuple, kwargs: dict, same: Callable = matches) -> str:
        """The hint (a `Diagnosis`) of the first mutant whose output equals `got` on these inputs."""
        return self.diagnose_all(function, [(args, kwargs, got)], same)

    def diagnose_all(
        self, function: str, answers: list[Answer], same: Callable = matches, skip: tuple[str, ...] = ()
    ) -> str:
        """The hint (a `Diagnosis`) of the first mutant of `function` that reproduces every answer.

        Args:
            answers: `(args, kwargs, got)` for each call of the student's function.
            same: `same(got, mutant_output)`: `matches` for arrays, `reproduces` for exact values.
            skip: mutants (by name) that outputs cannot show.
        """
        for mutant in self.exercise.mutants.get(function, []):
            if mutant.name in skip:
                continue
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # a known mistake may overflow: not the student's noise
                    outs = [mutant.impl(*copy.deepcopy(args), **copy.deepcopy(kwargs)) for args, kwargs, _ in answers]
                    reproduced = all(same(got, out) for (_, _, got), out in zip(answers, outs))
            except Exception:  # a mutant that cannot run on these inputs (or be compared) names nothing
                continue
            if reproduced:
                return mutant.diagnosis
        return ""

    def diagnosis(self, name: str, function: str | None = None) -> Diagnosis:
        """The hint of the known mistake `name` of `function` (default: the checked function)."""
        return self.exercise.diagnosis(function or self.check.function, name)

    def fail_on_error(self, info: dict, what: str, hint: str = "", word: str = "during") -> None:
        """Raise the verdict for an exception the student's code raised inside a probe; else return.

        The hint for a model used before `compile()` is the checked function's known mistake
        `not_compiled`, when it has one (see `keras_errors.error_verdict`).
        """
        verdict = error_verdict(info, what, hint, self.known("not_compiled"), word)
        if verdict is not None:
            raise verdict

    def known(self, name: str) -> str:
        """The hint of the checked function's known mistake `name`, or "" when it has none."""
        try:
            return self.diagnosis(name)
        except KeyError:
            return ""

    def expect(self, condition: bool, what: str, detail: str = "", hint: str = "") -> None:
        """Fail with a three-part message unless `condition` holds."""
        if not condition:
            raise CheckFailed(what, detail, hint)


def _not_implemented(function: str) -> CheckFailed:
    return CheckFailed(
        f"`{function}` is not implemented yet",
        hint="Replace the `raise NotImplementedError` line with your code.",
        status=NOT_IMPLEMENTED,
    )
