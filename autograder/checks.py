"""The check/result model and the comparison helpers every exercise uses.

An exercise module builds one `Exercise`, registers checks on it with
`@EXERCISE.check(...)` and known-wrong variants of the reference with
`@EXERCISE.mutant(...)`. A check body receives a `Context`; it calls the student's
code through `ctx.call` / `ctx.compare`, and fails by raising `CheckFailed`.

The student is any object with attribute access to functions: the namespace
of a file loaded in this process, or a proxy that forwards calls to an isolated
child process. Check bodies never see the difference.

The proxy contract (see `isolation.py`): a class attribute `remote = True`;
attribute access returns callables that forward plain arguments and return plain
results; a student exception arrives as `StudentError`, an argument modified in
the child as `ArgumentModified`, a dead/timed-out child as `Unavailable`;
`run_probe(exercise, name, params)` runs a registered probe in the child; and
`problems` lists what went wrong while loading the file.

Glossary of statuses (Gradescope's `status` is "passed"/"failed"; ours adds why):
    passed, failed, NOT_IMPLEMENTED, ERROR, POLICY, TIMEOUT, MEMORY, CRASHED
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import inspect
import time
import traceback
import warnings
from typing import Any, Callable, Iterable

import numpy as np

from autograder.resources import NUMPY, Resources

PASSED = "passed"
FAILED = "failed"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
ERROR = "ERROR"
POLICY = "POLICY"
TIMEOUT = "TIMEOUT"
MEMORY = "MEMORY"
CRASHED = "CRASHED"


class CheckFailed(Exception):
    """A check's verdict against the student, in three parts.

    Args:
        what: what was checked, e.g. "conv2d(strides=2, padding='same') on images (2, 7, 6, 3)".
        detail: expected vs got.
        hint: how to fix it (may be empty); a `Diagnosis` when it names a known mistake.
        status: one of the statuses above; `failed` unless the student code
            is missing, raised, or broke a policy.
    """

    def __init__(self, what: str, detail: str = "", hint: str = "", status: str = FAILED):
        super().__init__(what)
        self.what = what
        self.detail = detail
        self.hint = hint
        self.status = status

    def mistake(self, function: str) -> str:
        """The id of the known mistake the hint names ("" when none), as seen from a check of `function`."""
        if not isinstance(self.hint, Diagnosis):
            return ""
        return self.hint.mistake if self.hint.function == function else f"{self.hint.function}.{self.hint.mistake}"

    def message(self) -> str:
        lines = [self.what]
        if self.detail:
            lines += ["  " + line for line in self.detail.splitlines()]
        if self.hint:
            lines.append("  Hint: " + self.hint)
        return "\n".join(lines)


class Diagnosis(str):
    """A hint that names a known mistake: the text students see, plus the mutant it comes from.

    It is a `str`, so checks pass it on as any hint; `CheckFailed.mistake` reads the id
    back for the instructors' reports. Text added to it makes a plain `str` (no diagnosis).
    """

    function: str
    mistake: str

    def __new__(cls, hint: str, function: str, mistake: str):
        text = super().__new__(cls, hint)
        text.function, text.mistake = function, mistake
        return text


# Mistakes the engine itself recognises in any function: id -> hint.
MODIFIES_INPUT = "modifies_input"
GENERIC_MISTAKES = {
    MODIFIES_INPUT: "Work on a copy (`x = x.copy()`, `np.pad`, or build a new array) instead of writing into the input.",
}


def mistake_hint(exercise: "Exercise", function: str, mistake: str) -> str:
    """The hint students saw for `mistake` (a `Result.mistake`) in a check of `function` ("" if unknown)."""
    owner, _, name = mistake.rpartition(".")
    for mutant in exercise.mutants.get(owner or function, []):
        if mutant.name == name:
            return mutant.hint
    return GENERIC_MISTAKES.get(name, "")


class StudentError(Exception):
    """Raised by a student proxy when the student's function raised.

    Carries only plain text, so it can cross a process boundary.
    """

    def __init__(self, function: str, exc_type: str, exc_message: str, where: str = ""):
        super().__init__(f"{exc_type}: {exc_message}")
        self.function = function
        self.exc_type = exc_type
        self.exc_message = exc_message
        self.where = where


class ArgumentModified(Exception):
    """Raised by an isolated proxy when the child saw the student's function modify an argument."""

    def __init__(self, function: str, argument: str):
        super().__init__(f"{function} modified {argument}")
        self.function = function
        self.argument = argument


class Unavailable(Exception):
    """Raised by an isolated proxy when the child died, timed out or ran out of memory."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclasses.dataclass
class Result:
    """The outcome of one check (one row of Gradescope's `tests[]`)."""

    name: str
    function: str
    score: float
    max_score: float
    status: str
    output: str
    hidden: bool = False
    seconds: float = 0.0
    artifacts: dict = dataclasses.field(default_factory=dict)
    mistake: str = ""  # the id of the known mistake the check recognised ("" when none)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def to_gradescope(self) -> dict:
        return {
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "status": PASSED if self.passed else FAILED,
            "output": self.output,
            "visibility": "after_published" if self.hidden else "visible",
            "tags": [self.function, self.status],
            "mistake": self.mistake or None,
        }


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

    def probe(self, name: str | None = None):
        """Register a probe: code that runs *where the student's code runs*.

        A probe is `probe(student, **params) -> plain data` (dicts, lists, str, int,
        float, bool, NumPy arrays). It is how checks look at live objects that cannot
        cross a process boundary (a Keras model): in-process it is called directly;
        under isolation the child runs it and sends back only the plain data, and the
        check in the trusted parent judges that data.
        """

        def register(fn):
            self.probes[name or fn.__name__] = fn
            return fn

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


# --------------------------------------------------------------------------- formatting


def describe(value: Any) -> str:
    """A short description of an argument for the "what was checked" line."""
    if isinstance(value, np.ndarray):
        return f"array {tuple(value.shape)}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"{type(value).__name__} of {len(value)}"
    if isinstance(value, dict):
        return repr(value)
    return repr(value)


def signature(function: str, args: tuple, kwargs: dict, names: tuple[str, ...] = ()) -> str:
    """`conv2d(images (2, 7, 6, 3), kernel (3, 3, 3, 4), padding='same')`: arrays by name and shape."""
    parts = []
    for i, a in enumerate(args):
        if i < len(names) and isinstance(a, np.ndarray):
            parts.append(f"{names[i]} {tuple(a.shape)}")
        else:
            parts.append(describe(a))
    parts += [f"{k}={describe(v)}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


def format_shape(shape: tuple, axes: tuple[str, ...] | None) -> str:
    if axes and len(axes) == len(shape):
        return "(" + ", ".join(f"{a}={n}" for a, n in zip(axes, shape)) + ")"
    return str(tuple(shape))


# what usually makes one axis of an output come out the wrong size
_SIZE_CAUSE = (
    "the output size comes from the kernel (or window) size, the padding and the strides: "
    "`(n + 2p - k) // s + 1`, or `ceil(n / s)` for 'same'"
)
_AXIS_CAUSES = {
    "batch": "every image of the batch needs its own output: loop over (or broadcast along) axis 0",
    "height": _SIZE_CAUSE,
    "width": _SIZE_CAUSE,
    "out_height": _SIZE_CAUSE,
    "out_width": _SIZE_CAUSE,
    "channels": "pooling and padding keep the input's channels; a convolution has one per filter",
    "filters": "one output channel per filter: the kernel's last axis",
}


def shape_diagnosis(got: tuple, expected: tuple, axes: tuple[str, ...] | None) -> str:
    """Which axis is off, and its likely cause: "\n  height is 7, expected 5: ...", or ""."""
    if len(got) != len(expected):
        named = f" ({', '.join(axes)})" if axes and len(axes) == len(expected) else ""
        return f"\n  {len(got)} axes, expected {len(expected)}{named}"
    names = axes if axes and len(axes) == len(expected) else [f"axis {i}" for i in range(len(expected))]
    lines, told = [], set()
    for name, g, e in zip(names, got, expected):
        if g != e:
            cause = _AXIS_CAUSES.get(name)
            lines.append(f"\n  {name} is {g}, expected {e}" + (f": {cause}" if cause and cause not in told else ""))
            told.add(cause)
    if sorted(got) == sorted(expected) and len(lines) > 1:
        lines.append("\n  the same sizes in another order: are two axes swapped (a transpose, or H and W mixed up)?")
    return "".join(lines)


def _fmt(x: Any) -> str:
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.6g}"
    return repr(x.item() if isinstance(x, np.generic) else x)


# --------------------------------------------------------------------------- comparisons


def as_array(value: Any) -> np.ndarray | None:
    """The student's value as a float/int ndarray, or None when it is not array-like.

    Objects that pretend to be arrays (custom `__eq__`, `__array__` tricks) are
    turned into plain data first, so comparisons are made by NumPy on numbers.
    """
    if isinstance(value, np.ndarray):
        arr = value
    elif isinstance(value, (list, tuple, int, float, np.number, np.bool_)):
        try:
            arr = np.asarray(value)
        except Exception:
            return None
    else:
        return None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        return None
    return np.array(arr, copy=True)


def compare_arrays(
    got: Any,
    expected: np.ndarray,
    axes: tuple[str, ...] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> str | None:
    """Compare element-wise. Returns None when equal, else the "expected vs got" text."""
    expected = np.asarray(expected)
    arr = as_array(got)
    if arr is None:
        return (
            f"expected an ndarray of shape {format_shape(expected.shape, axes)}, "
            f"got {type(got).__name__}"
        )
    if arr.shape != expected.shape:
        return (
            f"shape: expected {format_shape(expected.shape, axes)}, "
            f"got {format_shape(arr.shape, axes)}"
        ) + shape_diagnosis(arr.shape, expected.shape, axes)
    if expected.size == 0:
        return None
    arr = arr.astype(np.float64)
    exp = expected.astype(np.float64)
    bad = ~np.isclose(arr, exp, rtol=rtol, atol=atol, equal_nan=False)
    if not bad.any():
        return None
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    where = "[" + ", ".join(str(i) for i in first) + "]"
    return (
        f"{int(bad.sum())} of {bad.size} values differ\n"
        f"first at {where}: got {_fmt(arr[first])}, expected {_fmt(exp[first])}"
    )


def mismatch_slice(got: Any, expected: Any, limit: int = 64) -> dict | None:
    """The `(H, W)` plane of expected and got where they first differ, as plain lists.

    For a picture of the difference in the notebook's feedback: arrays of the same shape
    with at least 2 axes; the plane holds the first differing value (batch and channel
    fixed for NHWC), cut to `limit` x `limit`. None when there is nothing to draw.
    """
    arr, exp = as_array(got), np.asarray(expected)
    if arr is None or arr.shape != exp.shape or exp.ndim < 2 or exp.size == 0 or exp.dtype.kind not in "biuf":
        return None
    bad = ~np.isclose(arr.astype(np.float64), exp.astype(np.float64), rtol=1e-5, atol=1e-6)
    if not bad.any():
        return None
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    if exp.ndim == 2:
        index, where = (slice(None), slice(None)), ""
    else:  # rows and columns are the two axes before the last one (NHWC), the rest fixed
        index = first[:-3] + (slice(None), slice(None), first[-1]) if exp.ndim >= 3 else first
        where = ", ".join(f"{n}={i}" for n, i in zip(("image", "channel"), (first[0], first[-1]))) if exp.ndim == 4 else f"index {first}"
    plane = (slice(0, limit), slice(0, limit))
    return {
        "expected": exp[index][plane].astype(float).tolist(),
        "got": arr[index][plane].astype(float).tolist(),
        "where": where,
    }


def matches(got: Any, expected: Any, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """True when two outputs agree (arrays element-wise, scalars by value)."""
    if isinstance(expected, (tuple, list)) and not isinstance(got, np.ndarray):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return False
        return all(matches(g, e, rtol, atol) for g, e in zip(got, expected))
    return compare_arrays(got, np.asarray(expected), None, rtol, atol) is None


# --------------------------------------------------------------------------- context


def _snapshot(values: Iterable[Any]) -> list[Any]:
    return [copy.deepcopy(v) for v in values]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:
        return False


class Context:
    """What a check body works with.

    Attributes:
        student: object whose attributes are the student's functions.
        reference: object whose attributes are the reference functions (or None).
        rng: `np.random.Generator` seeded from the check's name.
        exercise: the `Exercise`.
    """

    def __init__(self, exercise: Exercise, check: Check, student: Any, reference: Any):
        self.exercise = exercise
        self.check = check
        self.student = student
        self.reference = reference
        self.rng = np.random.default_rng(check.seed)
        self.artifacts: dict = {}

    def attach(self, key: str, value: Any) -> None:
        """Keep plain data for the reports (e.g. a training history for the HTML feedback)."""
        self.artifacts[key] = value

    # -- calling ---------------------------------------------------------------------

    def student_function(self, function: str) -> Callable:
        fn = getattr(self.student, function, None)
        if fn is None or not callable(fn):
            problems = getattr(self.student, "problems", None) or []
            # a live notebook says what to run (read from the class: a student cannot set it)
            undefined = getattr(type(self.student), "undefined", None)
            if callable(undefined):
                what, hint = undefined(function)
                raise CheckFailed(what, hint=hint, status=ERROR)
            raise CheckFailed(
                f"`{function}` is not defined in your file",
                detail="\n".join(f"while loading: {p}" for p in problems),
                hint=f"Define a function named `{function}` (check the spelling), "
                "and make sure its cell has no syntax error.",
                status=ERROR,
            )
        return fn

    def call(self, function: str, *args, what: str | None = None, **kwargs) -> Any:
        """Call the student's `function`; turn stubs, exceptions and input mutation into verdicts."""
        fn = self.student_function(function)
        what = what or signature(function, args, kwargs, self._parameters(function))
        before = _snapshot(list(args) + list(kwargs.values()))
        try:
            out = fn(*args, **kwargs)
        except NotImplementedError:
            raise CheckFailed(
                f"`{function}` is not implemented yet",
                hint="Replace the `raise NotImplementedError` line with your code.",
                status=NOT_IMPLEMENTED,
            ) from None
        except StudentError as err:
            raise self._raised(function, what, err.exc_type, err.exc_message, err.where) from None
        except ArgumentModified as err:
            raise self._modified(function, err.argument, what) from None
        except Unavailable:
            raise
        except RecursionError as err:
            raise self._raised(function, what, "RecursionError", str(err), "") from None
        except SystemExit as err:  # the student's code called sys.exit / exit(): not the grader's exit
            raise self._raised(function, what, "SystemExit", f"called exit({err.code!r})", _student_frame(err)) from None
        except Exception as err:  # the student's code raised
            if type(err).__name__ == "NotImplementedError":
                raise
            raise self._raised(function, what, type(err).__name__, str(err), _student_frame(err)) from None
        names = [f"argument {i + 1}" for i in range(len(args))] + list(kwargs)
        if hasattr(fn, "__code__"):
            params = fn.__code__.co_varnames[: fn.__code__.co_argcount]
            names[: min(len(args), len(params))] = params[: len(args)]
        for name, old, new in zip(names, before, list(args) + list(kwargs.values())):
            if not _same(old, new):
                raise self._modified(function, name, what)
        return out

    def run_probe(self, name: str, **params) -> Any:
        """Run the exercise's probe `name` where the student's code lives; return its plain data.

        Student errors inside the probe become verdicts like those of `call`.
        """
        try:
            # Only a proxy *class* can declare itself remote: a student's namespace cannot.
            if getattr(type(self.student), "remote", False):
                return self.student.run_probe(self.exercise.name, name, params)
            return self.exercise.probes[name](self.student, **params)
        except CheckFailed:
            raise
        except NotImplementedError as err:
            function = str(err) or name
            raise CheckFailed(
                f"`{function}` is not implemented yet",
                hint="Replace the `raise NotImplementedError` line with your code.",
                status=NOT_IMPLEMENTED,
            ) from None
        except StudentError as err:
            raise self._raised(err.function, err.function, err.exc_type, err.exc_message, err.where) from None
        except Unavailable:
            raise
        except (Exception, SystemExit) as err:
            raise self._raised(name, f"probe {name}", type(err).__name__, str(err), _student_frame(err)) from None

    @staticmethod
    def _modified(function: str, name: str, what: str) -> CheckFailed:
        return CheckFailed(
            f"`{function}` modified its `{name}` argument",
            detail=f"while running {what}",
            hint=Diagnosis(GENERIC_MISTAKES[MODIFIES_INPUT], function, MODIFIES_INPUT),
        )

    def _parameters(self, function: str) -> tuple[str, ...]:
        """The contract's parameter names, read from the reference (names arrays in messages)."""
        try:
            return tuple(inspect.signature(getattr(self.reference, function)).parameters)
        except (AttributeError, TypeError, ValueError):
            return ()

    def _raised(self, function, what, exc_type, exc_message, where) -> CheckFailed:
        if exc_type == "NotImplementedError":
            return CheckFailed(
                f"`{function}` is not implemented yet",
                hint="Replace the `raise NotImplementedError` line with your code.",
                status=NOT_IMPLEMENTED,
            )
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
        """Call the student's and the reference `function` on the same inputs and compare.

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

    def diagnose(self, function: str, got: Any, args: tuple, kwargs: dict) -> str:
        """The hint (a `Diagnosis`) of the first mutant whose output equals `got` on these inputs."""
        for mutant in self.exercise.mutants.get(function, []):
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # a known mistake may overflow: not the student's noise
                    out = mutant.impl(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            except Exception:
                continue
            if matches(got, out):
                return mutant.diagnosis
        return ""

    def expect(self, condition: bool, what: str, detail: str = "", hint: str = "") -> None:
        """Fail with a three-part message unless `condition` holds."""
        if not condition:
            raise CheckFailed(what, detail, hint)


def _student_frame(err: BaseException) -> str:
    """Where in the student's file an exception was raised ("cell 5, line 12: ...")."""
    frames = traceback.extract_tb(err.__traceback__)
    for frame in reversed(frames):
        if frame.filename.startswith("<student"):
            return f"at {frame.filename.strip('<>').replace('student ', '')}, line {frame.lineno}"
    return ""


# --------------------------------------------------------------------------- running


def run_check(exercise: Exercise, check: Check, student: Any, reference: Any) -> Result:
    """Run one check and turn its outcome into a `Result`; never raises."""
    start = time.perf_counter()
    ctx = Context(exercise, check, student, reference)
    status, output, mistake = ERROR, "", ""
    try:
        note = check.body(ctx)  # a body may return a line to show when it passes
    except CheckFailed as failure:
        status, mistake = failure.status, failure.mistake(check.function)
        output = failure.message() if not check.hidden else _hidden_message(check, failure)
    except Unavailable as gone:
        status = gone.status
        # what a dead child said may quote a hidden check's inputs: hidden checks give the status only
        output = f"{check.name}: {gone.message}" if not check.hidden else f"{check.name}: {gone.status} (hidden check)"
    except Exception as err:  # a bug in the check, never the student's fault to see a traceback
        status = ERROR
        output = f"{check.name}: the grader could not run this check"
        if not check.hidden:
            output += f" ({type(err).__name__}: {err})"
    else:
        status = PASSED
        output = note if isinstance(note, str) and not check.hidden else (check.success or "passed")
    score = check.points if status == PASSED else 0.0
    return Result(
        name=check.name,
        function=check.function,
        score=score,
        max_score=check.points,
        status=status,
        output=output,
        hidden=check.hidden,
        seconds=time.perf_counter() - start,
        artifacts=ctx.artifacts,
        mistake=mistake,
    )


def _hidden_message(check: Check, failure: CheckFailed) -> str:
    """A hidden check reports its outcome and hint, never its inputs or expected values."""
    text = f"{check.name}: failed (hidden check; its inputs are not shown)"
    if failure.status == NOT_IMPLEMENTED:
        text = failure.what
    if failure.hint:
        text += "\n  Hint: " + failure.hint
    return text


def run_checks(
    exercise: Exercise,
    student: Any,
    reference: Any,
    hidden: bool = False,
    functions: Iterable[str] | None = None,
    policy: dict[str, str] | None = None,
) -> list[Result]:
    """Run an exercise's checks.

    Args:
        hidden: include hidden checks (instructor grading).
        functions: only the checks of these functions.
        policy: function name -> reason, for functions that broke the NumPy-only
            rule; their checks score 0 with status POLICY and are not run.
    """
    policy = policy or {}
    results = []
    for check in exercise.checks_for(functions, hidden):
        if check.function in policy:
            results.append(
                Result(
                    check.name,
                    check.function,
                    0.0,
                    check.points,
                    POLICY,
                    policy[check.function],
                    check.hidden,
                )
            )
            continue
        results.append(run_check(exercise, check, student, reference))
    return results
