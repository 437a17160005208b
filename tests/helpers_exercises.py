"""Test helpers for the exercises: student files made from a solution with functions replaced.

    path = student_file(tmp_path, "ex02_pooling", {"max_pooling2d": SOURCE})
    report = check_student(tmp_path, "ex02_pooling", {"max_pooling2d": SOURCE}, functions=["max_pooling2d"])
    assert hint_of("ex02_pooling", "max_pooling2d", "top_left") in failure_text(report)

A replacement is the full source of a top-level `def` (decorators included, more defs
allowed after it); it takes the place of the solution's definition of that name, so the
rest of the file (helpers, markdown, check cells) stays as the student received it.
`function_source(exercise, name, edits)` gives the solution's own function with text
edits, for mistakes that are a small change of the reference.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Iterable

from autograder import exercises
from autograder.checks import Result
from autograder.pipeline import Report
from autograder.runner import check_file

ROOT = Path(__file__).resolve().parent.parent


def solution_path(exercise: str) -> Path:
    """`solutions/<exercise>.py` (`exercise` may be "ex02" or "ex02_pooling")."""
    return ROOT / "solutions" / f"{exercises.resolve(exercise)}.py"


def assignment_path(exercise: str, suffix: str = ".ipynb") -> Path:
    """The generated student copy, `assignments/<exercise>.ipynb` or `.py`."""
    return ROOT / "assignments" / f"{exercises.resolve(exercise)}{suffix}"


def replace_functions(source: str, replacements: dict[str, str]) -> str:
    """`source` with each top-level function named in `replacements` replaced by new source.

    Raises:
        KeyError: a name is not a top-level function of `source`.
        SyntaxError: a replacement does not parse.
    """
    tree = ast.parse(source)
    spans = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in replacements:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            spans[node.name] = (first, node.end_lineno)
    missing = set(replacements) - set(spans)
    if missing:
        raise KeyError(f"not a top-level function of the source: {sorted(missing)}")
    lines = source.split("\n")
    for name, (first, last) in sorted(spans.items(), key=lambda item: -item[1][0]):
        new = textwrap.dedent(replacements[name]).strip("\n")
        ast.parse(new)  # fail here, with the test's own snippet, rather than inside the loader
        lines[first - 1 : last] = new.split("\n")
    return "\n".join(lines)


def function_source(exercise: str, name: str, edits: Iterable[tuple[str, str]] = ()) -> str:
    """The source of the solution's top-level function `name`, each `(old, new)` edit applied everywhere.

    Raises:
        KeyError: `name` is not a top-level function of the solution.
        AssertionError: an edit's `old` text is not in the function.
    """
    source = solution_path(exercise).read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            text = ast.get_source_segment(source, node)
            break
    else:
        raise KeyError(f"not a top-level function of the solution: {name!r}")
    for old, new in edits:
        assert old in text, f"edit target not found in {name}: {old!r}"
        text = text.replace(old, new)
    return text


def student_file(
    tmp_path: Path,
    exercise: str,
    replacements: dict[str, str] | None = None,
    name: str | None = None,
) -> Path:
    """Write the solution of `exercise` with `replacements` applied as a student `.py` file."""
    full = exercises.resolve(exercise)
    source = replace_functions(solution_path(full).read_text(encoding="utf-8"), replacements or {})
    path = Path(tmp_path) / (name or f"{full}.py")
    path.write_text(source, encoding="utf-8")
    return path


def check_student(
    tmp_path: Path,
    exercise: str,
    replacements: dict[str, str] | None = None,
    hidden: bool = True,
    functions: Iterable[str] | None = None,
) -> Report:
    """Check a student file made by `student_file` (hidden checks included by default)."""
    path = student_file(tmp_path, exercise, replacements)
    return check_file(exercise, path, hidden=hidden, functions=functions)


def failures(report: Report, function: str | None = None) -> list[Result]:
    """The results that did not pass, optionally only those of `function`."""
    return [r for r in report.results if not r.passed and (function is None or r.function == function)]


def failure_text(report: Report, function: str | None = None) -> str:
    """Every failing check's output, one after the other."""
    return "\n".join(f"{r.name}\n{r.output}" for r in failures(report, function))


def hint_of(exercise: str, function: str, mutant: str) -> str:
    """The hint the checks give for the known mistake `mutant` of `function`."""
    for m in exercises.get(exercise).mutants.get(function, []):
        if m.name == mutant:
            return m.hint
    raise KeyError(f"{exercise} has no mutant {mutant!r} of {function!r}")


def mutant_names(exercise: str) -> list[tuple[str, str]]:
    """`(function, mutant name)` for every registered mutant of `exercise`."""
    return [(f, m.name) for f, ms in exercises.get(exercise).mutants.items() for m in ms]
