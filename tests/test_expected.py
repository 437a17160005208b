"""Without `solutions/`, the public checks of the NumPy exercises still judge and explain."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from autograder import exercises
from autograder.checks import ERROR
from autograder.expected import Replay, call_key
from autograder.reference import load_reference
from autograder.runner import check_file

ROOT = Path(__file__).resolve().parent.parent
NUMPY_EXERCISES = exercises.recorded()


@pytest.fixture
def no_solutions(tmp_path, monkeypatch):
    """A student's setup: the package and assignments, no solutions folder."""
    monkeypatch.setenv("CNNEX_SOLUTIONS", str(tmp_path / "not-shipped"))
    load_reference.cache_clear()
    yield
    load_reference.cache_clear()


@pytest.mark.parametrize("name", NUMPY_EXERCISES)
def test_public_checks_run_from_recorded_answers(no_solutions, tmp_path, name):
    student = tmp_path / f"{name}.py"
    shutil.copy(ROOT / "solutions" / f"{name}.py", student)  # correct work, in the student's own file
    report = check_file(name, student)
    assert report.score == report.max_score == exercises.get(name).max_score(hidden=False)
    stub = check_file(name, ROOT / "assignments" / f"{name}.py")
    assert stub.score == 0 and all("is not implemented yet" in r.output for r in stub.results)


def test_mistakes_are_still_named_without_solutions(no_solutions, tmp_path):
    source = (ROOT / "solutions/ex01_convolution.py").read_text()
    student = tmp_path / "ex01_convolution.py"
    student.write_text(source.replace("weights = kernel.reshape(", "weights = kernel[::-1, ::-1].reshape("))
    report = check_file("ex01", student)
    conv = [r for r in report.results if r.function == "conv2d"]
    assert conv and not any(r.passed for r in conv)
    assert all("true convolution" in r.output for r in conv)


def test_hidden_checks_say_they_need_the_solutions(no_solutions):
    report = check_file("ex01", ROOT / "solutions/ex01_convolution.py", hidden=True)
    hidden = [r for r in report.results if r.hidden]
    needs = [r for r in hidden if r.status == ERROR]
    assert needs and all("could not run" in r.output for r in needs)


def test_without_solutions_or_recordings_the_error_is_clear(no_solutions, tmp_path):
    with pytest.raises(Exception, match="Neither the reference solution nor recorded answers"):
        Replay("ex01_convolution", path=tmp_path / "missing.json")


def test_call_key_tells_dtype_shape_and_kwargs_apart():
    a = np.zeros((2, 3))
    keys = {
        call_key("f", (a,), {}),
        call_key("f", (a.astype(np.float32),), {}),
        call_key("f", (a.reshape(3, 2),), {}),
        call_key("f", (a,), {"strides": 2}),
        call_key("g", (a,), {}),
        call_key("f", ((1, 2),), {}),
        call_key("f", ([1, 2],), {}),
    }
    assert len(keys) == 7


@pytest.mark.slow
def test_keras_exercises_need_no_reference(no_solutions):
    report = check_file("ex04", ROOT / "assignments/ex04_keras_cnn.py")
    assert report.score == 0
    assert all(r.output.startswith("`build_cnn` is not implemented yet") for r in report.results)
