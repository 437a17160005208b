"""`assignments/` is generated from `solutions/`: in sync, stubbed, and no solution code leaks."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.release import check_release, solution_blocks, split_cells, stub, student_copies

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("ex*.py"))


def test_there_are_solutions():
    assert [p.stem for p in SOLUTIONS][:1] == ["ex01_convolution"]


def test_assignments_are_in_sync_with_solutions():
    assert check_release(ROOT / "solutions", ROOT / "assignments") == []


def test_drift_is_reported(tmp_path):
    (tmp_path / "ex01_convolution.py").write_text("edited by hand\n")
    problems = check_release(ROOT / "solutions", tmp_path)
    assert any("ex01_convolution.py differs" in p for p in problems)
    assert any("ex01_convolution.ipynb is missing" in p for p in problems)


def stripped_lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines()}


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_no_solution_code_leaks_into_assignments(solution):
    """No line that only the solution blocks contain may appear in the files on disk."""
    text = solution.read_text()
    blocks = solution_blocks(text)
    assert blocks, "a solution file without solution blocks"
    given = stripped_lines(stub(text))  # code the students get anyway (helpers, demos)
    secret = {
        line for block in blocks for line in stripped_lines(block) if len(line) > 3 and not line.startswith("#")
    } - given
    assert secret
    for suffix in (".py", ".ipynb"):
        copy = ROOT / "assignments" / f"{solution.stem}{suffix}"
        content = copy.read_text()
        if suffix == ".ipynb":
            content = "\n".join(c.source for c in nbformat.reads(content, as_version=4).cells)
        assert "BEGIN SOLUTION" not in content and "END SOLUTION" not in content
        assert content.count("raise NotImplementedError(") >= len(blocks)
        leaked = secret & stripped_lines(content)
        assert not leaked, f"solution code in {copy.name}: {sorted(leaked)[:5]}"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_student_notebook_is_valid_and_has_a_check_after_each_function(solution):
    nb = nbformat.reads(student_copies(solution)[f"{solution.stem}.ipynb"], as_version=4)
    nbformat.validate(nb)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    stubs = [c for c in code if "raise NotImplementedError(" in c]
    assert stubs
    for i, cell in enumerate(code):
        if "raise NotImplementedError(" in cell and "def " in cell:
            assert "feedback.check(" in code[i + 1], f"no check cell after:\n{cell[:200]}"


def test_stub_names_the_function_and_keeps_indentation():
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
    assert stub(source) == 'def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError("f")\n'


@pytest.mark.parametrize(
    "source, message",
    [
        ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
        ("x = 1\n### END SOLUTION\n", "without"),
    ],
)
def test_unbalanced_markers_are_errors(source, message):
    with pytest.raises(ValueError, match=message):
        stub(source)


def test_cells_split_on_percent_markers():
    cells = split_cells("# %% [markdown]\n# # Title\n# text\n\n# %%\nx = 1\n")
    assert [(c.kind, c.source) for c in cells] == [("markdown", "# Title\ntext"), ("code", "x = 1")]
