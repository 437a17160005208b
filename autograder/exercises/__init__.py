"""The exercises, one module each; imported lazily so NumPy exercises never pull in Keras.

The registry: every module named `exNN_<name>` of this package, and of the plug-in folders
`CNNEX_EXERCISES` names (see `autograder.plugins`).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import re
from pathlib import Path

from autograder import plugins
from autograder.checks import Exercise
from autograder.errors import UnknownExercise

_MODULE = re.compile(r"ex\d\d_\w+")
_OWN = os.path.dirname(os.path.abspath(__file__))


def available() -> list[str]:
    """The exercises: every module named `exNN_<name>` here and in the plug-in folders, in order.

    Adding an exercise is adding its module: nothing else lists exercises by hand.
    """
    plugins.extend(__path__, _OWN, "exercises")
    return sorted({m.name for m in pkgutil.iter_modules(__path__) if _MODULE.fullmatch(m.name)})


def home(name: str) -> Path:
    """The folder that holds the exercise's `solutions/`: this checkout (or installation) for
    its own exercises, the plug-in folder for the others."""
    checks = checks_file(name)
    return plugins.folder_of(checks) or checks.parents[2]


def recordings(name: str) -> Path:
    """The folder of the exercise's recorded answers: `expected/` beside its checks' folder
    (`autograder/expected/` here, `FOLDER/expected/` in a plug-in folder)."""
    return checks_file(name).parent.parent / "expected"


def checks_file(name: str) -> Path:
    """The checks module of an exercise, found without importing it."""
    full = resolve(name)
    spec = importlib.util.find_spec(f"{__name__}.{full}")
    return Path(spec.origin)


def recorded() -> list[str]:
    """The exercises whose public checks replay the reference's recorded answers (the NumPy ones)."""
    from autograder.resources import RECORDED

    return [n for n in available() if get(n).resources.oracle == RECORDED]


def resolve(name: str) -> str:
    """The full exercise name for "ex01", "1", "ex01_convolution" or a file name that names it."""
    key = str(name).strip().lower()
    if key.isdigit():
        key = f"ex{int(key):02d}"
    for full in available():
        prefix = full.split("_", 1)[0]
        if key == full or key == prefix or key.startswith(full) or key.startswith(prefix + "_"):
            return full
    raise UnknownExercise(
        f"Unknown exercise {name!r}. Choose one of: {', '.join(available())} "
        "(the prefix such as 'ex01' is enough)."
    )


def for_filename(filename: str) -> str | None:
    """The exercise a student file's name names (`ex01_convolution_alice.ipynb`), or None."""
    stem = filename.rsplit("/", 1)[-1].split(".", 1)[0].lower()
    for full in available():
        prefix = full.split("_", 1)[0]
        if stem == prefix or stem.startswith(prefix + "_") or stem.startswith(full):
            return full
    return None


def get(name: str) -> Exercise:
    """The `Exercise` object of an exercise (imports its checks module)."""
    full = resolve(name)
    return importlib.import_module(f"{__name__}.{full}").EXERCISE
