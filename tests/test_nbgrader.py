"""`cnnex nbgrader init`: source notebooks nbgrader accepts as they are, graded by real nbgrader.

The slow tests run the instructor's workflow with the real `nbgrader` command on a
temporary course: `generate_assignment`, then `autograde` of three students — the
untouched release (0), the reference code filled in (full marks) and one function left
unfinished (partial credit) — and read the scores from nbgrader's gradebook.
nbgrader is a dependency of the `dev` extra: without it this module fails, it does not skip.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader", reason="needs nbgrader: pip install -e '.[nbgrader]'")

from nbgrader.api import Gradebook  # noqa: E402 - only once nbgrader is known to be installed
from nbgrader.nbgraderformat import MetadataValidator  # noqa: E402
from traitlets.config.loader import PyFileConfigLoader  # noqa: E402

from autograder import exercises
from autograder.checks import Exercise
from autograder.cli import main
from autograder.errors import GraderError
from autograder.nbgrader import (
    BEGIN_HIDDEN,
    END_HIDDEN,
    STDERR_NOISE,
    config_text,
    init_course,
    named_stub_preprocessors,
    source_notebook,
)
from autograder.release import BEGIN, END, solution_blocks
from autograder.resources import KERAS, NUMPY, Resources
from autograder.runner import check_file
from helpers_nbgrader import fill_solutions

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = [n for n in exercises.available() if (ROOT / "solutions" / f"{n}.py").exists()]


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def build(name: str) -> nbformat.NotebookNode:
    text = (ROOT / "solutions" / f"{name}.py").read_text(encoding="utf-8")
    return source_notebook(exercises.get(name), text)


def tiny_exercise(resources: Resources = NUMPY) -> Exercise:
    """An exercise of two functions, `double` (public + hidden checks) and `halve` (public)."""
    ex = Exercise("ex09_tiny", "Tiny", ["double", "halve"], resources=resources)
    for name, points, hidden in [("double: ints", 2, False), ("double: floats", 1, True), ("halve: ints", 3, False)]:
        ex.check(name, points=points, hidden=hidden)(lambda ctx: None)
    return ex


TINY = '''\
# %% [markdown]
# # Tiny

# %%
import numpy as np

# %%
def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION


# %%
feedback.check("double")

# %%
def halve(x):
    ### BEGIN SOLUTION
    return x / 2
    ### END SOLUTION

# %%
feedback.summary()
'''


# --------------------------------------------------------------------------- source notebooks


@pytest.mark.parametrize("name", EXERCISES)
def test_source_notebook_is_worth_the_autograder_max_score(name):
    ex = exercises.get(name)
    nb = build(name)
    graded = [nbgrader_meta(c) for c in nb.cells if nbgrader_meta(c).get("grade")]
    assert sum(m["points"] for m in graded) == ex.max_score()
    for function in ex.functions:
        public = sum(c.points for c in ex.checks_for([function], hidden=False))
        hidden = sum(c.points for c in ex.checks_for([function])) - public
        by_id = {m["grade_id"]: m["points"] for m in graded}
        assert by_id.get(f"test_{function}", 0) == public
        assert by_id.get(f"test_{function}_hidden", 0) == hidden


@pytest.mark.parametrize("name", EXERCISES)
def test_source_notebook_passes_nbgrader_metadata_validation(name):
    MetadataValidator().validate_nb(build(name))


@pytest.mark.parametrize("name", EXERCISES)
def test_solution_cells_keep_their_markers_and_stay_editable(name):
    nb = build(name)
    solution_text = (ROOT / "solutions" / f"{name}.py").read_text(encoding="utf-8")
    solutions = [c for c in nb.cells if nbgrader_meta(c).get("solution")]
    assert solutions
    for cell in solutions:
        lines = [line.strip() for line in cell.source.split("\n")]
        assert BEGIN in lines and END in lines
        assert nbgrader_meta(cell) | {"grade_id": ""} == {
            "grade": False, "grade_id": "", "locked": False, "schema_version": 3, "solution": True,
        }
    joined = "\n".join(c.source for c in solutions)
    assert all(block in joined for block in solution_blocks(solution_text))


@pytest.mark.parametrize("name", EXERCISES)
def test_every_other_cell_is_read_only(name):
    for cell in build(name).cells:
        meta = nbgrader_meta(cell)
        if not meta.get("solution"):
            assert meta["locked"] is True, cell.source[:80]
        if cell.cell_type == "markdown":
            assert not meta["grade"] and not meta["solution"]


@pytest.mark.parametrize("name", EXERCISES)
def test_check_calls_become_test_cells_that_raise_on_failure(name):
    nb = build(name)
    assert not any(re.search(r"^feedback\.check\(", c.source, re.M) for c in nb.cells)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade"):
            function = meta["grade_id"].removeprefix("test_").removesuffix("_hidden")
            hidden = ", hidden=True" if meta["grade_id"].endswith("_hidden") else ""
            assert f'Feedback("{name}", globals()).assert_passes("{function}"{hidden})' in cell.source


@pytest.mark.parametrize("name", EXERCISES)
def test_hidden_checks_sit_between_hidden_test_markers(name):
    for cell in build(name).cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade_id", "").endswith("_hidden"):
            inside = cell.source.split(BEGIN_HIDDEN, 1)[1].split(END_HIDDEN, 1)[0]
            assert "hidden=True" in inside
        elif "hidden=True" in cell.source:
            pytest.fail(f"hidden checks outside a hidden cell: {cell.source}")


def test_summary_cell_does_not_rerun_the_checks_when_graded():
    nb = source_notebook(tiny_exercise(), TINY)
    summary = [c for c in nb.cells if "feedback.summary()" in c.source]
    assert len(summary) == 1 and 'NBGRADER_EXECUTION") != "autograde"' in summary[0].source


def test_function_without_check_cell_gets_its_tests_after_its_definition():
    nb = source_notebook(tiny_exercise(), TINY)
    ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells]
    assert ids.index("test_halve") == ids.index("halve") + 1
    assert ids.index("test_double") == ids.index("double") + 1
    assert ids.index("test_double_hidden") == ids.index("test_double") + 1


def test_checks_of_a_function_the_solution_never_defines_are_refused():
    text = TINY.split("# %%\ndef halve")[0]
    with pytest.raises(GraderError, match="neither defines nor checks `halve`"):
        source_notebook(tiny_exercise(), text)


@pytest.mark.parametrize(
    "edit, match",
    [
        (("# # Tiny", "# # Tiny ### BEGIN SOLUTION"), "only appear as a line of its own"),
        (("    return 2 * x", "    return 2 * x  # END SOLUTION here"), "only appear as a line of its own"),
        (("import numpy as np", "### BEGIN HIDDEN TESTS\nimport numpy as np"), "hidden tests come from"),
    ],
    ids=["marker-in-markdown", "marker-inside-a-line", "hidden-marker-in-solution"],
)
def test_markers_nbgrader_would_misread_are_refused(edit, match):
    with pytest.raises(GraderError, match=match):
        source_notebook(tiny_exercise(), TINY.replace(*edit))


def test_keras_notebook_silences_tensorflow_before_any_import():
    first = next(c for c in source_notebook(tiny_exercise(KERAS), TINY).cells if c.cell_type == "code")
    lines = first.source.split("\n")
    assert lines.index('os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # no TensorFlow C++ log lines on stderr') < (
        lines.index("import numpy as np")
    )
    assert "absl.logging.set_verbosity(absl.logging.ERROR)" in lines
    assert lines.index("import keras  # start-up notices go to this cell, not to a graded one") < (
        lines.index("import numpy as np")
    )
    numpy_only = next(c for c in source_notebook(tiny_exercise(), TINY).cells if c.cell_type == "code")
    assert "TF_CPP_MIN_LOG_LEVEL" not in numpy_only.source


@pytest.mark.parametrize(
    "line, noise",
    [
        ("2024-05-01 12:00:00.123456: I tensorflow/core/util/port.cc:153] oneDNN custom operations are on.", True),
        ("W0000 00:00:1714561234.567 12345 gpu_device.cc:2341] Cannot dlopen some GPU libraries.", True),
        ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR", True),
        ("/x/keras/src/layers/core/dense.py:87: UserWarning: Do not pass an `input_shape`", True),
        ("my own message to stderr", False),
    ],
)
def test_stderr_noise_pattern_drops_library_log_lines_only(line, noise):
    assert bool(re.search(STDERR_NOISE, "some output\n" + line + "\n")) is noise


def test_named_stub_replaces_the_solution_region_with_a_raise_naming_the_function():
    (cls,) = [p for p in named_stub_preprocessors() if p.__name__ == "NamedClearSolutions"]
    nb, _ = cls().preprocess(source_notebook(tiny_exercise(), TINY), {})
    double = next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "double")
    assert double.source.split("\n")[1:] == ["    # YOUR CODE HERE", '    raise NotImplementedError("double")']


# --------------------------------------------------------------------------- course folder


def test_init_writes_sources_solutions_and_config(tmp_path, capsys):
    assert main(["nbgrader", "init", str(tmp_path), "--exercises", "ex01"]) == 0
    out = capsys.readouterr().out
    source = tmp_path / "source/ex01_convolution/ex01_convolution.ipynb"
    assert f"wrote     {source}  (18 points: 13 public + 5 hidden)" in out
    assert nbformat.read(source, as_version=4).cells
    assert (tmp_path / "solutions/ex01_convolution.py").read_text() == (
        ROOT / "solutions/ex01_convolution.py"
    ).read_text()
    assert (tmp_path / "nbgrader_config.py").read_text() == config_text()
    assert "nbgrader generate_assignment ex01_convolution" in out


def test_init_keeps_edited_files_unless_forced(tmp_path):
    init_course(tmp_path, ["ex01"])
    config = tmp_path / "nbgrader_config.py"
    config.write_text(config.read_text() + "c.Execute.timeout = 5\n")
    assert {s for s, p, _ in init_course(tmp_path, ["ex01"]) if p == config} == {
        "kept (edited; --force overwrites it)"
    }
    assert "timeout = 5" in config.read_text()
    assert [s for s, _, _ in init_course(tmp_path, ["ex01"])].count("unchanged") == 2
    init_course(tmp_path, ["ex01"], force=True)
    assert config.read_text() == config_text()


def test_init_without_a_solution_file_is_a_clear_error(tmp_path):
    with pytest.raises(GraderError, match=r"No solution file for ex01_convolution in .*Received: exercises=\['1'\]"):
        init_course(tmp_path / "course", ["1"], solutions=tmp_path)


def test_config_sets_course_timeout_quiet_tensorflow_and_named_stubs(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNEX_SOLUTIONS", "recorded")  # so that teardown restores it: the config sets it
    monkeypatch.delenv("CNNEX_SOLUTIONS")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    (tmp_path / "nbgrader_config.py").write_text(config_text("cnn-2025"))
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    assert config.CourseDirectory.course_id == "cnn-2025"
    assert config.CourseDirectory.root == str(tmp_path.resolve())
    assert config.Execute.timeout >= 300
    assert config.IgnorePattern.enabled and config.IgnorePattern.pattern == STDERR_NOISE
    assert "NamedClearSolutions" in [p.__name__ for p in config.GenerateAssignment.preprocessors]
    assert os.environ["CNNEX_SOLUTIONS"] == str(tmp_path.resolve() / "solutions")
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"


# --------------------------------------------------------------------------- real nbgrader


def nbgrader(course: Path, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


# A single mistake for exercises of one function: (grade id of the solution cell, old, new).
MISTAKES = {
    "ex04_keras_cnn": ("build_cnn", 'metrics=["accuracy"],', ""),
}


def one_mistake(ex: Exercise, release, source) -> nbformat.NotebookNode:
    """The reference answers with one mistake: the last function left unfinished (nothing
    after it uses it), or for a one-function exercise the edit in MISTAKES."""
    answered = [nbgrader_meta(c)["grade_id"] for c in source.cells if nbgrader_meta(c).get("solution")]
    candidates = [f for f in ex.functions if f in answered]
    if len(candidates) >= 2:
        return fill_solutions(release, source, unanswered=candidates[-1:])
    assert ex.name in MISTAKES, f"{ex.name} has one function: add a single mistake to MISTAKES"
    grade_id, old, new = MISTAKES[ex.name]
    nb = fill_solutions(release, source)
    (cell,) = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") == grade_id]
    assert old in cell.source, f"{ex.name}: {old!r} is no longer in the solution; update MISTAKES"
    cell.source = cell.source.replace(old, new, 1)
    return nb


def cellwise_score(results) -> float:
    """nbgrader's score from the autograder's results: a test cell (a function's public or
    hidden checks) earns its points when all its checks pass."""
    cells: dict[tuple[str, bool], list] = {}
    for r in results:
        cells.setdefault((r.function, r.hidden), []).append(r)
    return sum(sum(r.max_score for r in rs) for rs in cells.values() if all(r.passed for r in rs))


@pytest.mark.slow
@pytest.mark.parametrize("name", EXERCISES)
def test_real_nbgrader_gives_zero_full_and_partial_marks_as_the_autograder(tmp_path, name):
    ex = exercises.get(name)
    course = tmp_path / "course"
    init_course(course, [name])
    nbgrader(course, "generate_assignment", name)
    release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    released = "\n".join(c.source for c in release.cells)
    assert BEGIN not in released and BEGIN_HIDDEN not in released and "hidden=True" not in released
    assert f'raise NotImplementedError("{ex.functions[-1]}")' in released

    students = {
        "untouched": release,
        "reference": fill_solutions(release, source),
        "one_mistake": one_mistake(ex, release, source),
    }
    for student, nb in students.items():
        folder = course / "submitted" / student / name
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{name}.ipynb")
    nbgrader(course, "autograde", name)

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "cnnexercises") as gb:
        for student in students:
            submission = gb.find_submission(name, student)
            assert submission.max_score == ex.max_score()
            scores[student] = submission.score
    assert scores["untouched"] == 0
    assert scores["reference"] == ex.max_score()
    assert 0 < scores["one_mistake"] < ex.max_score()
    # The partial score is the autograder's, cell by cell (in-process, hidden checks included).
    graded = check_file(ex, course / "submitted/one_mistake" / name / f"{name}.ipynb", hidden=True)
    assert scores["one_mistake"] == cellwise_score(graded.results)

    for student in students:  # nothing on stderr, where nbgrader would read a failure
        autograded = nbformat.read(course / "autograded" / student / name / f"{name}.ipynb", as_version=4)
        for cell in autograded.cells:
            if nbgrader_meta(cell).get("grade"):
                kinds = [(o.output_type, o.get("name")) for o in cell.outputs]
                assert ("stream", "stderr") not in kinds, f"{student}: {cell.source}"
                assert student != "reference" or "error" not in [k for k, _ in kinds], cell.source
