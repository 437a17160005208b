"""Exercises are plug-ins: a toy exercise written in a temporary folder goes through every front end.

The toy (`ex90_toy`: `double` and `halve`) is only its own files, in a folder that
`CNNEX_EXERCISES` names (see `autograder.plugins`):

    PLUGIN/solutions/ex90_toy.py       the reference, with nbgrader markers
    PLUGIN/exercises/ex90_toy.py       its checks and mutants
    PLUGIN/probes/ex90_toy.py          one probe (run where the student's code runs)
    PLUGIN/tests/test_ex90_toy.py      its tests

It is taken through `cnnex list`, `cnnex release` (and `--check`), `cnnex check` (with the
reference, and with the recorded answers only), its own tests under pytest, `cnnex grade`
(isolated, a submission that tries to read the solution included), `cnnex nbgrader init`
and the Gradescope bundle, whose `run_autograder` grades a submission with the toy taken
from the bundle alone. No file of this repository changes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import exercises
from autograder.cli import main

ROOT = Path(__file__).resolve().parent.parent
NAME = "ex90_toy"

SOLUTION = '''\
# %% [markdown]
# # Exercise 90 — a toy
#
# Two functions on arrays.

# %%
import numpy as np


# %%
def double(x):
    """Twice `x`, element-wise, without modifying it.

    Example:
        >>> double(np.array([1, 2]))
        array([2, 4])
    """
    ### BEGIN SOLUTION
    return np.asarray(x) * 2
    ### END SOLUTION


# %%
def halve(x):
    """Half of `x`, element-wise, as floats."""
    ### BEGIN SOLUTION
    return np.asarray(x) / 2
    ### END SOLUTION
'''

CHECKS = '''\
"""The toy exercise's checks: `double` and `halve`, one mistake each."""

import numpy as np

from autograder.checks import Exercise
from autograder.probes import probes_for
from autograder.resources import Resources

EXERCISE = Exercise("ex90_toy", "A toy: doubling and halving", ["double", "halve"],
                    numpy_only=["double", "halve"], resources=Resources(timeout=5, budget=30))
EXERCISE.probes.update(probes_for(EXERCISE.name))


@EXERCISE.mutant("double", "you added 2 instead of multiplying by 2.", name="adds_two")
def _adds_two(x):
    return np.asarray(x) + 2


@EXERCISE.mutant("halve", "you used integer division (`//`): halving keeps the fractions.", name="floor")
def _floor(x):
    return np.asarray(x) // 2


@EXERCISE.check("double: a (2, 3) array", points=2)
def _double_array(ctx):
    ctx.compare("double", ctx.rng.standard_normal((2, 3)))


@EXERCISE.check("double: through the probe, where the code runs", points=1)
def _double_probe(ctx):
    got = ctx.run_probe("table", n=4)
    ctx.expect(got == [0, 2, 4, 6], "double(0..3) through the probe", f"got {got!r}")


@EXERCISE.check("halve: odd integers keep their halves", points=1)
def _halve_odd(ctx):
    ctx.compare("halve", np.array([1, 3, 5, 8]))


@EXERCISE.check("halve: a (3, 1) array", points=2, hidden=True)
def _halve_hidden(ctx):
    ctx.compare("halve", 2 * ctx.rng.integers(-9, 9, (3, 1)) + 1)  # odd: floor division shows
'''

PROBES = '''\
"""The toy's probe: runs where the student's code runs, returns plain data."""


def table(student, n):
    return [int(v) for v in student.double(list(range(n)))]


PROBES = {"table": table}
'''

TESTS = '''\
"""The toy's own tests: the reference scores full marks, every check fails on some wrong code."""

from pathlib import Path

from autograder.runner import check_file

HERE = Path(__file__).resolve().parent.parent
WRONG = {
    "double": "def double(x):\\n    import numpy as np\\n    return np.asarray(x) + 2\\n",
    "halve": "def halve(x):\\n    import numpy as np\\n    return np.asarray(x) // 2\\n",
}


def test_reference_scores_full_marks():
    report = check_file("ex90", HERE / "solutions" / "ex90_toy.py", hidden=True)
    assert report.score == report.max_score == 6


def test_every_check_fails_on_a_known_mistake_and_names_it(tmp_path):
    source = (HERE / "solutions" / "ex90_toy.py").read_text()
    for function, wrong in WRONG.items():
        start = source.index(f"def {function}(")
        end = source.index("# %%", start) if "# %%" in source[start:] else len(source)
        path = tmp_path / f"ex90_{function}.py"
        path.write_text(source[:start] + wrong + "\\n\\n" + source[end:])
        report = check_file("ex90", path, hidden=True)
        failed = [r for r in report.results if r.function == function]
        assert failed and not any(r.passed for r in failed)
        assert any("instead of" in r.output or "integer division" in r.output for r in failed)
'''

# A submission that tries to read the reference: it doubles correctly only if it cannot.
SNOOPER = '''\
import numpy as np


def double(x):
    try:
        open("@SOLUTION@").read()
        return np.asarray(x) * 3
    except OSError:
        return np.asarray(x) * 2


def halve(x):
    return np.asarray(x) / 2
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """The toy exercise's folder, named by `CNNEX_EXERCISES`."""
    folder = tmp_path / "toy"
    files = {
        "solutions/ex90_toy.py": SOLUTION,
        "exercises/ex90_toy.py": CHECKS,
        "probes/ex90_toy.py": PROBES,
        "tests/test_ex90_toy.py": TESTS,
    }
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("CNNEX_EXERCISES", str(folder))
    monkeypatch.delenv("CNNEX_SOLUTIONS", raising=False)
    _forget_toy()
    yield folder
    _forget_toy()


def _forget_toy() -> None:
    """Each test's toy is its own: drop the modules and the reference a previous one loaded."""
    from autograder.reference import load_reference

    for module in (f"autograder.exercises.{NAME}", f"autograder.probes.{NAME}"):
        sys.modules.pop(module, None)
    load_reference.cache_clear()


def _tree_state() -> str:
    """What git sees of this repository: any file a command wrote into the tree shows here."""
    done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip("needs a git checkout to see that no file of the tree changes")
    return done.stdout


def _release(plugin: Path, *extra: str) -> int:
    return main(["release", "--solutions", str(plugin / "solutions"), *extra])


def test_the_toy_is_in_the_registry_only_while_its_folder_is_named(plugin, monkeypatch, capsys):
    assert NAME in exercises.available() and exercises.resolve("ex90") == NAME
    assert exercises.home(NAME) == plugin.resolve()
    assert main(["list"]) == 0
    assert NAME in capsys.readouterr().out
    monkeypatch.delenv("CNNEX_EXERCISES")
    assert NAME not in exercises.available()


def test_release_writes_the_toys_copies_and_recordings_in_its_own_folder(plugin, capsys):
    before = _tree_state()
    assert _release(plugin) == 0
    stub = (plugin / "assignments" / f"{NAME}.py").read_text()
    assert 'raise NotImplementedError("double")' in stub and "np.asarray(x) * 2" not in stub
    assert nbformat.read(plugin / "assignments" / f"{NAME}.ipynb", as_version=4).cells
    recording = json.loads((plugin / "expected" / f"{NAME}.json").read_text())
    assert set(recording["signatures"]) == {"double", "halve"}
    assert _release(plugin, "--check") == 0
    assert "is in sync" in capsys.readouterr().out
    (plugin / "assignments" / f"{NAME}.py").write_text("edited by hand\n")
    assert _release(plugin, "--check") == 1
    assert _tree_state() == before


def test_cnnex_check_grades_the_toy_with_the_reference_and_with_recorded_answers_only(plugin, tmp_path, monkeypatch,
                                                                                     capsys):
    assert _release(plugin) == 0
    capsys.readouterr()
    assert main(["check", "ex90", str(plugin / "solutions" / f"{NAME}.py"), "--json", str(tmp_path / "r.json")]) == 0
    assert "ex90_toy: 4/4 points" in capsys.readouterr().out
    assert json.loads((tmp_path / "r.json").read_text())["score"] == 4
    main(["check", "ex90", str(plugin / "assignments" / f"{NAME}.ipynb")])
    out = capsys.readouterr().out
    assert "ex90_toy: 0/4 points" in out and "`double` is not implemented yet" in out
    # a class without the solutions: the public checks replay the toy's own recording
    monkeypatch.setenv("CNNEX_SOLUTIONS", str(tmp_path / "no-solutions"))
    student = tmp_path / "ex90_toy_alice.py"
    student.write_text(SOLUTION.replace("np.asarray(x) / 2", "np.asarray(x) // 2"))
    main(["check", "ex90", str(student)])
    out = capsys.readouterr().out
    assert "ex90_toy: 3/4 points" in out and "integer division" in out


@pytest.mark.slow
def test_the_toys_own_tests_pass_under_pytest(plugin):
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(plugin / "tests")],
                          cwd=plugin, capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 passed" in done.stdout


@pytest.mark.slow
def test_pytest_checks_a_student_file_of_the_toy_with_its_score_line(plugin, tmp_path):
    student = tmp_path / "ex90_toy_alice.py"
    student.write_text(SOLUTION.replace("np.asarray(x) / 2", "np.asarray(x) // 2"))
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(student)], cwd=tmp_path,
                          capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "ex90_toy: 3/4 points" in done.stdout and "integer division" in done.stdout


def test_plugin_folders_are_read_in_order_once_each_and_missing_ones_are_left_out(tmp_path, monkeypatch):
    from autograder import plugins

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    monkeypatch.setenv("CNNEX_EXERCISES", os.pathsep.join([str(b), str(tmp_path / "missing"), str(a), str(b), ""]))
    assert plugins.folders() == [b.resolve(), a.resolve()]
    monkeypatch.delenv("CNNEX_EXERCISES")
    assert plugins.folders() == []


@pytest.mark.slow
def test_cnnex_grade_grades_the_toy_isolated_and_hides_its_folder_from_submissions(plugin, tmp_path, capsys):
    before = _tree_state()
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "ada.py").write_text(SOLUTION)
    (subs / "bob.py").write_text(SOLUTION.replace("np.asarray(x) * 2", "np.asarray(x) + 2"))
    (subs / "snoop.py").write_text(SNOOPER.replace("@SOLUTION@", str(plugin / "solutions" / f"{NAME}.py")))
    assert main(["grade", "ex90", str(subs), "--out", str(out), "--jobs", "1"]) == 0
    scores = {name: json.loads((out / name / "results.json").read_text()) for name in ("ada", "bob", "snoop")}
    assert {n: d["score"] for n, d in scores.items()} == {"ada": 6, "bob": 3, "snoop": 6}
    bob = {t["name"]: t for t in scores["bob"]["tests"]}
    assert "you added 2 instead of multiplying by 2" in bob["double: a (2, 3) array"]["output"]
    assert bob["double: through the probe, where the code runs"]["score"] == 0
    assert "double: a (2, 3) array" in (out / "gradebook.csv").read_text().splitlines()[0]
    assert _tree_state() == before


@pytest.mark.slow
@pytest.mark.requires("nbgrader")
def test_cnnex_nbgrader_init_writes_the_toys_source_notebook_and_finds_its_folder_again(plugin, tmp_path, capsys):
    course = tmp_path / "course"
    assert main(["nbgrader", "init", str(course), "--exercises", "ex90"]) == 0
    nb = nbformat.read(course / "source" / NAME / f"{NAME}.ipynb", as_version=4)
    points = sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in nb.cells)
    assert points == 6
    assert any("### BEGIN HIDDEN TESTS" in c.source for c in nb.cells)
    assert (course / "solutions" / f"{NAME}.py").read_text() == SOLUTION
    config = (course / "nbgrader_config.py").read_text()
    assert f'os.environ.setdefault("CNNEX_EXERCISES", {str(plugin.resolve())!r})' in config
    # the source notebook's own test cells pass when run top to bottom (as `nbgrader autograde` runs them)
    env = dict(os.environ, CNNEX_SOLUTIONS=str(course / "solutions"))
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    code = "\n".join(line for line in code.split("\n") if not line.strip().startswith("###"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0 and done.stderr == "", done.stderr[-2000:]


@pytest.mark.slow
def test_the_gradescope_bundle_carries_the_toy_and_its_run_autograder_grades_with_it(plugin, tmp_path, monkeypatch):
    from test_gradescope_bundle import fake_autograder, run_autograder

    before = _tree_state()
    assert _release(plugin) == 0
    bundle = tmp_path / "autograder.zip"
    assert main(["gradescope", "ex90", "--out", str(bundle)]) == 0
    import zipfile

    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
    assert {f"project/exercises/{NAME}.py", f"project/probes/{NAME}.py", f"project/expected/{NAME}.json",
            f"project/solutions/{NAME}.py"} <= names
    assert not any("tests/test_ex90" in n for n in names)
    monkeypatch.delenv("CNNEX_EXERCISES")  # from here the toy exists only inside the bundle
    full = run_autograder(fake_autograder(tmp_path / "a", bundle, {f"{NAME}.py": SOLUTION}))
    assert full["score"] == full["max_score"] == 6
    stub = SOLUTION.replace("return np.asarray(x) / 2", 'raise NotImplementedError("halve")')
    partial = run_autograder(fake_autograder(tmp_path / "b", bundle, {f"{NAME}.ipynb": _notebook(stub)}))
    assert partial["score"] == 3
    assert _tree_state() == before


def _notebook(percent: str) -> str:
    from autograder.release import split_cells, to_notebook

    return nbformat.writes(to_notebook(split_cells(percent), NAME))


def test_no_hand_written_exercise_list_is_left_in_the_code_tests_or_benchmarks():
    """Globs of exercise numbers and tables of every exercise's points would skip a new exercise silently.

    (Per-exercise data that a new exercise may go without, such as the figure counts of
    `tests/test_notebooks_execute.py`, is not such a list.)
    """
    pattern = r"ex0\[|POINTS = \{|\"ex0[1-7]_\w+\": \(\d+, \d+\)"
    where = ["autograder", "benchmarks", "tests", ":(exclude)tests/test_notebooks_execute.py",
             ":(exclude)tests/test_plugin_exercise.py"]
    done = subprocess.run(["git", "grep", "-nE", pattern, "--", *where], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout == "", done.stdout
