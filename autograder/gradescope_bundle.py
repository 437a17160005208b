"""The Gradescope autograder of one exercise: the zip, and what runs inside it.

    cnnex gradescope ex01 --out autograder.zip

The zip holds

    setup.sh          Gradescope runs it once, building the image: a virtual environment
                      in /autograder/venv and `pip install` of the bundled project
    run_autograder    Gradescope runs it per submission: `cnnex grade EXERCISE FILE --out TMP
                      --jobs 1`, then copies the submission's results.json to
                      /autograder/results/results.json
    project/          this project's source (pyproject.toml, autograder/, cnnexercises/) and
                      the one reference solution the exercise needs (solutions/EXERCISE.py);
                      an exercise of a plug-in folder (`CNNEX_EXERCISES`) also has its checks,
                      probes and recordings in project/exercises/, probes/, expected/: the
                      project is then a plug-in folder too, and `run_autograder` names it

Every path hangs off `$AUTOGRADER_ROOT` (default `/autograder`), so the scripts run
against a fake tree in a temporary folder too. A submission without a notebook or `.py`
file, or one the grader cannot grade, still gets a valid results.json: score 0 and a
message that says what to upload.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from autograder import exercises, plugins
from autograder.errors import GraderError
from autograder.reference import solution_path

PROJECT = Path(__file__).resolve().parent.parent
# What `pip install` needs from the checkout, besides the exercise's solution.
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE")
PROJECT_PACKAGES = ("autograder", "cnnexercises")
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", "__MACOSX", ".git"}
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
exec "$PYTHON" -m autograder.gradescope_bundle {exercise}
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
            if path.is_file() and not parts & _SKIP_DIRS and path.suffix not in (".pyc", ".pyo"):
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


# --------------------------------------------------------------------------- running


def choose_submission(folder: Path, exercise: str) -> tuple[Path | None, list[Path]]:
    """The file to grade in a Gradescope submission folder, and the other candidates.

    Prefers a file whose name names the exercise, then a notebook over a `.py`.
    """
    candidates = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix in (".ipynb", ".py")
        and not set(p.relative_to(folder).parts) & _SKIP_DIRS
        and not p.name.startswith(".")
    ) if folder.is_dir() else []
    if not candidates:
        return None, []
    ranked = sorted(
        candidates,
        key=lambda p: (exercises.for_filename(p.name) != exercise, p.suffix != ".ipynb", len(p.parts), p.name),
    )
    return ranked[0], ranked[1:]


def zero_results(exercise: str, message: str) -> dict:
    """A valid results.json worth 0: every check, each with `message`."""
    from autograder.reports.gradescope import results_json
    from autograder.runner import unloadable

    report = unloadable(exercises.get(exercise), message, hidden=True)
    return results_json(report.results, output=message)


def grade_submission(exercise: str, root: str | Path) -> dict:
    """Grade `root/submission` with `cnnex grade`; write and return `root/results/results.json`."""
    from autograder.reports.gradescope import write_results

    root = Path(root)
    target = root / "results" / "results.json"
    name = exercises.resolve(exercise)
    chosen, others = choose_submission(root / "submission", name)
    if chosen is None:
        doc = zero_results(
            name,
            f"No notebook or .py file in your submission. Upload {name}.ipynb (or {name}.py) "
            "with your functions filled in.",
        )
        write_results(target, doc)
        return doc
    with tempfile.TemporaryDirectory(prefix="cnnex-grade-") as tmp:
        command = [sys.executable, "-m", "autograder.cli", "grade", name, str(chosen), "--out", tmp, "--jobs", "1"]
        done = subprocess.run(command, capture_output=True, text=True)
        print(done.stdout[-20000:], done.stderr[-20000:], sep="\n")  # for the instructor's debug view
        found = sorted(Path(tmp).rglob("results.json"))
        doc = None
        if len(found) == 1:
            try:
                doc = json.loads(found[0].read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                doc = None
        if not isinstance(doc, dict) or "score" not in doc:
            doc = zero_results(
                name,
                f"The autograder could not grade {chosen.name} (cnnex grade exited with "
                f"{done.returncode}). Your instructor can see the details.",
            )
    if others:
        note = f"Graded {chosen.relative_to(root / 'submission')}; also found: " + ", ".join(
            str(p.relative_to(root / "submission")) for p in others
        )
        doc["output"] = (note + "\n" + str(doc.get("output") or "")).strip()
    write_results(target, doc)
    return doc


def main(argv: list[str] | None = None) -> int:
    """`python -m autograder.gradescope_bundle EXERCISE`: what `run_autograder` runs."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m autograder.gradescope_bundle EXERCISE", file=sys.stderr)
        return 2
    root = Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    doc = grade_submission(args[0], root)
    print(f"{root / 'results' / 'results.json'}: {doc['score']:g}/{doc.get('max_score', 0):g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
