"""The student contract: what the engine calls to run a student's code, wherever that code runs.

Whatever holds the student's functions (a file loaded in this process, a notebook's
globals, a proxy to a sandboxed child) is a `Student`; the checks reach it only through
`Context`, which calls nothing but this contract. `InProcess` adapts any object whose
attributes are the student's functions (a `StudentFile`, a namespace); the isolated
proxy (`autograder.isolation.proxy.IsolatedStudent`) implements it itself.

The helpers at the end (`snapshot`, `unchanged`, `modified_argument`, `student_frame`)
are how every implementation judges "the function modified its input" and "where in
the student's file" the same way, in this process and in a child.
"""

from __future__ import annotations

import copy
import traceback
import weakref
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol, Sequence

import numpy as np

from autograder.outcomes import ArgumentModified

if TYPE_CHECKING:
    from autograder.checks import Check, Exercise


class Student(Protocol):
    """What runs a submission's code, as the engine sees it.

    Implementations subclass this class explicitly (the engine tells a `Student` from a
    plain namespace by its class, which a submission cannot change).

    Attributes:
        problems: what went wrong while loading the file ("cell 4, line 2: SyntaxError ...").
        memo: what checks computed once for this submission (see `Context.memo`); it lives
            as long as the submission is loaded.
    """

    problems: Sequence[str]
    memo: dict

    def defines(self, function: str) -> bool:
        """True when the submission defines a callable named `function`."""

    def call(self, function: str, args: tuple, kwargs: dict) -> Any:
        """Run the student's `function(*args, **kwargs)`; return its result.

        Raises:
            ArgumentModified: the function changed one of its arguments.
            StudentError: the function raised (where its exception cannot travel as it is).
            Unavailable: what ran it died, timed out or ran out of memory.
            Exception: in this process, the student's own exception, as it was raised.
        """

    def run_probe(self, name: str, params: dict) -> Any:
        """Run the exercise's probe `name` where the student's code lives; return its plain data."""

    def begin_check(self, check: Check) -> None:
        """Called by the engine before each check (a time budget restarts, a fresh process starts)."""

    def undefined(self, function: str) -> tuple[str, str] | None:
        """What to say when `function` is not defined (what, hint), or None for the engine's default."""
        return None


_MEMOS: dict[int, dict] = {}  # id of a namespace -> its memo, dropped when the namespace is


def _memo_of(owner: Any) -> dict:
    """The memo of `owner`, kept by identity (a loaded file may be unhashable) while `owner` lives.

    Raises:
        TypeError: `owner` cannot be weakly referenced.
    """
    key = id(owner)
    if key not in _MEMOS:
        weakref.finalize(owner, _MEMOS.pop, key, None)
        _MEMOS[key] = {}
    return _MEMOS[key]


class InProcess(Student):
    """A student whose functions are attributes of an object in this process.

    Args:
        namespace: a `StudentFile`, a notebook's namespace, or any object with the functions
            as attributes.
        exercise: the exercise whose probes `run_probe` runs.
    """

    def __init__(self, namespace: Any, exercise: Exercise):
        self.namespace = namespace
        self.exercise = exercise
        own = getattr(namespace, "__dict__", {})  # its own attributes, never the student's globals
        self.problems = list(own.get("problems", ()))
        try:  # one memo per loaded file, however many times the engine adapts it
            self.memo = _memo_of(namespace)
        except TypeError:  # not weakly referenceable: the memo lives as long as this adapter
            self.memo = {}

    def _function(self, function: str) -> Callable | None:
        fn = getattr(self.namespace, function, None)
        return fn if callable(fn) else None

    def defines(self, function: str) -> bool:
        return self._function(function) is not None

    def call(self, function: str, args: tuple, kwargs: dict) -> Any:
        fn = self._function(function)
        before = snapshot(list(args) + list(kwargs.values()))
        out = fn(*args, **kwargs)
        name = modified_argument(fn, args, kwargs, before)
        if name is not None:
            raise ArgumentModified(function, name)
        return out

    def run_probe(self, name: str, params: dict) -> Any:
        return self.exercise.probes[name](self.namespace, **params)

    def begin_check(self, check: Check) -> None:
        """Nothing to restart: in-process checks have no time budget."""

    def undefined(self, function: str) -> tuple[str, str] | None:
        # a live notebook says what to run (read from the class: a student cannot set it)
        explain = getattr(type(self.namespace), "undefined", None)
        return explain(function) if callable(explain) else None


def as_student(student: Any, exercise: Exercise) -> Student:
    """`student` itself when it implements `Student`, else an `InProcess` view of it."""
    return student if Student in type(student).__mro__ else InProcess(student, exercise)


# --------------------------------------------------------------------------- judging a call


def snapshot(values: Iterable[Any]) -> list[Any]:
    """Deep copies of a call's arguments, taken before the call."""
    return [copy.deepcopy(v) for v in values]


def unchanged(a: Any, b: Any) -> bool:
    """True when `b` still equals the snapshot `a` (arrays bit for bit, NaN equal to NaN)."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(unchanged(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(unchanged(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:
        return False


def modified_argument(fn: Callable, args: tuple, kwargs: dict, before: list) -> str | None:
    """The name of the first argument `fn` changed (its parameter name when known), or None.

    Args:
        before: `snapshot(list(args) + list(kwargs.values()))`, taken before the call.
    """
    names = [f"argument {i + 1}" for i in range(len(args))] + list(kwargs)
    code = getattr(fn, "__code__", None)
    if code is not None:
        params = code.co_varnames[: code.co_argcount]
        names[: min(len(args), len(params))] = params[: len(args)]
    for name, old, new in zip(names, before, list(args) + list(kwargs.values())):
        if not unchanged(old, new):
            return str(name)
    return None


def student_frame(err: BaseException) -> str:
    """Where in the student's file an exception was raised ("at cell 5, line 12")."""
    frames = traceback.extract_tb(err.__traceback__)
    for frame in reversed(frames):
        if frame.filename.startswith("<student"):
            return f"at {frame.filename.strip('<>').replace('student ', '')}, line {frame.lineno}"
    return ""
