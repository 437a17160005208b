"""Probes: the code that looks at what a student's code builds.

One module per exercise that needs them (`autograder/probes/ex04_keras_cnn.py`), holding a
`PROBES = {name: function}` dict of `function(student, **params) -> plain data`. They live
apart from the checks so that an isolated child can import them without ever loading the
checks module (hidden checks, expected values) into its memory.

A Keras probe is `staged(build, measure, build_params)`: `build(student, **some params)`
runs the student's code and returns plain data plus `models` (name -> `keras.Model`);
`measure(built, **params)` measures those models. In-process (students) the two run one
after the other on the live models. Under `cnnex grade` they run in different processes:
the student's child builds and saves each model (`.keras`), is killed, and a fresh child
of the zygote that never loaded the submission loads them with `safe_mode=True` (only
Keras' own classes, no code from the file) and measures them, with the parameters only it
receives (held-out images, for example). What the student's objects say about themselves
(`count_params()`, `weights`, `fit`) is never asked where it could lie.
"""

from __future__ import annotations

from autograder.keras_errors import readable

import dataclasses
import importlib
import os
from typing import Callable

from autograder import plugins
from autograder.student import student_frame


def probes_for(exercise: str) -> dict:
    """The probes of an exercise (empty when it has none), here or in a plug-in folder."""
    plugins.extend(__path__, os.path.dirname(os.path.abspath(__file__)), "probes")
    try:
        module = importlib.import_module(f"autograder.probes.{exercise}")
    except ModuleNotFoundError as err:
        if err.name == f"autograder.probes.{exercise}":
            return {}
        raise
    return dict(module.PROBES)


def student_error(function: str, err: BaseException, during: str = "") -> dict:
    """A student's exception as plain data: type, message, and where in their file."""
    # cleaned before it is cut: a graph error's cause comes after its construction traceback
    return {"function": function, "type": type(err).__name__, "message": readable(str(err), limit=500),
            "where": student_frame(err), "during": during}


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


@dataclasses.dataclass(frozen=True)
class Stage:
    """A probe in two halves; see the module docstring.

    Attributes:
        build: `build(student, **params) -> dict`, with `models` when it built any.
        measure: `measure(built, **params) -> plain data`; `built["models"][name]` is a model,
            or None when it could not be loaded (then `built["unloadable"][name]` says why).
        build_params: the parameters `build` receives (the others go to `measure` only).
    """

    build: Callable
    measure: Callable
    build_params: tuple[str, ...]


def staged(build: Callable, measure: Callable, build_params: tuple[str, ...]) -> Callable:
    """A probe that runs `build` then `measure` here, and carries its `Stage` for isolation."""

    def probe(student, **params):
        built = build(student, **{k: params[k] for k in build_params if k in params})
        if not isinstance(built, dict) or "models" not in built:
            return built
        return measure(built, **params)

    probe.stage = Stage(build, measure, tuple(build_params))
    probe.__name__ = getattr(measure, "__name__", "probe")
    return probe


def unloadable_error(function: str, name: str, built: dict) -> dict | None:
    """The error dict for a model that could not be loaded for measuring (None when it was)."""
    if built["models"].get(name) is not None:
        return None
    reason = (built.get("unloadable") or {}).get(name, "")
    return {"function": function, "type": "UnloadableModel", "during": "loading the saved model",
            "where": "", "message": (
                "the grader measures your model in a separate process that loads it from a saved "
                "`.keras` file with Keras' own classes only, and it could not be loaded "
                f"({reason[:300]}). Build it from Keras layers (keras.Sequential or the functional API) "
                "without classes, Lambda layers or functions of your own.")}
