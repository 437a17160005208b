"""Feedback where it used to be thin: requirements the notebook states are checked in public,
a file that cannot be read is reported once, a restarted kernel and a stray file name are explained."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from autograder.cli import main
from autograder.loading import load
from autograder.notebook import Feedback

ROOT = Path(__file__).resolve().parent.parent


def namespace(path: Path) -> dict:
    return dict(vars(load(path).namespace))


def public_failures(exercise: str, ns: dict, function: str) -> list[str]:
    return [r.name for r in Feedback(exercise, ns).results(function) if not r.passed]


def test_integer_average_pooling_that_floors_fails_a_public_check():
    ns = namespace(ROOT / "solutions/ex02_pooling.py")
    right = ns["average_pooling2d"]

    def average_pooling2d(images, pool_size=2, strides=None, padding="valid"):
        out = right(images, pool_size, strides, padding)
        return out.astype(images.dtype)  # integer images: the averages lose their fractions

    ns["average_pooling2d"] = average_pooling2d
    assert public_failures("ex02", ns, "average_pooling2d") == ["average_pooling2d: integer maps give exact averages"]


def test_a_dense_layer_that_flattens_an_image_fails_public_checks():
    ns = namespace(ROOT / "solutions/ex03_parameters.py")
    right_shape, right_count = ns["output_shape"], ns["count_params"]

    def output_shape(input_shape, layer):
        if layer["type"] == "dense":
            return (layer["units"],)  # as if Dense flattened its input
        return right_shape(input_shape, layer)

    def count_params(input_shape, layers):
        total, shape = 0, tuple(input_shape)
        for layer in layers:
            if layer["type"] == "dense":
                inputs = int(np.prod(shape))  # every value of an (H, W, C) input, not the last axis
                total += inputs * layer["units"] + (layer["units"] if layer.get("use_bias", True) else 0)
            else:
                total += right_count(shape, [layer])
            shape = output_shape(shape, layer)
        return total

    ns.update(output_shape=output_shape, count_params=count_params)
    assert "output_shape: dense on an image acts on the last axis" in public_failures("ex03", ns, "output_shape")
    assert "count_params: dense on an image acts on the last axis" in public_failures("ex03", ns, "count_params")


def test_a_file_that_cannot_be_read_is_reported_once(tmp_path, capsys):
    broken = tmp_path / "ex01_convolution.ipynb"
    broken.write_text('{"cells": [')
    assert main(["check", "ex01", str(broken)]) == 1
    out = capsys.readouterr().out
    assert out.count("is not a valid notebook") == 1
    assert "ex01_convolution: 0/" in out


def test_pytest_reports_an_unreadable_file_in_full_once(tmp_path):
    (tmp_path / "ex01_convolution.py").write_text("")
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "ex01_convolution.py"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    # The failures section, not pytest's one-line summary (whose width follows the terminal's).
    failures = run.stdout.split("short test summary info")[0]
    assert failures.count("ex01_convolution.py is empty") == 1, run.stdout
    assert "could not be read (see the first failure)" in run.stdout


def test_pytest_on_a_file_named_otherwise_does_not_crash(tmp_path):
    (tmp_path / "mywork.py").write_text((ROOT / "assignments/ex01_convolution.py").read_text())
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "mywork.py"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert "SyntaxError" not in run.stdout + run.stderr and "@py_builtins" not in run.stdout + run.stderr
    assert run.returncode == 5, run.stdout[-2000:]  # no tests collected: the file is not an exercise's


def test_after_a_kernel_restart_a_check_says_which_cell_to_run():
    (result,) = [r for r in Feedback("ex01", {}).results("conv_single_step")]
    assert result.output.startswith("`conv_single_step` is not defined yet: run the cell that defines `conv_single_step`")
    assert "kernel restart" in result.output


def test_a_wrong_shape_names_the_axis_that_is_off_and_its_likely_cause():
    ns = namespace(ROOT / "solutions/ex01_convolution.py")
    right = ns["conv2d"]

    def conv2d(images, kernel, bias=None, strides=1, padding="valid"):
        return right(images, kernel, bias, 1, padding)  # strides ignored: too many rows and columns

    ns["conv2d"] = conv2d
    outputs = [r.output for r in Feedback("ex01", ns).results("conv2d") if not r.passed]
    assert any("height is" in o and "the output size comes from the kernel (or window) size, the padding and the strides" in o for o in outputs)


def test_swapped_axes_are_called_swapped():
    from autograder.checks import compare_arrays

    text = compare_arrays(np.zeros((2, 6, 5, 4)), np.zeros((2, 5, 6, 4)), ("batch", "height", "width", "channels"))
    assert "height is 6, expected 5" in text and "two axes swapped" in text


GRAPH_ERROR = """Graph execution error:

Detected at node gradient_tape/compile_loss/mse/sub/BroadcastGradientArgs defined at (most recent call last):
  File "/home/grader/autograder/cli.py", line 121, in main

  File "/home/grader/autograder/probes/ex04_keras_cnn.py", line 90, in train

Incompatible shapes: [32] vs. [32,10]
\t [[{{node gradient_tape/compile_loss/mse/sub/BroadcastGradientArgs}}]] [Op:__inference_multi_step_on_iterator_1234]"""

CALL_ERROR = (
    "Exception encountered when calling Sequential.call().\n\n"
    "\x1b[1mInput 0 with name 'None' of layer 'conv2d_1' is incompatible with the layer: expected axis -1 "
    "of input shape to have value 1, but received input with shape (5, 36, 32, 3)\x1b[0m\n\n"
    "Arguments received by Sequential.call():\n  • inputs=tf.Tensor(shape=(5, 36, 32, 3), dtype=float32)"
)


def test_keras_errors_reach_the_student_without_colour_codes_argument_dumps_or_grader_paths():
    from autograder.keras_errors import hint_for, readable

    graph = readable(GRAPH_ERROR)
    assert graph == "Graph execution error:\nIncompatible shapes: [32] vs. [32,10]"
    assert "sparse_categorical_crossentropy" in hint_for(GRAPH_ERROR)
    call = readable(CALL_ERROR)
    assert "\x1b" not in call and "Arguments received" not in call and "incompatible with the layer" in call
    assert "keras.Input(shape=input_shape)" in hint_for(CALL_ERROR)
    assert hint_for("ValueError: something else") == ""


def test_a_probe_keeps_the_cause_of_a_long_graph_error():
    from autograder.probes import student_error

    long = GRAPH_ERROR.replace("  File", "  File" + " " * 200)  # a traceback longer than the limit
    message = student_error("build_cnn", RuntimeError(long))["message"]
    assert "Incompatible shapes" in message and "/home/grader" not in message


def test_a_syntax_error_names_the_cell_as_jupyterlab_shows_it_and_quotes_the_line(tmp_path):
    import nbformat

    from autograder.loading import load as load_file

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell("import numpy as np", execution_count=1),
        nbformat.v4.new_code_cell("def zero_pad(images, padding)\n    return images", execution_count=5),
    ])
    path = tmp_path / "ex01_convolution.ipynb"
    nbformat.write(nb, path)
    (problem,) = load_file(path).problems
    assert problem.startswith("cell 3 [5], line 1: SyntaxError")  # JupyterLab: "Cell 3/3", prompt [5]
    assert "def zero_pad(images, padding)" in problem
