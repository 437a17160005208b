"""Every solution notebook runs top to bottom in a real Jupyter kernel and ends at full marks."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from autograder.release import split_cells, to_notebook

pytestmark = pytest.mark.requires("nbclient", "ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NUMPY_EXERCISES = [p for p in sorted((ROOT / "solutions").glob("ex0[123]_*.py"))]


@pytest.mark.slow
@pytest.mark.parametrize("solution", NUMPY_EXERCISES, ids=lambda p: p.stem)
def test_solution_notebook_executes_to_full_marks(solution, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = to_notebook(split_cells(solution.read_text()), solution.stem)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [
        out.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream"
    ]
    text = "".join(outputs)
    assert f"{solution.stem}: " in text
    last = [line for line in text.splitlines() if line.startswith(f"{solution.stem}: ")][-1]
    score, total = last.split(": ", 1)[1].split(" ")[0].split("/")
    assert score == total, text[-3000:]
    assert "✗" not in text, text[-3000:]
    nbformat.validate(nb)
    assert os.environ.get("MPLBACKEND") == "Agg"
