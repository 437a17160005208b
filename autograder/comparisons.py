"""Comparisons of a student's answer with the expected one, and of a mutant's with the student's.

Arrays compare element-wise with a tolerance (`compare_arrays`, `matches`); counts,
sizes and shapes compare exactly (`exact_problem`, `reproduces`): a tolerance would hide
an off-by-one count.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.formatting import fmt, format_shape, shape_diagnosis

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
        f"first at {where}: got {fmt(arr[first])}, expected {fmt(exp[first])}"
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



def is_number(x: Any) -> bool:
    """An int or a float (Python or NumPy), not a bool."""
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def is_int(x: Any) -> bool:
    """An int (Python or NumPy), not a bool."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def equal_exactly(got: Any, expected: Any) -> bool:
    """Equal values, no tolerance: numbers (not bools), tuples of numbers (a list is read as one), None."""
    if expected is None:
        return got is None
    if isinstance(expected, tuple):
        return isinstance(got, (tuple, list)) and len(got) == len(expected) and all(
            is_number(g) and g == e for g, e in zip(got, expected)
        )
    return is_number(got) and got == expected


def reproduces(got: Any, out: Any) -> bool:
    """True when a mutant's `out` is the student's `got`: equal values of the same kinds.

    Stricter than `equal_exactly`: an int is not reproduced by an equal float (nor a tuple
    by a list), so a mutant that divides with `/` is named only for answers that are floats.
    """
    if not equal_exactly(got, out):
        return False
    if isinstance(out, tuple):
        return isinstance(got, tuple) and all(is_int(g) == is_int(o) for g, o in zip(got, out))
    return out is None or is_int(got) == is_int(out)


def exact_problem(got: Any, expected: Any, int_hint: str) -> tuple[str, str] | None:
    """None when `got` is exactly `expected` with the right types, else `(expected vs got, hint)`.

    The hint is for a wrong type only (a value mismatch is for the mutants to explain).

    Args:
        int_hint: the hint when an int was expected and `got` is an equal number of another type.
    """
    if not equal_exactly(got, expected):
        shown = repr(got) if is_number(got) or isinstance(got, tuple) else f"{type(got).__name__} {got!r}"
        return f"expected {expected!r}, got {shown}", ""
    if isinstance(expected, tuple):
        if not isinstance(got, tuple):
            return (f"expected the tuple {expected!r}, got a {type(got).__name__}",
                    "return a tuple: `tuple(...)` or `(h, w, c)`.")
        if not all(is_int(g) for g in got):
            return (f"expected a tuple of ints, got {tuple(type(g).__name__ for g in got)}",
                    "sizes are ints: use `//` and `int(...)`, not `/`.")
    elif expected is not None and not is_int(got):
        return f"expected an int, got {type(got).__name__} {got!r}", int_hint
    return None
