"""Every notebook runs top to bottom in a real Jupyter kernel, as a student sees it.

The kernel is the plain `python3` one with its default matplotlib backend (no
`MPLBACKEND`) and no `TF_CPP_MIN_LOG_LEVEL` of ours: what the notebook shows is what a
student sees. Filled in with the reference, a notebook ends at full marks with every
picture and no stderr or error output; untouched (the handed-out stubs), "Run All" ends
without a traceback and without stderr, exploratory cells saying what to implement.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest

from autograder import exercises
from autograder.reference import solution_path
from autograder.release import split_cells, to_notebook

pytestmark = pytest.mark.requires("nbclient", "ipykernel")

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = [solution_path(n) for n in exercises.available()]

# image/png outputs per notebook: (filled with the reference, untouched)
IMAGES = {
    "ex01_convolution": (2, 1),      # Sobel edges (pyplot), kernel_sweep
    "ex02_pooling": (1, 0),          # pooled photos (pyplot)
    "ex03_parameters": (0, 0),
    # curves, confusion matrix (need build_cnn), then shapes: predictions, filters, feature maps
    "ex04_keras_cnn": (5, 3),
    # curves, the photo's feature maps (need your functions), VGG16's first filters
    "ex05_vgg16_finetune": (3, 1),
    "ex06_backprop": (1, 0),         # true and learnt kernel, loss curve (pyplot)
    "ex07_video": (4, 2),            # two clip strips, curves, confusion (the animation is HTML)
}


def execute(nb, folder: Path, monkeypatch) -> tuple[nbformat.NotebookNode, float]:
    from nbclient import NotebookClient

    monkeypatch.delenv("MPLBACKEND", raising=False)           # the kernel's own default backend
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # our code must keep TensorFlow quiet
    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def outputs(nb, kind=None):
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
            if kind is None or out.get("output_type") == kind]


def images(nb) -> int:
    return sum("image/png" in out.get("data", {}) for out in outputs(nb))


def stderr(nb) -> str:
    return "".join(out.get("text", "") for out in outputs(nb, "stream") if out.get("name") == "stderr")


def log_lines(nb) -> list[str]:
    """TensorFlow/absl log lines in any output stream (in Jupyter TensorFlow logs to stdout)."""
    from cnnexercises.quiet import TF_LOG_LINE

    text = "".join(out.get("text", "") for out in outputs(nb, "stream"))
    return [line for line in text.splitlines() if TF_LOG_LINE.match(line) or line.startswith(("WARNING:tensorflow", "WARNING:absl"))]


def errors(nb) -> list[str]:
    return [f"{out.get('ename')}: {out.get('evalue')}" for out in outputs(nb, "error")]


def feedback_tables(nb) -> list[str]:
    return [out["data"]["text/plain"] for out in outputs(nb) if "cnnex-feedback" in out.get("data", {}).get("text/html", "")]


@pytest.mark.slow
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_filled_notebook_shows_every_picture_and_full_marks_and_no_stderr(solution, tmp_path, monkeypatch):
    nb, seconds = execute(to_notebook(split_cells(solution.read_text()), solution.stem), tmp_path, monkeypatch)
    print(f"{solution.stem} filled: {images(nb)} images, {seconds:.0f} s")
    assert errors(nb) == []
    assert stderr(nb) == ""
    assert log_lines(nb) == []
    tables = feedback_tables(nb)
    assert tables, "no check cell rendered its HTML feedback"
    score = tables[-1].splitlines()[-1]
    got, total = score.split(": ")[1].split(" ")[0].split("/")
    assert score.startswith(solution.stem) and got == total, tables[-1]
    assert all("✗" not in table for table in tables)
    assert not any("Result(" in out.get("data", {}).get("text/plain", "") for out in outputs(nb))
    if solution.stem in IMAGES:
        assert images(nb) == IMAGES[solution.stem][0]
    nbformat.validate(nb)


@pytest.mark.slow
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_untouched_notebook_runs_to_the_end_without_a_traceback(solution, tmp_path, monkeypatch):
    nb = nbformat.read(ROOT / "assignments" / f"{solution.stem}.ipynb", as_version=4)
    nb, seconds = execute(nb, tmp_path, monkeypatch)
    print(f"{solution.stem} untouched: {images(nb)} images, {seconds:.0f} s")
    assert errors(nb) == []
    assert stderr(nb) == ""
    assert log_lines(nb) == []
    text = "".join(out.get("text", "") for out in outputs(nb, "stream"))
    assert "Traceback" not in text
    tables = feedback_tables(nb)
    assert tables and "is not implemented yet" in tables[-1]
    if solution.stem in IMAGES:
        assert images(nb) == IMAGES[solution.stem][1]
