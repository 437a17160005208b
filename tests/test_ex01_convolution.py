"""ex01: the checks give full marks to right code, zero to stubs, and name each mistake.

Each wrong variant below is written the way a student would write it (an edit of the
reference), and must fail at least one check whose output carries the matching hint.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autograder import exercises
from autograder.checks import PASSED, POLICY
from autograder.runner import check_file

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions/ex01_convolution.py"
EX = exercises.get("ex01")


def edited(tmp_path, *edits) -> Path:
    """The reference solution with `(old, new)` text edits applied, as a student file."""
    source = SOLUTION.read_text()
    for old, new in edits:
        assert old in source, f"edit target not found: {old!r}"
        source = source.replace(old, new)
    path = tmp_path / "ex01_convolution.py"
    path.write_text(source)
    return path


def failures(report):
    return [r for r in report.results if not r.passed]


CONV2D_MUTANTS = {
    "flipped_kernel": [("weights = kernel.reshape(", "weights = kernel[::-1, ::-1].reshape(")],
    "bias_missing": [("out = out + np.asarray(bias)", "pass")],
    "padding_one_side": [("top, bottom, left, right = p_h, p_h, p_w, p_w", "top, bottom, left, right = p_h, 0, p_w, 0")],
    "kernel_transposed": [("weights = kernel.reshape(", "weights = kernel.transpose(1, 0, 2, 3).reshape(")],
    "one_channel": [
        ("rows = batch.transpose(0, 1, 2, 4, 5, 3).reshape(-1, kh * kw * c)",
         "rows = batch[:, :, :, :1].transpose(0, 1, 2, 4, 5, 3).reshape(-1, kh * kw)"),
        ("weights = kernel.reshape(kh * kw * c, f)", "weights = kernel[:, :, :1].reshape(kh * kw, f)"),
    ],
    "start_ignores_stride": [("windows = windows[:, ::s_h, ::s_w]", "windows = windows[:, :out_h, :out_w]")],
    "same_extra_first": [
        ("top, bottom = same_padding(h, kh, s_h)", "bottom, top = same_padding(h, kh, s_h)"),
        ("left, right = same_padding(w, kw, s_w)", "right, left = same_padding(w, kw, s_w)"),
    ],
}

OTHER_MUTANTS = {
    ("conv_output_size", "size_missing_plus_one"): [
        ("return (input_size + 2 * pad - kernel_size) // strides + 1", "return (input_size + 2 * pad - kernel_size) // strides")
    ],
    ("conv_output_size", "size_true_division"): [
        ("return (input_size + 2 * pad - kernel_size) // strides + 1", "return (input_size + 2 * pad - kernel_size) / strides + 1")
    ],
    ("conv_output_size", "size_padding_once"): [
        ("return (input_size + 2 * pad - kernel_size) // strides + 1", "return (input_size + pad - kernel_size) // strides + 1")
    ],
    ("conv_output_size", "size_same_as_valid"): [
        ('    if padding == "same":\n        return -(-input_size // strides)', '    if padding == "same":\n        padding = 0')
    ],
    ("conv_output_size", "size_same_floor"): [
        ("return -(-input_size // strides)  # ceil(n / s) with integers only", "return input_size // strides")
    ],
    ("zero_pad", "pad_all_axes"): [
        ("((0, 0), (pad_h, pad_h), (pad_w, pad_w), (0, 0)))", "((pad_h, pad_h), (pad_h, pad_h), (pad_w, pad_w), (pad_w, pad_w)))")
    ],
    ("zero_pad", "pad_edge"): [
        ("(pad_w, pad_w), (0, 0)))\n", "(pad_w, pad_w), (0, 0)), mode='edge')\n")
    ],
    ("zero_pad", "pad_swapped"): [
        ("((0, 0), (pad_h, pad_h), (pad_w, pad_w), (0, 0)))", "((0, 0), (pad_w, pad_w), (pad_h, pad_h), (0, 0)))")
    ],
    ("zero_pad", "pad_one_side"): [
        ("((0, 0), (pad_h, pad_h), (pad_w, pad_w), (0, 0)))", "((0, 0), (pad_h, 0), (pad_w, 0), (0, 0)))")
    ],
    ("conv_output_size", "size_same_ignores_stride"): [
        ("return -(-input_size // strides)  # ceil(n / s) with integers only", "return input_size")
    ],
    ("conv_output_size", "size_ignores_stride"): [
        ("return (input_size + 2 * pad - kernel_size) // strides + 1", "return input_size + 2 * pad - kernel_size + 1")
    ],
    ("conv_single_step", "step_flipped"): [
        ("return float(np.sum(window * kernel) + bias)", "return float(np.sum(window * kernel[::-1, ::-1]) + bias)")
    ],
    ("conv_single_step", "step_no_bias"): [
        ("return float(np.sum(window * kernel) + bias)", "return float(np.sum(window * kernel))")
    ],
    ("conv_single_step", "step_mean"): [
        ("return float(np.sum(window * kernel) + bias)", "return float(np.mean(window * kernel) + bias)")
    ],
    ("conv_single_step", "step_array_bias"): [
        ("return float(np.sum(window * kernel) + bias)", "return np.sum(window * kernel) + bias"),
        ("    bias = np.asarray(bias, dtype=np.float64).reshape(())  # a number, or shape (1, 1, 1)\n", ""),
    ],
    ("conv_single_step", "step_one_channel"): [
        ("return float(np.sum(window * kernel) + bias)", "return float(np.sum(window[..., 0] * kernel[..., 0]) + bias)")
    ],
}


def hint_of(function, name):
    return next(m.hint for m in EX.mutants[function] if m.name == name)


@pytest.mark.parametrize("name", sorted(CONV2D_MUTANTS))
def test_conv2d_mutant_fails_and_hint_names_it(tmp_path, name):
    report = check_file(EX, edited(tmp_path, *CONV2D_MUTANTS[name]), hidden=True)
    failed = [r for r in failures(report) if r.function == "conv2d"]
    assert failed, f"{name} passed every conv2d check"
    assert any(hint_of("conv2d", name) in r.output for r in failed if not r.hidden), [r.output for r in failed]
    assert {r.mistake for r in failed} - {""} == {name}, [(r.name, r.mistake) for r in failed]
    assert all(r.passed for r in report.results if r.function != "conv2d")


@pytest.mark.parametrize("function, name", sorted(OTHER_MUTANTS))
def test_mutant_fails_and_hint_names_it(tmp_path, function, name):
    report = check_file(EX, edited(tmp_path, *OTHER_MUTANTS[(function, name)]), hidden=True)
    failed = [r for r in failures(report) if r.function == function]
    assert failed, f"{name} passed every {function} check"
    assert any(hint_of(function, name) in r.output for r in failed), [r.output for r in failed]
    assert {r.mistake for r in failed} - {""} == {name}, [(r.name, r.mistake) for r in failed]


def test_every_registered_mutant_is_exercised_by_a_test():
    tested = set(CONV2D_MUTANTS) | {name for _, name in OTHER_MUTANTS}
    registered = {m.name for ms in EX.mutants.values() for m in ms}
    assert registered == tested


def test_every_check_fails_on_some_mutant_or_stub(tmp_path):
    failed_somewhere = set()
    all_edits = [*CONV2D_MUTANTS.values(), *OTHER_MUTANTS.values()]
    for i, edits in enumerate(all_edits):
        folder = tmp_path / str(i)
        folder.mkdir()
        report = check_file(EX, edited(folder, *edits), hidden=True)
        failed_somewhere |= {r.name for r in failures(report)}
    assert failed_somewhere == {c.name for c in EX.checks}


def test_loop_over_kernel_offsets_conv2d_gets_full_marks(tmp_path):
    alternative = '''
    n, h, w, c = images.shape
    kh, kw, _, f = kernel.shape
    if padding == "same":
        top, bottom = same_padding(h, kh, s_h)
        left, right = same_padding(w, kw, s_w)
    else:
        p_h, p_w = (0, 0) if padding == "valid" else to_pair(padding, "padding")
        top, bottom, left, right = p_h, p_h, p_w, p_w
    padded = np.pad(images, ((0, 0), (top, bottom), (left, right), (0, 0)))
    out_h = (h + top + bottom - kh) // s_h + 1
    out_w = (w + left + right - kw) // s_w + 1
    out = np.zeros((n, out_h, out_w, f))
    for u in range(kh):
        for v in range(kw):
            shifted = padded[:, u : u + s_h * out_h : s_h, v : v + s_w * out_w : s_w, :]
            out += shifted @ kernel[u, v]
    return out if bias is None else out + bias
    '''
    source = SOLUTION.read_text()
    start = source.index("    ### BEGIN SOLUTION\n    n, h, w, c = images.shape")
    end = source.index("    ### END SOLUTION", start)
    path = tmp_path / "ex01_convolution.py"
    path.write_text(source[:start] + alternative + source[end:])
    report = check_file(EX, path, hidden=True)
    assert report.score == report.max_score, [r.output for r in failures(report)]


def test_naive_loop_conv2d_with_conv_single_step_gets_full_marks(tmp_path):
    alternative = '''
    n, h, w, c = images.shape
    kh, kw, _, f = kernel.shape
    if padding == "same":
        (top, bottom), (left, right) = same_padding(h, kh, s_h), same_padding(w, kw, s_w)
    else:
        p_h, p_w = (0, 0) if padding == "valid" else to_pair(padding, "padding")
        top, bottom, left, right = p_h, p_h, p_w, p_w
    x = np.pad(images, ((0, 0), (top, bottom), (left, right), (0, 0)))
    out_h = conv_output_size(h + top + bottom, kh, s_h)
    out_w = conv_output_size(w + left + right, kw, s_w)
    out = np.zeros((n, out_h, out_w, f))
    for b in range(n):
        for i in range(out_h):
            for j in range(out_w):
                window = x[b, i * s_h : i * s_h + kh, j * s_w : j * s_w + kw, :]
                for k in range(f):
                    out[b, i, j, k] = conv_single_step(window, kernel[..., k], 0.0 if bias is None else bias[k])
    return out
    '''
    source = SOLUTION.read_text()
    start = source.index("    ### BEGIN SOLUTION\n    n, h, w, c = images.shape")
    end = source.index("    ### END SOLUTION", start)
    path = tmp_path / "ex01_convolution.py"
    path.write_text(source[:start] + alternative + source[end:])
    report = check_file(EX, path, hidden=True)
    assert report.score == report.max_score, [r.output for r in failures(report)]


def test_conv2d_modifying_its_input_is_named(tmp_path):
    path = edited(tmp_path, ("    n, h, w, c = images.shape\n", "    n, h, w, c = images.shape\n    images *= 1.5\n"))
    report = check_file(EX, path)
    outputs = [r.output for r in failures(report) if r.function == "conv2d"]
    assert outputs and all("`conv2d` modified its `images` argument" in o for o in outputs)


def test_conv2d_calling_tensorflow_gets_policy_zero_only_for_conv2d(tmp_path):
    path = edited(
        tmp_path,
        ("import numpy as np\n", "import numpy as np\nimport tensorflow as tf\n"),
        ("    n, h, w, c = images.shape\n", "    tf.nn.conv2d\n    n, h, w, c = images.shape\n"),
    )
    report = check_file(EX, path)
    conv = [r for r in report.results if r.function == "conv2d"]
    assert {r.status for r in conv} == {POLICY} and sum(r.score for r in conv) == 0
    assert "not allowed here" in conv[0].output
    assert all(r.status == PASSED for r in report.results if r.function != "conv2d")


def test_a_float32_result_is_not_a_python_float(tmp_path):
    path = edited(tmp_path, ("return float(np.sum(window * kernel) + bias)", "return np.float32(np.sum(window * kernel) + bias)"))
    report = check_file(EX, path)
    (step,) = [r for r in report.results if r.function == "conv_single_step"]
    assert not step.passed and "expected a Python float, got float32" in step.output


def test_a_correct_float64_result_passes(tmp_path):
    """np.float64 is a subclass of Python's float: a correct answer, not a type error."""
    path = edited(tmp_path, ("return float(np.sum(window * kernel) + bias)", "return np.sum(window * kernel) + bias"))
    report = check_file(EX, path, hidden=True)
    assert all(r.passed for r in report.results if r.function == "conv_single_step")


def test_bias_may_be_a_float_or_a_size_1_array():
    from autograder.reference import load_reference

    reference = load_reference("ex01_convolution")
    window, kernel = np.ones((2, 3, 4)), np.full((2, 3, 4), 0.5)
    for bias in (1.0, np.float32(1.0), np.array(1.0), np.ones((1, 1, 1)), np.ones(1)):
        got = reference.conv_single_step(window, kernel, bias)
        assert type(got) is float and got == 13.0


def test_student_exception_is_reported_with_its_line_not_a_grader_traceback(tmp_path):
    path = edited(tmp_path, ("    n, h, w, c = images.shape\n", "    n, h, w, c = images.shape\n    1 / 0\n"))
    report = check_file(EX, path)
    (first, *_) = [r for r in report.results if r.function == "conv2d"]
    assert "raised an error" in first.output
    assert "ZeroDivisionError: division by zero" in first.output
    assert "at ex01_convolution.py, line" in first.output
    assert "autograder" not in first.output


def test_missing_function_reads_not_defined(tmp_path):
    path = edited(tmp_path, ("def conv_single_step(", "def conv_single_stp("))
    report = check_file(EX, path)
    (step,) = [r for r in report.results if r.function == "conv_single_step"]
    assert step.output.startswith("`conv_single_step` is not defined in your file")


def test_grading_is_deterministic():
    a = check_file(EX, ROOT / "assignments/ex01_convolution.py", hidden=True)
    b = check_file(EX, ROOT / "assignments/ex01_convolution.py", hidden=True)
    assert [(r.name, r.score, r.output) for r in a.results] == [(r.name, r.score, r.output) for r in b.results]


def test_hidden_check_output_hides_inputs(tmp_path):
    report = check_file(EX, edited(tmp_path, *CONV2D_MUTANTS["flipped_kernel"]), hidden=True)
    hidden = [r for r in failures(report) if r.hidden]
    assert hidden
    for r in hidden:
        assert "array (" not in r.output and "expected" not in r.output


def test_checking_a_numpy_exercise_does_not_import_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys\nfrom autograder.runner import check_file\n"
        f"r = check_file('ex01', {str(SOLUTION)!r}, hidden=True)\n"
        "print(r.score == r.max_score, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False", "False"]


def test_float_of_an_array_bias_is_explained(tmp_path):
    path = edited(tmp_path, ("    bias = np.asarray(bias, dtype=np.float64).reshape(())  # a number, or shape (1, 1, 1)\n", ""))
    report = check_file(EX, path)
    (step,) = [r for r in report.results if r.function == "conv_single_step"]
    assert not step.passed and "bias=array (1, 1, 1)" in step.output
    assert "Add it as a number" in step.output


def test_points_are_the_published_ones():
    """Students and gradebooks see these totals: a change to them is a decision, not an accident."""
    assert (EX.max_score(hidden=False), EX.max_score() - EX.max_score(hidden=False)) == (13, 5)
