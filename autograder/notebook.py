"""Checks from inside a notebook (or a `.py` run as a script).

    feedback = Feedback("ex01_convolution", globals())
    feedback.check("conv2d")          # the public checks of conv2d
    feedback.summary()                # every public check and the score
    feedback.assert_passes("conv2d")  # nbgrader test cells: raises AssertionError on failure

    with feedback.needs("conv2d"):    # an exploratory cell: one friendly line, not a
        maps = conv2d(photo, edges)   # traceback, while conv2d is still a stub

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
from autograder.checks import Exercise, Result
from autograder.errors import GraderError
from autograder.pipeline import Checking, Opened
from autograder.policy import policy_failures
from autograder.reports.notebook import FeedbackReport
from autograder.reports.terminal import format_result


class _Namespace:
    """Attribute access over a notebook's globals, read at call time (never a stale copy)."""

    @staticmethod
    def undefined(function: str) -> tuple[str, str]:
        """What a check says when `function` is not defined in the running notebook."""
        return (
            f"`{function}` is not defined yet: run the cell that defines `{function}`",
            "After a kernel restart, run the cells above (or Run All) before the check cell; "
            f"if you did, check the spelling of `def {function}(`.",
        )

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
        if name.startswith("_") or not name.isidentifier():  # pytest's rewriting adds `@py_builtins`
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


def _is_stub(function) -> bool:
    """True for a function whose own body raises NotImplementedError (the handed-out stub)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):  # no source at hand: look at the names its code uses
        code = getattr(function, "__code__", None)
        return code is not None and "NotImplementedError" in code.co_names
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.FunctionDef) else []
    for node in body:
        if isinstance(node, ast.Raise) and node.exc is not None:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(raised, ast.Name) and raised.id == "NotImplementedError":
                return True
    return False


class _Needs:
    """`with feedback.needs("conv2d"):` turns "not written yet" into one friendly line.

    A `NotImplementedError` raised inside the block (a stub, called directly or from a
    helper), or a `NameError` while one of the needed functions is still a stub or not
    defined (a variable that an earlier, skipped cell would have made), ends the block
    with "implement `conv2d` above to see this". Any other error is the student's to see.
    """

    def __init__(self, namespace: dict, functions: tuple[str, ...]):
        self.namespace = namespace
        self.functions = functions

    def missing(self) -> list[str]:
        missing = []
        for name in self.functions:
            value = self.namespace.get(name)
            if not callable(value) or _is_stub(value):
                missing.append(name)
        return missing

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb) -> bool:
        if kind is None:
            return False
        if issubclass(kind, NotImplementedError):
            named = str(error).strip("`'\" ")
            missing = [named] if named.isidentifier() else self.missing() or list(self.functions)
        elif issubclass(kind, NameError):
            missing = self.missing()
            if not missing:
                return False  # a real NameError in the student's code
        else:
            return False
        undefined = [m for m in missing if m not in self.namespace]
        if undefined:
            print(f"run the cell that defines `{undefined[0]}` above to see this")
        else:
            print(" and ".join(f"implement `{m}`" for m in missing[:2]) + " above to see this")
        return True


def open_namespace(exercise: Exercise, namespace: dict) -> Opened:
    """A notebook's live namespace as the pipeline's submission: read at call time, never copied."""
    policy = policy_failures(_trees(namespace, exercise.functions), exercise.functions, exercise.numpy_only)
    return Opened(_Namespace(namespace), policy)


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
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            return Checking(ex, open_namespace(ex, self.namespace)).report(hidden, functions).results

    def check(self, function: str) -> FeedbackReport:
        """Show the public checks of one function; return their results (a list)."""
        return FeedbackReport(function, self.results(function)).show_or_print()

    def summary(self) -> FeedbackReport:
        """Show every public check of the exercise and the score; return the results."""
        return FeedbackReport(self.exercise.name, self.results(), table=True).show_or_print()

    def needs(self, *functions: str) -> _Needs:
        """A context manager for exploratory cells that use `functions` (see `_Needs`)."""
        return _Needs(self.namespace, functions)

    def assert_passes(self, function: str, hidden: bool = False) -> None:
        """For nbgrader test cells: print the feedback, raise AssertionError unless all pass."""
        results = [r for r in self.results(function, hidden) if r.hidden == hidden]
        print("\n".join(format_result(r) for r in results))
        failed = [r for r in results if not r.passed]
        if failed:  # the feedback is printed above; the error only says which checks
            raise AssertionError(f"{len(failed)} of {len(results)} checks failed: " + "; ".join(r.name for r in failed))
