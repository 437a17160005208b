"""Build an nbgrader course from the single-source solutions.

    cnnex nbgrader init COURSE_DIR [--exercises ex01 ex02]

writes

    COURSE_DIR/nbgrader_config.py
    COURSE_DIR/source/<exercise>/<exercise>.ipynb   what `nbgrader generate_assignment` reads
    COURSE_DIR/solutions/<exercise>.py              the reference the checks compare against

From there the instructor uses plain nbgrader (`generate_assignment`, `collect`,
`autograde`, `generate_feedback`).

A source notebook is built by a pipeline of small steps, as nbgrader's own:

    split_cells -> check the markers -> give each cell its role -> test cells in place
    of `feedback.check(...)` -> quiet TensorFlow (Keras exercises) -> notebook

Roles, in nbgrader's metadata (schema 3):

* solution cell: a code cell with `### BEGIN SOLUTION` / `### END SOLUTION` (the markers
  stay: `nbgrader generate_assignment` replaces the region by a stub);
* test cells (autograded, locked): for each function, one cell worth the points of its
  public checks and one, between `### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS`,
  worth its hidden checks. A test cell calls `Feedback.assert_passes`, which prints the
  feedback to stdout and raises on failure, so nbgrader's all-or-nothing cell score gives
  a function its points when all its checks pass: the notebook's total equals
  `Exercise.max_score()`, and a mistake in one function costs only that function;
* read-only cells: everything else (markdown, imports, helpers, demos).

nbgrader scores a grade cell 0 when it has any stderr output (`nbgrader.utils.determine_grade`),
so nothing a test cell does may write there: `Feedback` sends the check output to stdout
and swallows warnings, the Keras notebooks start by silencing TensorFlow's C++ and absl
logs, and the course config drops TensorFlow log lines from stderr (`IgnorePattern`).
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
from pathlib import Path
from typing import Iterable

import nbformat

from autograder import exercises, plugins
from autograder.checks import Exercise
from autograder.errors import GraderError
from autograder.release import BEGIN, BEGIN_HIDDEN, END, END_HIDDEN, Cell, split_cells, stub

SCHEMA_VERSION = 3
COURSE_ID = "cnnexercises"
# Seconds per cell when nbgrader executes a notebook: the hidden checks of the Keras
# exercises train small models on a CPU; nbgrader's default (30 s) is too short for them.
CELL_TIMEOUT = 600

_DEF = re.compile(r"^\s*def (?P<name>\w+)\s*\(")
_GRADE_ID = re.compile(r"^[A-Za-z0-9_\-]+$")

# Lines that quiet TensorFlow before it is imported: its C++ logs and absl warnings stay off
# stderr, where nbgrader reads a failure of the cell. Keras is imported right away, so the
# notices printed while it loads land in this first cell, which is not graded.
QUIET_TENSORFLOW = """\
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # no TensorFlow C++ log lines on stderr
import absl.logging

absl.logging.set_verbosity(absl.logging.ERROR)
import keras  # start-up notices go to this cell, not to a graded one
"""

SUMMARY = """\
import os

if os.environ.get("NBGRADER_EXECUTION") != "autograde":  # when graded, the test cells count
    feedback.summary()"""

# TensorFlow/absl/XLA log lines ("2024-05-01 12:00:00.123: I tensorflow/...",
# "W0000 00:00:1714.1 ...", "WARNING: All log messages before absl::InitializeLog()...")
# and Python warnings: nbgrader's IgnorePattern drops a stderr output that matches.
STDERR_NOISE = (
    r"(?m)^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] |[IWEF]\d{4} \d\d:\d\d:\d\d"
    r"|WARNING: All log messages before absl|.*\w+Warning: )"
)


# --------------------------------------------------------------------------- cells


@dataclasses.dataclass
class SourceCell:
    """One cell of a source notebook and its nbgrader role."""

    kind: str  # "code" or "markdown"
    source: str
    grade_id: str
    role: str = "readonly"  # "solution", "test" or "readonly"
    points: float = 0.0

    def metadata(self) -> dict:
        """The cell's `metadata.nbgrader` block (schema 3)."""
        meta = {
            "grade": self.role == "test",
            "grade_id": self.grade_id,
            "locked": self.role != "solution",
            "schema_version": SCHEMA_VERSION,
            "solution": self.role == "solution",
        }
        if self.role == "test":
            meta["points"] = _number(self.points)
        return meta


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else float(x)


def solution_functions(source: str) -> list[str]:
    """The functions whose body holds a solution region, in order.

    Example:
        >>> solution_functions("def f(x):\\n    ### BEGIN SOLUTION\\n    return x\\n    ### END SOLUTION")
        ['f']
    """
    names, current = [], None
    for line in source.split("\n"):
        match = _DEF.match(line)
        if match:
            current = match.group("name")
        if line.strip() == BEGIN and current not in names:
            names.append(current or "solution")
    return names


def _single_call(source: str, method: str) -> ast.Call | None:
    """The call when `source` is exactly one statement `feedback.<method>(...)`."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == method
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "feedback"
    ):
        return call
    return None


def checked_function(source: str) -> str | None:
    """The function of a `feedback.check("conv2d")` cell, else None."""
    call = _single_call(source, "check")
    if call is None or len(call.args) != 1 or not isinstance(call.args[0], ast.Constant):
        return None
    value = call.args[0].value
    return value if isinstance(value, str) else None


def is_summary(source: str) -> bool:
    """True for a `feedback.summary()` cell."""
    return _single_call(source, "summary") is not None


def check_markers(cells: list[Cell], where: str) -> None:
    """Refuse what nbgrader would misread: it finds its delimiters anywhere in a line.

    Raises:
        GraderError: a marker in a markdown cell or inside a longer line, or a hidden-test
            marker in a solution (hidden tests come from the checks module).
    """
    for number, cell in enumerate(cells, start=1):
        for line in cell.source.split("\n"):
            words = line.strip()
            for marker in (BEGIN, END):
                bare = marker.lstrip("# ")
                if bare in line and (cell.kind != "code" or words != marker):
                    raise GraderError(
                        f"{where}, cell {number}: nbgrader reads {bare!r} anywhere in a line, so it "
                        f"may only appear as a line of its own, {marker!r}, in a code cell. "
                        f"Received: {line.strip()!r}"
                    )
            for marker in (BEGIN_HIDDEN, END_HIDDEN):
                if marker.lstrip("# ") in line:
                    raise GraderError(
                        f"{where}, cell {number}: hidden tests come from the exercise's checks "
                        f"module, not from the solution. Received: {line.strip()!r}"
                    )


def test_cells(exercise: Exercise, function: str) -> list[SourceCell]:
    """The autograded cells of one function: its public checks, then its hidden ones."""
    cells = []
    for hidden in (False, True):
        checks = [c for c in exercise.checks_for([function], hidden=True) if c.hidden == hidden]
        if not checks:
            continue
        points = sum(c.points for c in checks)
        worth = f"{points:g} point{'' if points == 1 else 's'}"
        call = f'Feedback("{exercise.name}", globals()).assert_passes("{function}"'
        if hidden:
            source = (
                f"# Hidden checks of `{function}` ({worth}): they run when your "
                "notebook is graded.\n"
                "from autograder.notebook import Feedback\n\n"
                f"{BEGIN_HIDDEN}\n{call}, hidden=True)\n{END_HIDDEN}"
            )
            grade_id = f"test_{function}_hidden"
        else:
            source = (
                f"# Checks of `{function}` ({worth}): run this cell to check your code.\n"
                "from autograder.notebook import Feedback\n\n"
                f"{call})"
            )
            grade_id = f"test_{function}"
        cells.append(SourceCell("code", source, grade_id, role="test", points=points))
    return cells


# --------------------------------------------------------------------------- notebook


def source_cells(exercise: Exercise, text: str, where: str = "the solution") -> list[SourceCell]:
    """The cells of the source notebook of `exercise`, built from its solution `text`.

    Raises:
        GraderError: markers nbgrader would misread, or checks whose function has no
            place in the notebook (neither a `feedback.check` cell nor a definition).
    """
    cells = split_cells(text)
    check_markers(cells, where)
    out: list[SourceCell] = []
    placed: set[str] = set()
    defined_at: dict[str, int] = {}
    for number, cell in enumerate(cells):
        grade_id = f"cell-{number:03d}"
        if cell.kind == "code" and BEGIN in cell.source:
            names = solution_functions(cell.source)
            out.append(SourceCell("code", cell.source, "_".join(names), role="solution"))
        elif cell.kind == "code" and checked_function(cell.source):
            function = checked_function(cell.source)
            if function not in exercise.functions:
                raise GraderError(
                    f"{where}, cell {number + 1}: {exercise.name} has no function {function!r}. "
                    f"Received: feedback.check({function!r})"
                )
            if function not in placed:
                out.extend(test_cells(exercise, function))
                placed.add(function)
        elif cell.kind == "code" and is_summary(cell.source):
            out.append(SourceCell("code", SUMMARY, grade_id))
        else:
            out.append(SourceCell(cell.kind, cell.source, grade_id))
        if cell.kind == "code":
            for line in cell.source.split("\n"):
                match = _DEF.match(line)
                if match and match.group("name") in exercise.functions:
                    defined_at.setdefault(match.group("name"), len(out))
    # A function checked but never `feedback.check`-ed: its tests go after its definition.
    unplaced = [f for f in exercise.functions if f not in placed and exercise.checks_for([f])]
    for function in unplaced:
        if function not in defined_at:
            raise GraderError(
                f"{where} neither defines nor checks `{function}`, which has checks in "
                f"{exercise.name}: the notebook would not reach its points."
            )
    for function in sorted(unplaced, key=lambda f: -defined_at[f]):  # last first: indices hold
        at = defined_at[function]
        out[at:at] = test_cells(exercise, function)
    if exercise.resources.quiet_tensorflow:
        _quiet_tensorflow(out)
    return out


def _quiet_tensorflow(cells: list[SourceCell]) -> None:
    """Prepend the TensorFlow silencing lines to the first code cell (before any import)."""
    for cell in cells:
        if cell.kind == "code":
            cell.source = QUIET_TENSORFLOW + "\n" + cell.source
            return


def source_notebook(exercise: Exercise, text: str, where: str = "the solution") -> nbformat.NotebookNode:
    """The nbgrader source notebook of `exercise` from its solution `text`.

    Raises:
        GraderError: see `source_cells`; or the notebook's points differ from the
            autograder's (`Exercise.max_score()`).
    """
    cells = source_cells(exercise, text, where)
    total = sum(c.points for c in cells if c.role == "test")
    if abs(total - exercise.max_score()) > 1e-9:
        raise GraderError(
            f"The nbgrader notebook of {exercise.name} is worth {total:g} points but its "
            f"checks are worth {exercise.max_score():g}. Received: {where}"
        )
    ids = [c.grade_id for c in cells]
    bad = [i for i in ids if not _GRADE_ID.match(i)] + [i for i in set(ids) if ids.count(i) > 1]
    if bad:
        raise GraderError(f"Invalid or duplicate grade ids in {where}. Received: {sorted(set(bad))}")
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for cell in cells:
        make = nbformat.v4.new_code_cell if cell.kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(make(cell.source, id=cell.grade_id, metadata={"nbgrader": cell.metadata()}))
    return nb


# --------------------------------------------------------------------------- course


def config_text(course_id: str = COURSE_ID, timeout: int = CELL_TIMEOUT, plugin_folders: Iterable = ()) -> str:
    """The course's `nbgrader_config.py`; `plugin_folders`: the `CNNEX_EXERCISES` its exercises come from."""
    plugin_lines = ""
    if plugin_folders:
        value = os.pathsep.join(str(f) for f in plugin_folders)
        plugin_lines = (
            "\n# The folders of exercises kept outside the cnnexercises package (`CNNEX_EXERCISES`).\n"
            f"os.environ.setdefault(\"CNNEX_EXERCISES\", {value!r})\n"
        )
    return f'''\
"""nbgrader configuration of the {course_id} course (written by `cnnex nbgrader init`).

Run nbgrader from this folder: `nbgrader generate_assignment ex01_convolution`, ...
"""

import os

c = get_config()  # noqa: F821 - nbgrader provides get_config
here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = here

# The checks compare with the reference solutions copied next to this file (the
# notebooks' kernels inherit this environment).
os.environ.setdefault("CNNEX_SOLUTIONS", os.path.join(here, "solutions"))
{plugin_lines}
# Seconds per cell: the hidden checks of the Keras exercises train small models.
c.Execute.timeout = {timeout}

# nbgrader scores a test cell 0 if anything reaches stderr: keep TensorFlow quiet, and
# drop its log lines (and library warnings) should any still get there.
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = {STDERR_NOISE!r}

# What replaces a solution region in the student's copy. With the autograder installed,
# the stub also names its function, as in `cnnex release`.
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
try:
    from autograder.nbgrader import named_stub_preprocessors
except ImportError:
    pass
else:
    c.GenerateAssignment.preprocessors = named_stub_preprocessors()
'''


def named_stub_preprocessors() -> list:
    """`nbgrader generate_assignment`'s pipeline with stubs that name their function.

    The stub of a solution region in `def conv2d(...)` becomes
    `raise NotImplementedError("conv2d")`, the same as in `assignments/`.
    """
    from nbgrader import utils
    from nbgrader.converters import GenerateAssignment
    from nbgrader.preprocessors import ClearSolutions

    class NamedClearSolutions(ClearSolutions):
        """ClearSolutions whose Python stubs name the function they stand for."""

        def preprocess_cell(self, cell, resources, cell_index):
            if (
                resources.get("language") == "python"
                and cell.cell_type == "code"
                and utils.is_solution(cell)
                and any(line.strip() == BEGIN for line in cell.source.split("\n"))
            ):
                cell.source = stub(cell.source)
                return cell, resources
            return super().preprocess_cell(cell, resources, cell_index)

    default = GenerateAssignment.class_traits()["preprocessors"].default()
    return [NamedClearSolutions if p is ClearSolutions else p for p in default]


def solution_file(name: str, solutions: Path | None) -> Path:
    """`solutions/<name>.py`, or by default the exercise's own (`reference.solution_path`)."""
    from autograder.reference import solution_path

    return solutions / f"{name}.py" if solutions else solution_path(name)


def course_exercises(
    names: Iterable[str] | None, solutions: Path | None
) -> tuple[list[str], list[tuple[str, str]]]:
    """(exercises to write, (name, note) of the skipped ones): every exercise with a solution by default.

    Raises:
        GraderError: an exercise named explicitly has no solution file.
    """
    if names:
        chosen = list(dict.fromkeys(exercises.resolve(n) for n in names))
        missing = [n for n in chosen if not solution_file(n, solutions).exists()]
        if missing:
            raise GraderError(
                f"No solution file for {', '.join(missing)} in {solution_file(missing[0], solutions).parent}. "
                f"Received: exercises={list(names)}"
            )
        return chosen, []
    chosen, skipped = [], []
    for name in exercises.available():
        if solution_file(name, solutions).exists():
            chosen.append(name)
        else:
            skipped.append((name, f"skipped {name}: no {solution_file(name, solutions)}"))
    if not chosen:
        where = solutions or "the exercises' solutions/ folders"
        raise GraderError(f"No exercise has a solution file in {where}.")
    return chosen, skipped


def _write(path: Path, text: str, force: bool) -> str:
    """Write unless an edited file is there; return what happened."""
    if path.exists():
        if path.read_text(encoding="utf-8") == text:
            return "unchanged"
        if not force:
            return "kept (edited; --force overwrites it)"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return "wrote"


def init_course(
    course_dir: str | Path,
    names: Iterable[str] | None = None,
    solutions: str | Path | None = None,
    course_id: str = COURSE_ID,
    force: bool = False,
) -> list[tuple[str, Path, str]]:
    """Write (or update) an nbgrader course folder.

    Args:
        course_dir: the course root (created if needed).
        names: exercises ("ex01", ...); default every exercise that has a solution.
        solutions: folder of the solution files; default each exercise's own
            (`reference.solution_path`: `$CNNEX_SOLUTIONS`, else `solutions/` beside its checks).
        course_id: nbgrader's `CourseDirectory.course_id`.
        force: overwrite files edited since they were written.

    Returns:
        `(status, path, note)` per file, status "wrote", "unchanged", "kept ..." or "skipped".
    """
    course = Path(course_dir)
    solutions = Path(solutions) if solutions else None
    chosen, skipped = course_exercises(names, solutions)
    done: list[tuple[str, Path, str]] = [
        ("skipped", solution_file(name, solutions).parent, note) for name, note in skipped
    ]
    for name in chosen:
        exercise = exercises.get(name)
        solution = solution_file(name, solutions)
        text = solution.read_text(encoding="utf-8")
        nb = source_notebook(exercise, text, where=str(solution))
        public = exercise.max_score(hidden=False)
        note = f"{exercise.max_score():g} points: {public:g} public + {exercise.max_score() - public:g} hidden"
        target = course / "source" / name / f"{name}.ipynb"
        done.append((_write(target, nbformat.writes(nb) + "\n", force), target, note))
        copy = course / "solutions" / f"{name}.py"
        done.append((_write(copy, text, force), copy, "reference for the checks"))
    config = course / "nbgrader_config.py"
    text = config_text(course_id, plugin_folders=plugins.folders())
    done.append((_write(config, text, force), config, f"course {course_id}"))
    return done

