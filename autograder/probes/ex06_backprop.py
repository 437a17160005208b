"""Probes for ex06_backprop: `numerical_gradient` takes a Python function, which cannot cross
a process boundary, so the function is named and built here, where the student's code runs.

`FUNCTIONS` maps a name to `(f, gradient)`: `f(x, **params) -> float` and its exact
gradient. The checks (in the trusted parent) import the same table to compute the
expected values; only names and arrays travel.
"""

from __future__ import annotations

import numpy as np

from autograder.probes import student_error


def _weighted_sin(x, a, b):
    return float(np.sum(a * np.sin(x)) + np.sum(b * x * x))


def _weighted_sin_gradient(x, a, b):
    return a * np.cos(x) + 2.0 * b * x


def _log_sum_exp(x, scale):
    z = scale * x
    top = np.max(z)
    return float(top + np.log(np.sum(np.exp(z - top))))


def _log_sum_exp_gradient(x, scale):
    z = scale * x
    e = np.exp(z - np.max(z))
    return scale * e / e.sum()  # softmax, times the chain rule's scale


FUNCTIONS = {
    "weighted_sin": (_weighted_sin, _weighted_sin_gradient),  # sum(a sin x + b x²)
    "log_sum_exp": (_log_sum_exp, _log_sum_exp_gradient),  # log sum exp(scale x)
}


def function(name: str, params: dict):
    """`f(x)` of the table entry `name`, with its parameters bound (arrays as float64)."""
    f = FUNCTIONS[name][0]
    bound = {k: np.asarray(v, dtype=float) for k, v in params.items()}
    return lambda x: f(np.asarray(x, dtype=float), **bound)


def numerical_gradient_of(student, f_name, x, eps, params):
    """Call the student's `numerical_gradient(f, x, eps)` on the table's function `f_name`.

    Returns:
        A dict: `error` (the student's exception as data), or `gradient` (an array, or None
        when the result is not array-like), `type` (of the result), `x_changed` (the
        caller's `x` is not what it was, beyond rounding) and `calls` (how often `f` ran).
    """
    f = function(str(f_name), params)
    calls = [0]

    def counted(point):
        calls[0] += 1
        return f(point)

    x = np.array(x, dtype=float)
    before = x.copy()
    try:
        got = student.numerical_gradient(counted, x, eps=float(eps))
    except NotImplementedError:
        raise
    except Exception as err:  # the student's code raised: report it as data
        return {"error": student_error("numerical_gradient", err)}
    try:
        gradient = np.array(got, dtype=float) if not isinstance(got, (str, bytes, dict)) else None
    except (TypeError, ValueError):
        gradient = None
    changed = x.shape != before.shape or not np.allclose(x, before, rtol=1e-9, atol=0.0)
    return {"gradient": gradient, "type": type(got).__name__, "x_changed": bool(changed), "calls": calls[0]}


PROBES = {"numerical_gradient_of": numerical_gradient_of}
