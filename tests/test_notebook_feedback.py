"""The check cells inside the notebooks: feedback on stdout, nothing on stderr, raise for nbgrader."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.loading import load
from autograder.notebook import Feedback

ROOT = Path(__file__).resolve().parent.parent


def namespace(path: Path) -> dict:
    return dict(vars(load(path).namespace))


def test_check_cell_prints_feedback_for_one_function(capsys):
    results = Feedback("ex01", namespace(ROOT / "solutions/ex01_convolution.py")).check("conv2d")
    out, err = capsys.readouterr()
    assert results and all(r.passed for r in results) and all(r.function == "conv2d" for r in results)
    assert "✓ conv2d: odd input, same padding" in out and "conv2d: 7/7 points" in out
    assert err == ""


def test_check_cell_on_the_stub_says_not_implemented(capsys):
    Feedback("ex01", namespace(ROOT / "assignments/ex01_convolution.py")).check("zero_pad")
    out, err = capsys.readouterr()
    assert "`zero_pad` is not implemented yet" in out and "zero_pad: 0/2 points" in out
    assert err == ""


def test_summary_prints_the_score_line(capsys):
    Feedback("ex01", namespace(ROOT / "solutions/ex01_convolution.py")).summary()
    assert "ex01_convolution: 13/13 points" in capsys.readouterr().out


def test_assert_passes_raises_on_failure_and_not_on_success(capsys):
    good = Feedback("ex01", namespace(ROOT / "solutions/ex01_convolution.py"))
    good.assert_passes("conv2d")
    good.assert_passes("conv2d", hidden=True)
    bad = Feedback("ex01", namespace(ROOT / "assignments/ex01_convolution.py"))
    with pytest.raises(AssertionError, match="5 of 5 checks failed: conv2d: valid padding"):
        bad.assert_passes("conv2d")
    out, err = capsys.readouterr()
    assert out.count("`conv2d` is not implemented yet") == 5  # printed once per check, not repeated
    assert err == ""


def test_policy_applies_in_notebooks_too():
    import linecache
    import types

    ns = namespace(ROOT / "solutions/ex01_convolution.py")
    fake_tf = types.ModuleType("tensorflow")
    ns["tf"] = fake_tf
    source = "def zero_pad(images, padding):\n    return tf.pad(images, padding)\n"
    # Jupyter keeps each cell's source in linecache, which is where the policy reads it
    linecache.cache["<cell-7>"] = (len(source), None, source.splitlines(True), "<cell-7>")
    exec(compile(source, "<cell-7>", "exec"), ns)
    ns["zero_pad"].__module__ = "__main__"
    results = Feedback("ex01", ns).results("zero_pad")
    assert {r.status for r in results} == {"POLICY"}


def test_unknown_function_is_a_clear_error():
    with pytest.raises(Exception, match="has no function 'conv3d'"):
        Feedback("ex01", {}).check("conv3d")
