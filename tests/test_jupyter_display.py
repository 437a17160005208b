"""What a student sees in Jupyter: figures and feedback shown once, friendly stubs, no TensorFlow logs.

A fake kernel shell stands in for ipykernel here (fast); `test_notebooks_execute.py` and
`test_browser.py` run the real thing.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import cnnexercises.jupyter as jupyter
from autograder.loading import load
from autograder.notebook import Feedback
from autograder.reports.notebook import FeedbackReport
from cnnexercises import plotting
from cnnexercises.quiet import _Filtered

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def kernel(monkeypatch):
    """A fake Jupyter kernel: records what is displayed; `shell.execution_count` is the cell."""
    shell = types.SimpleNamespace(kernel=object(), execution_count=1, shown=[])
    monkeypatch.setattr(jupyter, "kernel_shell", lambda: shell)
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda bundle, raw=False: shell.shown.append(bundle))
    return shell


def namespace(path: Path) -> dict:
    return dict(vars(load(path).namespace))


def test_a_plot_is_shown_once_when_made_and_not_again_as_the_cells_value(kernel):
    fig = plotting.kernel_sweep((5, 5), 3)
    assert len(kernel.shown) == 1 and kernel.shown[0]["image/png"].startswith(b"\x89PNG")
    fig._ipython_display_()  # the same figure as the last expression of the cell
    assert len(kernel.shown) == 1
    kernel.execution_count = 2  # `fig` alone in a later cell shows it again
    fig._ipython_display_()
    assert len(kernel.shown) == 2


def test_outside_jupyter_a_plot_shows_nothing_and_saves(tmp_path, capsys):
    fig = plotting.kernel_sweep((5, 5), 3)
    fig.savefig(tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").read_bytes().startswith(b"\x89PNG")
    assert capsys.readouterr() == ("", "")


def test_check_cell_in_jupyter_shows_html_only_and_prints_nothing(kernel, capsys):
    report = Feedback("ex01", namespace(ROOT / "assignments/ex01_convolution.py")).check("zero_pad")
    assert capsys.readouterr() == ("", "")
    (bundle,) = kernel.shown
    assert 'class="cnnex-feedback"' in bundle["text/html"] and "is not implemented yet" in bundle["text/html"]
    assert "zero_pad: 0/2 points" in bundle["text/plain"]
    report._ipython_display_()  # the report is also the cell's value: not shown twice
    assert len(kernel.shown) == 1 and isinstance(report, list) and len(report) == 2


def test_check_cell_outside_jupyter_prints_the_text_not_a_list_of_results(capsys):
    Feedback("ex01", namespace(ROOT / "assignments/ex01_convolution.py")).check("zero_pad")
    out = capsys.readouterr().out
    assert "zero_pad: 0/2 points" in out and "Result(" not in out


def _conv2d_with_a_wrong_border(ns):
    right = ns["conv2d"]

    def conv2d(images, kernel, bias=None, strides=1, padding="valid"):
        out = right(images, kernel, bias, strides, padding)
        if padding == "same":  # the border rows and columns come out as zeros
            out = out.copy()
            out[:, [0, -1], :, :] = 0
            out[:, :, [0, -1], :] = 0
        return out

    conv2d.__module__ = "__main__"
    ns["conv2d"] = conv2d
    return ns


def test_a_wrong_array_shows_expected_got_and_where_they_differ_as_a_picture():
    ns = _conv2d_with_a_wrong_border(namespace(ROOT / "solutions/ex01_convolution.py"))
    results = Feedback("ex01", ns).results("conv2d")
    failed = [r for r in results if not r.passed]
    assert failed and all(r.artifacts.get("mismatch") for r in failed)
    plane = failed[0].artifacts["mismatch"]
    differ = ~np.isclose(np.asarray(plane["got"]), np.asarray(plane["expected"]))
    assert differ[0].all() and differ[-1].all() and not differ[1:-1, 1:-1].any()  # a frame: "padding"
    html = FeedbackReport("conv2d", results)._mimebundle()["text/html"]
    assert html.count('<img alt="expected, got and where they differ"') == len(failed)
    assert all(not r.artifacts for r in results if r.passed)


def test_hidden_checks_attach_no_values():
    ns = _conv2d_with_a_wrong_border(namespace(ROOT / "solutions/ex01_convolution.py"))
    hidden = [r for r in Feedback("ex01", ns).results("conv2d", hidden=True) if r.hidden]
    assert hidden and all("mismatch" not in r.artifacts for r in hidden)


# ----------------------------------------------------------------------- feedback.needs


def test_needs_turns_a_stub_into_one_friendly_line(capsys):
    ns = namespace(ROOT / "assignments/ex01_convolution.py")
    with Feedback("ex01", ns).needs("conv2d"):
        ns["conv2d"](np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 1, 1)))
        raise AssertionError("not reached")
    assert capsys.readouterr().out == "implement `conv2d` above to see this\n"


def test_needs_names_the_helper_that_is_still_a_stub(capsys):
    ns = namespace(ROOT / "solutions/ex01_convolution.py")

    def zero_pad(images, padding):
        raise NotImplementedError("zero_pad")

    with Feedback("ex01", ns).needs("conv2d"):
        zero_pad(np.zeros((1, 2, 2, 1)), 1)
    assert capsys.readouterr().out == "implement `zero_pad` above to see this\n"


def test_needs_explains_a_missing_variable_while_the_function_is_a_stub(capsys):
    ns = namespace(ROOT / "assignments/ex04_keras_cnn.py")
    with Feedback("ex04", ns).needs("build_cnn"):
        history  # noqa: B018, F821  (made by a cell that stopped early)
    assert capsys.readouterr().out == "implement `build_cnn` above to see this\n"


def test_needs_after_a_kernel_restart_says_which_cell_to_run(capsys):
    with Feedback("ex01", {}).needs("conv2d"):
        conv2d  # noqa: B018, F821
    assert capsys.readouterr().out == "run the cell that defines `conv2d` above to see this\n"


def test_needs_lets_the_students_own_errors_through():
    ns = namespace(ROOT / "solutions/ex01_convolution.py")
    with pytest.raises(NameError):
        with Feedback("ex01", ns).needs("conv2d"):
            undefined_name  # noqa: B018, F821  (conv2d is written: this is a real bug)
    with pytest.raises(ValueError):
        with Feedback("ex01", ns).needs("conv2d"):
            ns["conv2d"](np.zeros((1, 4, 4, 1)), np.zeros((3, 3, 2, 1)))


# ----------------------------------------------------------------------- TensorFlow's logs


def test_kernel_stderr_filter_drops_tensorflow_log_lines_only():
    written = []
    filtered = _Filtered(lambda text: written.append(text) or len(text))
    filtered("E0000 00:00:1795778368.877083    6938 node_def_util.cc:682] NodeDef mentions attribute\n")
    filtered("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
    filtered("I0000 00:00:1795778352.429501    6930 cpu_feat")  # split across two writes
    filtered("ure_guard.cc:227] This TensorFlow binary is optimized\nyour own warning\n")
    filtered("Error: something the student printed\n")
    assert "".join(written) == "your own warning\nError: something the student printed\n"


MAP_IN_PARALLEL = "tf.data.Dataset.range(8).map(lambda x: x + 1, num_parallel_calls=2).reduce(tf.constant(0, tf.int64), lambda a, b: a + b)\n"
# what TensorFlow's C++ logging writes to file descriptor 2 later on (as `node_def_util.cc` during `fit`)
CPP_LOG_LINE = "import os\nos.write(2, b'E0000 00:00:1795778368.877083    6938 node_def_util.cc:682] NodeDef mentions attribute\\n')\n"


def _tensorflow_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "InitializeLog" in line or (line[:1] in "IWEF" and line[1:5].isdigit())]


def test_no_tensorflow_line_on_stderr_when_the_package_is_imported_first():
    import os

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = "import cnnexercises\nimport tensorflow as tf\n" + MAP_IN_PARALLEL
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    assert _tensorflow_lines(run.stderr) == []
    unquiet = subprocess.run([sys.executable, "-c", "import tensorflow as tf\n" + MAP_IN_PARALLEL],
                             capture_output=True, text=True, env=env, timeout=300)
    assert _tensorflow_lines(unquiet.stderr), "TensorFlow printed nothing here: this test shows nothing"


def test_tensorflow_python_warnings_stay_quiet_in_an_interactive_shell_errors_do_not():
    code = (
        "import sys\nsys.ps1 = '>>> '  # what Jupyter and IPython look like to TensorFlow\n"
        "import cnnexercises, tensorflow as tf\n"
        "tf.get_logger().warning('retracing')\ntf.get_logger().error('a real error')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "retracing" not in run.stdout + run.stderr
    assert "a real error" in run.stdout + run.stderr


@pytest.mark.slow
@pytest.mark.requires("nbclient")
def test_in_a_kernel_tensorflow_imported_first_logs_nothing_after_the_package_is_imported(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    cells = ["import tensorflow as tf", "from autograder.notebook import Feedback", MAP_IN_PARALLEL + CPP_LOG_LINE,
             "import sys\nprint('a line of the student', file=sys.stderr)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    err = ["".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr") for cell in nb.cells]
    assert err[1:] == ["", "", "a line of the student\n"]


@pytest.mark.slow
def test_cnnex_check_ex04_on_the_reference_prints_the_report_and_nothing_else():
    import os

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run([sys.executable, "-m", "autograder.cli", "check", "ex04", str(ROOT / "solutions/ex04_keras_cnn.py")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stderr == ""
    lines = run.stdout.splitlines()
    assert lines[0].startswith("Checking ") and lines[-1] == "ex04_keras_cnn: 9/9 points"
    report = [line for line in lines[1:-1] if line.strip()]
    assert report[0].startswith("build_cnn  9/9")
    assert all(line.startswith("  ✓ build_cnn: ") for line in report[1:]), report
