"""The Gradescope bundle of ex06 and ex07: the reference gets full marks, the stub zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_gradescope_bundle import fake_autograder, run_autograder

from autograder import exercises
from autograder.gradescope_bundle import build_bundle

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ex06_backprop", "ex07_video"])
def test_bundle_grades_the_reference_fully_and_the_stub_zero(tmp_path, name):
    bundle = tmp_path / "autograder.zip"
    build_bundle(name, bundle)
    solution = (ROOT / "solutions" / f"{name}.py").read_text()
    full = run_autograder(fake_autograder(tmp_path / "a", bundle, {f"{name}.py": solution}))
    assert full["score"] == full["max_score"] == exercises.get(name).max_score(), json.dumps(full["tests"])[:3000]
    stub = (ROOT / "assignments" / f"{name}.ipynb").read_text()
    zero = run_autograder(fake_autograder(tmp_path / "b", bundle, {f"{name}.ipynb": stub}))
    assert zero["score"] == 0 and "is not implemented yet" in json.dumps(zero["tests"])
