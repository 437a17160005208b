"""Test scaffolding for nbgrader: a released notebook answered with the reference code."""

from __future__ import annotations

import copy
from typing import Iterable

import nbformat

from autograder.release import BEGIN, END


def fill_solutions(
    release: nbformat.NotebookNode,
    source: nbformat.NotebookNode,
    unanswered: Iterable[str] = (),
) -> nbformat.NotebookNode:
    """A student's copy answered with the reference code (for tests and benchmarks).

    Args:
        release: the notebook `nbgrader generate_assignment` released.
        source: the source notebook it came from.
        unanswered: solution cells (grade ids, e.g. "conv2d") left as released.

    Returns:
        A copy of `release` whose solution cells hold the reference code, markers removed.
    """
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.get("metadata", {}).get("nbgrader", {}).get("solution")
    }
    skip = set(unanswered)
    filled = copy.deepcopy(release)
    for cell in filled.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in answers and grade_id not in skip:
            lines = answers[grade_id].split("\n")
            cell.source = "\n".join(line for line in lines if line.strip() not in (BEGIN, END))
    return filled
