"""Loading a student's file: only definitions run, problems are located, bad files are named."""

from __future__ import annotations

import json

import numpy as np

import nbformat
import pytest

from autograder.errors import LoadError
from autograder.loading import load


def notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    for i, source in enumerate(cells):
        if source.startswith("MD:"):
            nb.cells.append(nbformat.v4.new_markdown_cell(source[3:], id=f"c{i}"))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source, id=f"c{i}"))
    path.write_text(nbformat.writes(nb))
    return path


def test_exploratory_cells_do_not_run(tmp_path):
    path = notebook(
        tmp_path / "ex01.ipynb",
        "import numpy as np\nimport time",
        "MD:# Title",
        "def double(x):\n    return np.asarray(x) * 2",
        "time.sleep(100)\nraise RuntimeError('exploring')",
        "%matplotlib inline\nSIZE = 3\nrng = np.random.default_rng(0)\ngrid = {}\ngrid[0] = undefined_name",
    )
    student = load(path)
    assert student.double(2) == 4
    assert student.SIZE == 3
    assert not hasattr(student.namespace, "rng")
    assert student.grid == {}
    assert student.problems == []


def test_unused_imports_are_not_run(tmp_path):
    path = tmp_path / "ex01.py"
    path.write_text("import module_that_does_not_exist\nimport numpy as np\n\ndef f():\n    return np.pi\n")
    student = load(path)
    assert student.problems == []
    assert student.f() == pytest.approx(3.14159, rel=1e-5)


def test_syntax_error_names_cell_and_line_and_keeps_other_cells(tmp_path):
    path = notebook(tmp_path / "ex01.ipynb", "def good():\n    return 1", "def bad(:\n    pass")
    student = load(path)
    assert student.good() == 1
    assert len(student.problems) == 1
    assert student.problems[0].startswith("cell 2, line 1: SyntaxError")


def test_failing_import_used_by_a_function_is_reported(tmp_path):
    path = tmp_path / "ex01.py"
    path.write_text("import not_a_real_module as m\n\ndef f():\n    return m.x\n")
    student = load(path)
    assert "ex01.py, line 1: ModuleNotFoundError" in student.problems[0]
    assert callable(student.f)


def test_top_level_calls_never_run_and_exit_in_a_class_body_is_a_problem(tmp_path):
    path = tmp_path / "ex01.py"
    path.write_text(
        "import sys\nsys.exit(3)\n\nclass Boom:\n    sys.exit(4)\n\ndef f():\n    return sys.maxsize > 0\n"
    )
    student = load(path)
    assert student.f() is True
    assert student.problems == ["ex01.py, line 4: SystemExit: 4"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"\x00\x01\x02binary", "binary"),
        (b"\xff\xfe\xfa not utf8", "not UTF-8"),
    ],
)
def test_unreadable_python_files_are_named(tmp_path, content, message):
    path = tmp_path / "ex01.py"
    path.write_bytes(content)
    with pytest.raises(LoadError, match=message):
        load(path)


def test_corrupt_notebook_json_says_how_to_fix(tmp_path):
    path = tmp_path / "ex01.ipynb"
    path.write_text('{"cells": [')
    with pytest.raises(LoadError, match="not a valid notebook .*JSON error"):
        load(path)


def test_notebook_without_cells_is_rejected(tmp_path):
    path = tmp_path / "ex01.ipynb"
    path.write_text(json.dumps({"metadata": {}}))
    with pytest.raises(LoadError, match="no list of cells"):
        load(path)


def test_missing_file_and_wrong_suffix(tmp_path):
    with pytest.raises(LoadError, match="No such file"):
        load(tmp_path / "nope.py")
    other = tmp_path / "ex01.txt"
    other.write_text("x = 1")
    with pytest.raises(LoadError, match="Expected a .py or .ipynb"):
        load(other)


def test_constants_that_functions_read_are_run_and_exploration_is_not(tmp_path):
    path = notebook(
        tmp_path / "ex05.ipynb",
        "import numpy as np\nfrom numpy import *",
        "MEAN = np.array([103.939, 116.779, 123.68])\nSCALE = 2.0\nOFFSET = MEAN * 0 + SCALE",
        "def preprocess(images):\n    return images[..., ::-1] - MEAN + OFFSET\n",
        "images = np.random.default_rng(0).random((1, 2, 2, 3))\nraise RuntimeError('exploring')",
        "def uses_star():\n    return zeros(2)",
    )
    student = load(path)
    assert student.problems == []
    assert np.allclose(student.preprocess(np.zeros((1, 1, 1, 3))), -student.MEAN + 2.0)
    assert not hasattr(student.namespace, "images")  # `images` is only a parameter name inside preprocess
    assert student.uses_star().shape == (2,)
