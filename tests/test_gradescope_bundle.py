"""`cnnex gradescope`: the autograder zip, and its `run_autograder` run against a fake /autograder.

The install step (`setup.sh`) is not run: the package is already installed here. The
tests unpack the zip into `TMP/autograder/source/`, as Gradescope does, put a submission
in `TMP/autograder/submission/` and run `run_autograder` with `AUTOGRADER_ROOT=TMP/autograder`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import exercises
from autograder.cli import main
from autograder.errors import GraderError
from autograder.gradescope_bundle import build_bundle
from autograder.gradescope_run import choose_submission

ROOT = Path(__file__).resolve().parent.parent
GRADESCOPE_KEYS = {"name", "score", "max_score", "status", "output", "visibility"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    build_bundle("ex01", out)
    return out


def fake_autograder(tmp_path: Path, bundle: Path, submission: dict[str, str]) -> Path:
    """`tmp_path/autograder` laid out as on Gradescope, with `submission` (name -> text)."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):  # extractall drops the modes
        (root / "source" / name).chmod(0o755)
    (root / "submission").mkdir()
    for name, text in submission.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_text(text)
    return root


def run_autograder(root: Path) -> dict:
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), CNNEX_PYTHON=sys.executable)
    env.pop("CNNEX_SOLUTIONS", None)
    done = subprocess.run(
        [str(root / "source" / "run_autograder")], env=env, cwd=root, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    doc = json.loads((root / "results" / "results.json").read_text())
    assert all(GRADESCOPE_KEYS <= set(t) for t in doc["tests"])
    return doc


# --------------------------------------------------------------------------- the zip


def test_zip_holds_the_scripts_the_project_and_only_this_exercises_solution(bundle):
    with zipfile.ZipFile(bundle) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        run = archive.read("run_autograder").decode()
    for script in ("setup.sh", "run_autograder"):
        assert infos[script].external_attr >> 16 == 0o100755
    assert {"project/pyproject.toml", "project/autograder/cli.py", "project/cnnexercises/__init__.py"} <= set(infos)
    assert [n for n in infos if n.startswith("project/solutions/")] == ["project/solutions/ex01_convolution.py"]
    unwanted = ("__pycache__", ".pyc", "project/tests/", "project/assignments/")
    assert not [n for n in infos if any(u in n for u in unwanted)]
    assert "-m autograder.gradescope_run ex01_convolution" in run


def test_the_same_tree_gives_the_same_zip(bundle, tmp_path):
    build_bundle("ex01_convolution", tmp_path / "again.zip")
    assert (tmp_path / "again.zip").read_bytes() == bundle.read_bytes()


def test_scripts_are_valid_bash(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path)
    for script in ("setup.sh", "run_autograder"):
        done = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_cli_writes_the_zip(tmp_path, capsys):
    out = tmp_path / "sub" / "autograder.zip"
    assert main(["gradescope", "1", "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    assert zipfile.is_zipfile(out)


def test_unknown_exercise_and_missing_solution_are_clear_errors(tmp_path, capsys):
    assert main(["gradescope", "ex99", "--out", str(tmp_path / "a.zip")]) == 2
    assert "Unknown exercise 'ex99'" in capsys.readouterr().err
    with pytest.raises(GraderError, match="reference solution .*ex01_convolution.py is missing"):
        build_bundle("ex01", tmp_path / "a.zip", solutions=tmp_path)
    assert not (tmp_path / "a.zip").exists()


def test_the_file_named_after_the_exercise_is_graded_notebook_first(tmp_path):
    names = ("notes.py", "ex01_convolution.py", "ex01_convolution.ipynb", ".ipynb_checkpoints/ex01_convolution.ipynb")
    for name in names:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    chosen, others = choose_submission(tmp_path, "ex01_convolution")
    assert chosen == tmp_path / "ex01_convolution.ipynb"
    assert others == [tmp_path / "ex01_convolution.py", tmp_path / "notes.py"]
    assert choose_submission(tmp_path / "nothing", "ex01_convolution") == (None, [])


# --------------------------------------------------------------------------- run_autograder


def test_empty_submission_gets_a_valid_zero_with_what_to_upload(bundle, tmp_path):
    root = fake_autograder(tmp_path, bundle, {"README.txt": "I forgot the notebook"})
    doc = run_autograder(root)
    assert doc["score"] == 0 and doc["max_score"] == exercises.get("ex01").max_score()
    assert "Upload ex01_convolution.ipynb" in doc["output"]
    assert len(doc["tests"]) == len(exercises.get("ex01").checks)


@pytest.mark.slow
def test_run_autograder_grades_the_reference_fully_and_the_stub_zero(bundle, tmp_path):
    solution = (ROOT / "solutions/ex01_convolution.py").read_text()
    stub = (ROOT / "assignments/ex01_convolution.ipynb").read_text()
    full = run_autograder(fake_autograder(tmp_path / "a", bundle, {"ex01_convolution.py": solution}))
    assert full["score"] == full["max_score"] == exercises.get("ex01").max_score()
    submission = {"work/ex01_convolution.ipynb": stub, "scratch.py": ""}
    zero = run_autograder(fake_autograder(tmp_path / "b", bundle, submission))
    assert zero["score"] == 0 and zero["max_score"] == full["max_score"]
    assert "is not implemented yet" in json.dumps(zero["tests"])
    assert zero["output"].startswith("Graded work/ex01_convolution.ipynb; also found: scratch.py")


@pytest.mark.slow
def test_a_submission_the_grader_cannot_read_still_gets_a_valid_zero(bundle, tmp_path):
    doc = run_autograder(fake_autograder(tmp_path, bundle, {"ex01_convolution.ipynb": "{not json"}))
    assert doc["score"] == 0 and doc["max_score"] == exercises.get("ex01").max_score()
    assert doc["tests"] and all(t["score"] == 0 for t in doc["tests"])


@pytest.mark.slow
def test_the_bundled_project_builds_a_wheel_offline(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path / "source")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(tmp_path / "wheels"), str(tmp_path / "source" / "project")],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = (tmp_path / "wheels").glob("cnnexercises-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "autograder/gradescope_bundle.py" in names and "cnnexercises/__init__.py" in names
    shutil.rmtree(tmp_path / "source")


def test_a_submission_too_large_to_read_gets_zero_and_says_why(tmp_path, monkeypatch):
    import autograder.gradescope_run as run

    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "ex01_convolution.ipynb").write_text("{}" + " " * 2000)
    monkeypatch.setattr(run, "MAX_MEMBER_BYTES", 1000)
    doc = run.grade_submission("ex01", tmp_path)
    assert doc["score"] == 0 and "Clear the notebook's outputs" in doc["tests"][0]["output"]
    assert json.loads((tmp_path / "results" / "results.json").read_text())["score"] == 0


def test_a_grader_that_fails_to_start_still_writes_results(tmp_path, monkeypatch):
    import autograder.grading as grading
    import autograder.gradescope_run as run

    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "ex01_convolution.py").write_text("x = 1\n")

    def broken(*args, **kwargs):
        raise RuntimeError("no sandbox here")

    monkeypatch.setattr(grading, "Grader", broken)
    doc = run.grade_submission("ex01", tmp_path)
    assert doc["score"] == 0 and "could not grade ex01_convolution.py" in doc["tests"][0]["output"]
