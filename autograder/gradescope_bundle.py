"""The Gradescope autograder of one exercise: the zip, and what runs inside it.

    cnnex gradescope ex01 --out autograder.zip

The zip holds

    setup.sh          Gradescope runs it once, building the image: a virtual environment
                      in /autograder/venv and `pip install` of the bundled project
    run_autograder    Gradescope runs it per submission: `python -m autograder.gradescope_run
                      EXERCISE` grades the submission as `cnnex grade` does (isolated, hidden
                      checks included) and writes /autograder/results/results.json
    project/          this project's source (pyproject.toml, autograder/, cnnexercises/) and
                      the one reference solution the exercise needs (solutions/EXERCISE.py);
                      an exercise of a plug-in folder (`CNNEX_EXERCISES`) also has its checks,
                      probes and recordings in project/exercises/, probes/, expected/: the
                      project is then a plug-in folder too, and `run_autograder` names it

Every path hangs off `$AUTOGRADER_ROOT` (default `/autograder`), so the scripts run
against a fake tree in a temporary folder too. What runs inside Gradescope is
`autograder.gradescope_run`.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from autograder import exercises, plugins
from autograder.errors import GraderError
from autograder.reference import solution_path

PROJECT = Path(__file__).resolve().parent.parent
# What `pip install` needs from the checkout, besides the exercise's solution.
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE")
PROJECT_PACKAGES = ("autograder", "cnnexercises")
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", "__MACOSX", ".git"}
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same tree gives the same zip

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# A virtual environment: recent Ubuntu images refuse `pip install` into the system Python.
if ! python3 -m venv "$ROOT/venv"; then
    rm -rf "$ROOT/venv"
    apt-get update
    apt-get install -y python3-venv python3-pip
    python3 -m venv "$ROOT/venv"
fi
"$ROOT/venv/bin/python" -m pip install --upgrade pip
"$ROOT/venv/bin/python" -m pip install "$HERE/project"
"$ROOT/venv/bin/cnnex" list
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission of {exercise}.
set -euo pipefail
export AUTOGRADER_ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{CNNEX_PYTHON:-$AUTOGRADER_ROOT/venv/bin/python}}"
[ -x "$PYTHON" ] || PYTHON=python3
export CNNEX_SOLUTIONS="${{CNNEX_SOLUTIONS:-$AUTOGRADER_ROOT/source/project/solutions}}"
# An exercise of a plug-in folder is bundled as one (project/exercises/...): name it.
export CNNEX_EXERCISES="$AUTOGRADER_ROOT/source/project${{CNNEX_EXERCISES:+:$CNNEX_EXERCISES}}"
export MPLBACKEND=Agg TF_CPP_MIN_LOG_LEVEL=3
exec "$PYTHON" -m autograder.gradescope_run {exercise}
"""


# --------------------------------------------------------------------------- building


def _exercise_files(exercise: str) -> dict[str, Path]:
    """Archive name -> file, for the exercise's own modules when it comes from a plug-in folder."""
    folder = plugins.folder_of(exercises.checks_file(exercise))
    if folder is None:
        return {}  # part of the package's own files already
    own = [f"exercises/{exercise}.py", f"probes/{exercise}.py", f"expected/{exercise}.json"]
    return {f"project/{name}": folder / name for name in own if (folder / name).is_file()}


def _project_files(exercise: str, solutions: Path | None) -> dict[str, Path]:
    """Archive name -> file, for everything under `project/`."""
    if not (PROJECT / "pyproject.toml").exists():
        raise GraderError(
            f"`cnnex gradescope` bundles the project's source, and {PROJECT} has no pyproject.toml. "
            "Run it from a clone of the repository installed with `pip install -e .`."
        )
    files = {f"project/{name}": PROJECT / name for name in PROJECT_FILES if (PROJECT / name).exists()}
    for package in PROJECT_PACKAGES:
        for path in sorted((PROJECT / package).rglob("*")):
            parts = set(path.relative_to(PROJECT).parts)
            if path.is_file() and not parts & SKIP_DIRS and path.suffix not in (".pyc", ".pyo"):
                files[f"project/{path.relative_to(PROJECT).as_posix()}"] = path
    files.update(_exercise_files(exercise))
    solution = solutions / f"{exercise}.py" if solutions else solution_path(exercise)
    if not solution.exists():
        raise GraderError(
            f"The reference solution {solution} is missing: the grader compares with it. "
            f"Received: exercise={exercise!r}"
        )
    files[f"project/solutions/{exercise}.py"] = solution
    return files


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build_bundle(exercise: str, out: str | Path, solutions: str | Path | None = None) -> list[str]:
    """Write the Gradescope autograder zip of `exercise` to `out`; return its entries.

    Args:
        exercise: "ex01", "ex01_convolution", ...
        out: the zip to write (its folder is created).
        solutions: folder of the solution files; default the exercise's own (`reference.solution_path`).

    Raises:
        GraderError: unknown exercise, no reference solution, or not run from a checkout.
    """
    name = exercises.resolve(exercise)
    files = _project_files(name, Path(solutions) if solutions else None)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        _add(archive, "setup.sh", SETUP_SH.encode(), executable=True)
        _add(archive, "run_autograder", RUN_AUTOGRADER.format(exercise=name).encode(), executable=True)
        for arcname, path in sorted(files.items()):
            _add(archive, arcname, path.read_bytes())
    os.replace(tmp, out)
    return ["setup.sh", "run_autograder", *sorted(files)]
