"""Probes: the code that runs where the student's code runs (in the isolated child).

One module per exercise that needs them (`autograder/probes/ex04_keras_cnn.py`), holding a
`PROBES = {name: function}` dict of `function(student, **params) -> plain data`. They live
apart from the checks so that an isolated child can import them without ever loading the
checks module (hidden checks, expected values) into its memory.
"""

from __future__ import annotations

import importlib

from autograder.checks import _student_frame


def probes_for(exercise: str) -> dict:
    """The probes of an exercise (empty when it has none)."""
    try:
        module = importlib.import_module(f"autograder.probes.{exercise}")
    except ModuleNotFoundError as err:
        if err.name == f"autograder.probes.{exercise}":
            return {}
        raise
    return dict(module.PROBES)


def student_error(function: str, err: BaseException, during: str = "") -> dict:
    """A student's exception as plain data: type, message, and where in their file."""
    return {"function": function, "type": type(err).__name__, "message": str(err)[:500],
            "where": _student_frame(err), "during": during}


def error_text(err: BaseException) -> str:
    """`Type: first line of the message`, at most 300 characters."""
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0] if text else ''}"[:300]


def build_in_scope(function: str, build, seed: int, *args, **kwargs):
    """Seed everything, call the student's `build` inside the distribution strategy's scope.

    Returns:
        `(model, None)`, or `(None, error dict)` when the student's code raised;
        NotImplementedError propagates (the check reads "not implemented yet").
    """
    from cnnexercises import distribute

    distribute.set_seed(int(seed))
    try:
        with distribute.get_strategy().scope():
            return build(*args, **kwargs), None
    except NotImplementedError:
        raise
    except Exception as err:  # the student's code raised: report it as data
        return None, student_error(function, err, "building")
