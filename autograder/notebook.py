"""Checks from inside a notebook (or a `.py` run as a script).

    feedback = Feedback("ex01_convolution", globals())
    feedback.check("conv2d")          # the public checks of conv2d
    feedback.summary()                # every public check and the score
    feedback.assert_passes("conv2d")  # nbgrader test cells: raises AssertionError on failure

In Jupyter, `check` and `summary` show a formatted HTML table (and nothing else); in a
script they print the same feedback as `cnnex check`. `assert_passes` prints plain text
(nbgrader shows stdout). Nothing is written to stderr (nbgrader treats it as a failure).
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import textwrap
import types
import warnings

from autograder import exercises
from autograder.checks import Result, run_checks
from autograder.errors import GraderError
from autograder.policy import policy_failures
from autograder.reference import reference_for
from autograder.reports.notebook import FeedbackReport
from autograder.reports.terminal import format_result


class _Namespace:
    """Attribute access over a notebook's globals, read at call time (never a stale copy)."""

    problems: list[str] = []

    def __init__(self, namespace: dict):
        self._ns = namespace

    def __getattr__(self, name):
        try:
            return self._ns[name]
        except KeyError:
            raise AttributeError(name) from None


def _trees(namespace: dict, functions: list[str]) -> list[tuple[str, ast.Module]]:
    """Source trees for the policy check, rebuilt from live objects.

    Imports are reconstructed from the modules and functions the namespace holds, so
    `import tensorflow as tf` is seen whichever cell ran it.
    """
    lines = []
    for name, value in list(namespace.items()):
        if name.startswith("_"):
            continue
        if isinstance(value, types.ModuleType):
            lines.append(f"import {value.__name__} as {name}")
        elif callable(value):
            module = getattr(value, "__module__", None) or ""
            real = getattr(value, "__name__", "")
            dotted = module.split(".")
            if module != "__main__" and all(p.isidentifier() for p in dotted) and real.isidentifier():
                lines.append(f"from {module} import {real} as {name}")
    trees = [("imports", ast.parse("\n".join(lines)))]
    for name, value in list(namespace.items()):
        if inspect.isfunction(value) and value.__module__ in ("__main__", namespace.get("__name__")):
            try:
                trees.append((name, ast.parse(textwrap.dedent(inspect.getsource(value)))))
            except (OSError, TypeError, SyntaxError):
                continue
    return trees


class Feedback:
    """Run an exercise's public checks against the functions defined in a namespace.

    Args:
        exercise: "ex01_convolution" (or "ex01").
        namespace: usually `globals()` of the notebook.
    """

    def __init__(self, exercise: str, namespace: dict):
        self.exercise = exercises.get(exercise)
        self.namespace = namespace

    def results(self, function: str | None = None, hidden: bool = False) -> list[Result]:
        ex = self.exercise
        functions = [function] if function else None
        if function is not None and function not in ex.functions:
            raise GraderError(f"{ex.name} has no function {function!r}. Choose one of {ex.functions}.")
        reference = reference_for(ex.name)
        policy = policy_failures(_trees(self.namespace, ex.functions), ex.functions, ex.numpy_only)
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            return run_checks(ex, _Namespace(self.namespace), reference, hidden, functions, policy)

    def check(self, function: str) -> FeedbackReport:
        """Show the public checks of one function; return their results (a list)."""
        return FeedbackReport(function, self.results(function)).show_or_print()

    def summary(self) -> FeedbackReport:
        """Show every public check of the exercise and the score; return the results."""
        return FeedbackReport(self.exercise.name, self.results(), table=True).show_or_print()

    def assert_passes(self, function: str, hidden: bool = False) -> None:
        """For nbgrader test cells: print the feedback, raise AssertionError unless all pass."""
        results = [r for r in self.results(function, hidden) if r.hidden == hidden]
        print("\n".join(format_result(r) for r in results))
        failed = [r for r in results if not r.passed]
        if failed:  # the feedback is printed above; the error only says which checks
            raise AssertionError(f"{len(failed)} of {len(results)} checks failed: " + "; ".join(r.name for r in failed))
