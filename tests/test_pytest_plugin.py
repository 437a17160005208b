"""`pytest <student file>` runs the public checks as items and ends with a score line."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy  # noqa: F401 - imported before pytester's in-process runs, which cannot re-import it

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent


def test_untouched_notebook_fails_every_check_with_not_implemented(pytester):
    shutil.copy(ROOT / "assignments/ex01_convolution.ipynb", pytester.path)
    result = pytester.runpytest("ex01_convolution.ipynb", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=11)
    result.stdout.fnmatch_lines(["*[[]NOT_IMPLEMENTED[]] `conv2d` is not implemented yet*"])
    result.stdout.fnmatch_lines(["ex01_convolution: 0/13 points*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*autograder/*.py*")  # no traceback into the engine (context.py, running.py, ...)


def test_correct_py_file_with_any_suffix_passes_from_another_folder(pytester):
    sub = pytester.mkdir("work")
    shutil.copy(ROOT / "solutions/ex01_convolution.py", sub / "ex01_convolution_alice.py")
    result = pytester.runpytest(str(sub / "ex01_convolution_alice.py"))
    result.assert_outcomes(passed=11)
    result.stdout.fnmatch_lines(["ex01_convolution: 13/13 points*"])


def test_wrong_answer_shows_three_part_feedback(pytester):
    source = (ROOT / "solutions/ex01_convolution.py").read_text()
    source = source.replace("weights = kernel.reshape(", "weights = kernel[::-1, ::-1].reshape(")
    pytester.path.joinpath("ex01_convolution.py").write_text(source)
    result = pytester.runpytest("ex01_convolution.py")
    result.stdout.fnmatch_lines(
        [
            "*conv2d(images (2, 7, 6, 3), kernel (3, 3, 3, 4))*",
            "*values differ*",
            "*first at *: got *, expected *",
            "*Hint: your output equals a true convolution (kernel flipped 180°)*",
        ]
    )


def test_other_files_are_not_collected(pytester):
    pytester.makepyfile(test_something="def test_ok():\n    assert 1 + 1 == 2\n")
    pytester.path.joinpath("notes.ipynb").write_text("{}")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_collecting_runs_no_student_code(pytester):
    source = (ROOT / "solutions/ex01_convolution.py").read_text()
    marker = pytester.path / "loaded.txt"
    source += f"\n\ndef _touch():\n    open({str(marker)!r}, 'w').close()\n\n\nSIDE_EFFECT = _touch()\n"
    pytester.path.joinpath("ex01_convolution.py").write_text(source)
    result = pytester.runpytest("ex01_convolution.py", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*11 tests collected*"])
    assert not marker.exists()


def test_k_selects_checks_and_x_stops_at_the_first_failure(pytester):
    shutil.copy(ROOT / "assignments/ex01_convolution.py", pytester.path)
    result = pytester.runpytest("ex01_convolution.py", "-k", "zero_pad")
    result.assert_outcomes(failed=2, deselected=9)
    result.stdout.fnmatch_lines(["ex01_convolution: 0 points from 2 of 11 checks*"])
    result = pytester.runpytest("ex01_convolution.py", "-x")
    result.assert_outcomes(failed=1)


def test_last_failed_reruns_only_the_failed_checks(pytester):
    source = (ROOT / "solutions/ex01_convolution.py").read_text()
    source = source.replace("weights = kernel.reshape(", "weights = kernel[::-1, ::-1].reshape(")
    pytester.path.joinpath("ex01_convolution.py").write_text(source)
    first = pytester.runpytest("ex01_convolution.py")
    failed = first.parseoutcomes()["failed"]
    assert 0 < failed < 11
    again = pytester.runpytest("ex01_convolution.py", "--lf")
    again.assert_outcomes(failed=failed, deselected=11 - failed)


def test_durations_time_each_check(pytester):
    shutil.copy(ROOT / "solutions/ex01_convolution.py", pytester.path)
    result = pytester.runpytest("ex01_convolution.py", "--durations=3", "-vv")
    result.stdout.fnmatch_lines(["*slowest 3 durations*", "*call*ex01_convolution.py::conv*"])
