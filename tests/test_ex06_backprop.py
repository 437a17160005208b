"""ex06: the reference agrees with finite differences and TensorFlow; full marks for right code
(several ways), each known mistake fails with its hint, every check fails on some mistake.

Each wrong variant is written the way a student would write it, as a replacement of one
function in the solution file.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from helpers_exercises import (
    assignment_path,
    check_student,
    failure_text,
    failures,
    function_source,
    hint_of,
    mutant_names,
    solution_path,
    student_file,
)

from autograder import exercises
from autograder.checks import ERROR, PASSED, POLICY
from autograder.reference import load_reference

EX = exercises.get("ex06_backprop")
CONV_CASES = [
    ((2, 7, 6, 3), (3, 3, 3, 4), 1, "valid"),
    ((2, 9, 8, 3), (3, 2, 3, 4), (2, 3), "valid"),
    ((2, 7, 6, 3), (4, 4, 3, 5), 1, "same"),
    ((1, 7, 6, 2), (3, 3, 2, 3), 2, "same"),
    ((2, 6, 7, 2), (3, 3, 2, 3), 2, (2, 1)),
]
POOL_CASES = [
    ((2, 8, 6, 3), 2, None, "valid"),
    ((2, 7, 6, 3), 3, 1, "valid"),
    ((2, 9, 8, 3), (3, 2), (2, 1), "valid"),
    ((2, 7, 5, 3), 2, None, "same"),
    ((2, 7, 5, 3), 3, 2, "same"),
]


def _no_ties(rng, shape):
    return (rng.permutation(int(np.prod(shape))).reshape(shape) - 40) / 4.0


# --------------------------------------------------------------------------- the reference itself


@pytest.mark.parametrize("images_shape, kernel_shape, strides, padding", CONV_CASES)
def test_reference_conv2d_backward_agrees_with_finite_differences(images_shape, kernel_shape, strides, padding):
    ref = load_reference("ex06_backprop")
    rng = np.random.default_rng(0)
    x, k, b = rng.standard_normal(images_shape), rng.standard_normal(kernel_shape), rng.standard_normal(kernel_shape[3])
    weights = rng.standard_normal(ref.conv2d(x, k, b, strides, padding).shape)

    def loss(x_, k_, b_):
        return np.sum(ref.conv2d(x_, k_, b_, strides, padding) * weights)

    d_x, d_k, d_b = ref.conv2d_backward(weights, x, k, strides, padding)
    np.testing.assert_allclose(d_x, ref.numerical_gradient(lambda a: loss(a, k, b), x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(d_k, ref.numerical_gradient(lambda a: loss(x, a, b), k), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(d_b, ref.numerical_gradient(lambda a: loss(x, k, a), b), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shape, pool_size, strides, padding", POOL_CASES)
def test_reference_max_pooling_backward_agrees_with_finite_differences(shape, pool_size, strides, padding):
    ref = load_reference("ex06_backprop")
    rng = np.random.default_rng(1)
    x = _no_ties(rng, shape)
    weights = rng.standard_normal(ref.max_pooling2d(x, pool_size, strides, padding).shape)
    got = ref.max_pooling2d_backward(weights, x, pool_size, strides, padding)
    numeric = ref.numerical_gradient(lambda a: np.sum(ref.max_pooling2d(a, pool_size, strides, padding) * weights), x)
    np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-7)


def test_reference_max_pooling_backward_by_hand_overlapping_windows_add_up():
    ref = load_reference("ex06_backprop")
    x = np.array([[1, 2, 3], [4, 9, 5], [6, 7, 8]], dtype=float)[None, :, :, None]  # 9 wins all 4 windows
    d = ref.max_pooling2d_backward(np.array([[1.0, 2.0], [3.0, 4.0]])[None, :, :, None], x, 2, 1)
    assert d[0, :, :, 0].tolist() == [[0, 0, 0], [0, 10, 0], [0, 0, 0]]


def test_reference_numerical_gradient_leaves_x_unchanged_and_is_central():
    ref = load_reference("ex06_backprop")
    x = np.array([[0.5, -1.0, 2.0]])
    before = x.copy()
    got = ref.numerical_gradient(lambda a: float(np.sum(a**3)), x, eps=1e-2)
    assert np.array_equal(x, before)
    # central differences of a cubic: 3 x² + eps², exactly (one-sided would add 3 x eps)
    np.testing.assert_allclose(got, 3 * x**2 + 1e-4, rtol=1e-9)


def test_reference_fit_kernel_recovers_an_edge_detector_and_steps_zero_is_the_start():
    ref = load_reference("ex06_backprop")
    x = np.random.default_rng(2).standard_normal((3, 10, 9, 1))
    sobel = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])[:, :, None, None]
    targets = ref.conv2d(x, sobel)
    np.testing.assert_allclose(ref.fit_kernel(x, targets, 3), sobel, atol=1e-6)
    start = ref.fit_kernel(x, targets, 3, steps=0)
    assert np.array_equal(ref.fit_kernel(x, targets, 3, steps=7, learning_rate=0.0), start)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda r: r.conv2d_backward(np.zeros((2, 3, 3, 4)), np.zeros((2, 5, 7, 3)), np.zeros((3, 3, 3, 4))),
         r"shape of the forward output, \(2, 3, 5, 4\). Received: d_out.shape=\(2, 3, 3, 4\)"),
        (lambda r: r.max_pooling2d_backward(np.zeros((1, 3, 3, 1)), np.zeros((1, 5, 5, 1))),
         r"pooled output, \(1, 2, 2, 1\). Received: d_out.shape=\(1, 3, 3, 1\)"),
        (lambda r: r.max_pooling2d_backward(np.zeros((1, 3, 3, 1)), np.zeros((1, 6, 6, 1)), padding=1),
         r"Received: padding=1"),
        (lambda r: r.fit_kernel(np.zeros((2, 6, 5, 1)), np.zeros((2, 6, 5, 1)), 3),
         r"Received: targets.shape=\(2, 6, 5, 1\)"),
    ],
)
def test_reference_rejects_bad_arguments_with_keras_style_errors(call, message):
    ref = load_reference("ex06_backprop")
    with pytest.raises(ValueError, match=message):
        call(ref)


@pytest.mark.slow
@pytest.mark.parametrize("images_shape, kernel_shape, strides, padding", CONV_CASES)
def test_reference_conv2d_backward_agrees_with_tensorflow_gradient_tape(images_shape, kernel_shape, strides, padding):
    tf = pytest.importorskip("tensorflow")
    ref = load_reference("ex06_backprop")
    rng = np.random.default_rng(3)
    x, k = rng.standard_normal(images_shape), rng.standard_normal(kernel_shape)
    weights = rng.standard_normal(ref.conv2d(x, k, None, strides, padding).shape)
    s = (strides, strides) if isinstance(strides, int) else strides
    if isinstance(padding, str):
        tf_padding = padding.upper()
    else:
        p = (padding, padding) if isinstance(padding, int) else padding
        tf_padding = [[0, 0], [p[0], p[0]], [p[1], p[1]], [0, 0]]
    tx, tk = tf.Variable(x), tf.Variable(k)
    with tf.GradientTape() as tape:
        out = tf.nn.conv2d(tx, tk, strides=[1, *s, 1], padding=tf_padding)
        loss = tf.reduce_sum(out * weights)
    g_x, g_k = tape.gradient(loss, [tx, tk])
    d_x, d_k, d_b = ref.conv2d_backward(weights, x, k, strides, padding)
    np.testing.assert_allclose(d_x, g_x.numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(d_k, g_k.numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(d_b, weights.sum(axis=(0, 1, 2)), rtol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("shape, pool_size, strides, padding", POOL_CASES)
def test_reference_max_pooling_backward_agrees_with_tensorflow_gradient_tape(shape, pool_size, strides, padding):
    tf = pytest.importorskip("tensorflow")
    ref = load_reference("ex06_backprop")
    rng = np.random.default_rng(4)
    x = _no_ties(rng, shape)
    weights = rng.standard_normal(ref.max_pooling2d(x, pool_size, strides, padding).shape)
    tx = tf.Variable(x)
    with tf.GradientTape() as tape:
        out = tf.nn.max_pool2d(tx, pool_size, strides if strides is not None else pool_size, padding.upper())
        loss = tf.reduce_sum(out * weights)
    np.testing.assert_allclose(
        ref.max_pooling2d_backward(weights, x, pool_size, strides, padding), tape.gradient(loss, tx).numpy(), rtol=1e-9
    )


# --------------------------------------------------------------------------- known mistakes, as students write them

CONV_LOOP = '''
def conv2d_backward(d_out, images, kernel, strides=1, padding="valid"):
    d_out, images, kernel = np.asarray(d_out, float), np.asarray(images, float), np.asarray(kernel, float)
    s_h, s_w = to_pair(strides, "strides")
    n, h, w, c = images.shape
    kh, kw, _, f = kernel.shape
    top, bottom = padding_amounts(h, kh, s_h, padding, 0)
    left, right = padding_amounts(w, kw, s_w, padding, 1)
    padded = np.pad(images, ((0, 0), (top, bottom), (left, right), (0, 0)))
    d_padded = np.zeros_like(padded)
    d_kernel = np.zeros_like(kernel)
    back = {back}
    for i in range(d_out.shape[1]):
        for j in range(d_out.shape[2]):
            r, c0 = {start}
            g = d_out[:, i, j, :]
            window = padded[:, r:r + kh, c0:c0 + kw, :]
            d_kernel += {d_kernel}
            d_padded[:, r:r + kh, c0:c0 + kw, :] += np.einsum("nf,uvcf->nuvc", g, back)
    d_kernel = {kernel_scale}
    d_bias = {d_bias}
    return {d_images}, d_kernel, d_bias
'''


def conv_loop(**changes):
    fields = {
        "back": "kernel",
        "start": "i * s_h, j * s_w",
        "d_kernel": 'np.einsum("nuvc,nf->uvcf", window, g)',
        "kernel_scale": "d_kernel",
        "d_bias": "d_out.sum(axis=(0, 1, 2))",
        "d_images": "d_padded[:, top:top + h, left:left + w]",
    }
    return CONV_LOOP.format(**{**fields, **changes})


POOL_LOOP = '''
def max_pooling2d_backward(d_out, images, pool_size=2, strides=None, padding="valid"):
    d_out, images = np.asarray(d_out, float), np.asarray(images, float)
    p_h, p_w = to_pair(pool_size, "pool_size")
    s_h, s_w = (p_h, p_w) if strides is None else to_pair(strides, "strides")
    n, h, w, c = images.shape
    out_h, start_h = pooling_geometry(h, p_h, s_h, padding)
    out_w, start_w = pooling_geometry(w, p_w, s_w, padding)
    d = np.zeros_like(images)
    for b in range(n):
        for ch in range(c):
            for i in range(out_h):
                for j in range(out_w):
                    t, l = {start}
                    t0, l0 = max(t, 0), max(l, 0)
                    window = images[b, t0:min(t + p_h, h), l0:min(l + p_w, w), ch]
                    {body}
    return d
'''
POOL_ARGMAX = '''r, q = np.unravel_index(np.argmax(window), window.shape)
                    d[b, t0 + r, l0 + q, ch] {op} d_out[b, i, j, ch]'''


def pool_loop(start="start_h + i * s_h, start_w + j * s_w", body=POOL_ARGMAX.format(op="+=")):
    return POOL_LOOP.format(start=start, body=body)


DIFFERENCES = '''
def numerical_gradient(f, x, eps=1e-5):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    {before}
    for k in np.ndindex(x.shape):
        old = x[k]
        x[k] = old + {eps}
        up = f(x)
        x[k] = old - {eps}
        down = f(x)
        x[k] = old
        grad[k] = {formula}
    return grad
'''


def differences(before="", eps="eps", formula="(up - down) / (2 * eps)"):
    return DIFFERENCES.format(before=before, eps=eps, formula=formula)


FIT = '''
def fit_kernel(images, targets, kernel_size, steps=200, learning_rate=0.1, seed=0):
    images, targets = np.asarray(images, float), np.asarray(targets, float)
    kh, kw = to_pair(kernel_size, "kernel_size")
    kernel = np.random.default_rng(seed).normal(0, 0.1, (kh, kw, images.shape[3], 1))
    for step in range(steps):
        error = conv2d(images, kernel) - targets
        _, d_kernel, _ = conv2d_backward({d_out}, images, kernel)
        kernel {update} {rate} * d_kernel
    return kernel
'''


def fit(d_out="2 * error / error.size", update="-=", rate="learning_rate"):
    return FIT.format(d_out=d_out, update=update, rate=rate)


MISTAKES = {
    ("conv2d_backward", "kernel_not_flipped"): conv_loop(back="kernel[::-1, ::-1]"),
    ("conv2d_backward", "kernel_transposed"): conv_loop(back="kernel.transpose(1, 0, 2, 3)"),
    ("conv2d_backward", "padding_not_removed"): conv_loop(d_images="d_padded"),
    ("conv2d_backward", "padding_cut_from_start"): conv_loop(d_images="d_padded[:, :h, :w]"),
    ("conv2d_backward", "stride_ignored"): conv_loop(start="i, j"),
    ("conv2d_backward", "kernel_first_image"): conv_loop(d_kernel='np.einsum("uvc,f->uvcf", window[0], g[0])'),
    ("conv2d_backward", "kernel_batch_mean"): conv_loop(kernel_scale="d_kernel / n"),
    ("conv2d_backward", "bias_per_image"): conv_loop(d_bias="d_out.sum(axis=(1, 2))"),
    ("conv2d_backward", "bias_per_position"): conv_loop(d_bias="np.sum(d_out, axis=0)"),
    ("conv2d_backward", "bias_mean"): conv_loop(d_bias="d_out.mean(axis=(0, 1, 2))"),
    ("max_pooling2d_backward", "every_cell"): pool_loop(
        body="d[b, t0:min(t + p_h, h), l0:min(l + p_w, w), ch] += d_out[b, i, j, ch]"
    ),
    ("max_pooling2d_backward", "average"): pool_loop(
        body="d[b, t0:min(t + p_h, h), l0:min(l + p_w, w), ch] += d_out[b, i, j, ch] / window.size"
    ),
    ("max_pooling2d_backward", "last_window_only"): pool_loop(body=POOL_ARGMAX.format(op="=")),
    ("max_pooling2d_backward", "top_left"): pool_loop(body="d[b, t0, l0, ch] += d_out[b, i, j, ch]"),
    ("max_pooling2d_backward", "stride_ignored"): pool_loop(start="start_h + i, start_w + j"),
    ("numerical_gradient", "one_sided"): differences(before="base = f(x)", formula="(up - base) / eps"),
    ("numerical_gradient", "not_halved"): differences(formula="(up - down) / eps"),
    ("numerical_gradient", "ignores_eps"): differences(eps="1e-5", formula="(up - down) / 2e-5"),
    ("numerical_gradient", "x_not_restored"): '''
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros(x.shape)
    for k in np.ndindex(x.shape):
        x[k] += eps
        up = f(x)
        x[k] -= 2 * eps
        down = f(x)
        grad[k] = (up - down) / (2 * eps)
    return grad
''',
    ("fit_kernel", "uphill"): fit(update="+="),
    ("fit_kernel", "ignores_learning_rate"): fit(rate="0.1"),
    ("fit_kernel", "sum_not_mean"): fit(d_out="2 * error"),
}


def test_every_registered_mutant_has_a_student_version_here():
    assert sorted(MISTAKES) == sorted(mutant_names("ex06"))


@pytest.mark.parametrize("function, mutant", sorted(MISTAKES), ids=[f"{f}-{m}" for f, m in sorted(MISTAKES)])
def test_mistake_fails_and_is_named_in_the_hint(tmp_path, function, mutant):
    report = check_student(tmp_path, "ex06", {function: MISTAKES[function, mutant]}, functions=[function])
    failed = failures(report, function)
    assert failed, f"{mutant}: every check of {function} passed"
    assert hint_of("ex06", function, mutant) in failure_text(report, function), failure_text(report)
    assert mutant in {r.mistake for r in failed}  # named for the instructors' reports too
    # a wrong kernel layout can also make the student's own code raise on a non-square kernel
    assert {r.status for r in failed} <= {"failed", ERROR}, failure_text(report)


def test_every_check_fails_on_at_least_one_known_mistake(tmp_path):
    failed = set()
    for number, ((function, _), source) in enumerate(MISTAKES.items()):
        folder = tmp_path / str(number)
        folder.mkdir()
        failed |= {r.name for r in failures(check_student(folder, "ex06", {function: source}, functions=[function]))}
    assert failed == {c.name for c in EX.checks}


def test_failure_names_the_gradient_its_shape_axes_and_first_difference(tmp_path):
    report = check_student(tmp_path, "ex06", {"conv2d_backward": MISTAKES["conv2d_backward", "padding_not_removed"]},
                           hidden=False, functions=["conv2d_backward"])
    text = failure_text(report)
    assert "d_images: shape: expected (batch=2, height=7, width=6, channels=3)" in text
    report = check_student(tmp_path, "ex06", {"conv2d_backward": MISTAKES["conv2d_backward", "bias_mean"]},
                           hidden=False, functions=["conv2d_backward"])
    assert "d_bias: 4 of 4 values differ\n  first at [0]: got" in failure_text(report)


def test_a_student_numerical_gradient_that_raises_reports_its_error(tmp_path):
    source = '''
def numerical_gradient(f, x, eps=1e-5):
    return np.array([f(x + eps) - f(x - eps) for _ in x]) / undefined_name
'''
    report = check_student(tmp_path, "ex06", {"numerical_gradient": source}, functions=["numerical_gradient"])
    assert {r.status for r in report.results} == {ERROR}
    assert "NameError" in failure_text(report) and "undefined_name" in failure_text(report)


# --------------------------------------------------------------------------- right code, written otherwise

ALTERNATIVES = {
    "per_position_loops": {
        "conv2d_backward": conv_loop(),
        "max_pooling2d_backward": pool_loop(),
        "numerical_gradient": '''
def numerical_gradient(f, x, eps=1e-5):
    flat = np.array(x, dtype=float).ravel()
    grad = np.empty_like(flat)
    for k in range(flat.size):
        step = np.zeros_like(flat)
        step[k] = eps
        grad[k] = (f((flat + step).reshape(np.shape(x))) - f((flat - step).reshape(np.shape(x)))) / (2 * eps)
    return grad.reshape(np.shape(x))
''',
        "fit_kernel": fit(d_out="(error + error) / np.size(error)"),
    },
    "full_convolution_and_masks": {
        "conv2d_backward": '''
def conv2d_backward(d_out, images, kernel, strides=1, padding="valid"):
    d_out, images, kernel = np.asarray(d_out, float), np.asarray(images, float), np.asarray(kernel, float)
    s_h, s_w = to_pair(strides, "strides")
    n, h, w, c = images.shape
    kh, kw, _, f = kernel.shape
    (top, bottom), (left, right) = padding_amounts(h, kh, s_h, padding, 0), padding_amounts(w, kw, s_w, padding, 1)
    hp, wp = h + top + bottom, w + left + right
    dilated = np.zeros((n, (d_out.shape[1] - 1) * s_h + 1, (d_out.shape[2] - 1) * s_w + 1, f))
    dilated[:, ::s_h, ::s_w] = d_out
    # d_padded = full correlation of the dilated d_out with the kernel flipped, filters -> channels
    full = np.pad(dilated, ((0, 0), (kh - 1, hp - dilated.shape[1]), (kw - 1, wp - dilated.shape[2]), (0, 0)))
    flipped = kernel[::-1, ::-1].transpose(0, 1, 3, 2)
    d_padded = conv2d(full, flipped)[:, :hp, :wp]
    padded = np.pad(images, ((0, 0), (top, bottom), (left, right), (0, 0)))
    d_kernel = np.zeros_like(kernel)
    for u in range(kh):
        for v in range(kw):
            patch = padded[:, u:u + dilated.shape[1]:s_h, v:v + dilated.shape[2]:s_w]
            d_kernel[u, v] = np.einsum("nijc,nijf->cf", patch, d_out)
    return d_padded[:, top:top + h, left:left + w], d_kernel, np.einsum("nijf->f", d_out)
''',
        "max_pooling2d_backward": '''
def max_pooling2d_backward(d_out, images, pool_size=2, strides=None, padding="valid"):
    images = np.asarray(images, float)
    p_h, p_w = to_pair(pool_size, "pool_size")
    s_h, s_w = (p_h, p_w) if strides is None else to_pair(strides, "strides")
    n, h, w, c = images.shape
    out_h, start_h = pooling_geometry(h, p_h, s_h, padding)
    out_w, start_w = pooling_geometry(w, p_w, s_w, padding)
    result = np.zeros_like(images)
    for i in range(out_h):
        for j in range(out_w):
            rows = slice(max(start_h + i * s_h, 0), min(start_h + i * s_h + p_h, h))
            cols = slice(max(start_w + j * s_w, 0), min(start_w + j * s_w + p_w, w))
            window = images[:, rows, cols, :]
            mask = window == window.max(axis=(1, 2), keepdims=True)
            result[:, rows, cols, :] += mask * np.asarray(d_out)[:, i:i + 1, j:j + 1, :]
    return result
''',
        "numerical_gradient": '''
def numerical_gradient(f, x, eps=1e-5):
    x = np.asarray(x)
    grad = np.zeros(x.shape)
    for k in np.ndindex(x.shape):
        bump = np.zeros(x.shape)
        bump[k] = eps
        grad[k] = 0.5 * (f(x + bump) - f(x - bump)) / eps
    return grad
''',
        "fit_kernel": '''
def fit_kernel(images, targets, kernel_size, steps=200, learning_rate=0.1, seed=0):
    kh, kw = to_pair(kernel_size, "kernel_size")
    kernel = np.random.default_rng(seed + 1).uniform(-0.05, 0.05, (kh, kw, np.shape(images)[3], 1))
    step = 0
    while step < steps:
        residual = conv2d(images, kernel) - targets
        kernel = kernel - learning_rate * conv2d_backward(residual * (2.0 / residual.size), images, kernel)[1]
        step += 1
    return kernel
''',
    },
}


@pytest.mark.parametrize("style", ALTERNATIVES)
def test_correct_alternative_scores_full_marks(tmp_path, style):
    report = check_student(tmp_path, "ex06", ALTERNATIVES[style])
    assert report.problems == []
    assert failure_text(report) == ""
    assert report.score == EX.max_score()


def test_fit_kernel_that_ignores_the_seed_is_told_so(tmp_path):
    source = fit().replace("np.random.default_rng(seed).normal(", "np.random.default_rng().normal(")
    report = check_student(tmp_path, "ex06", {"fit_kernel": source}, functions=["fit_kernel"])
    assert "draw the starting kernel from `np.random.default_rng(seed)`" in failure_text(report)


def test_fit_kernel_uses_the_students_own_backward_pass(tmp_path):
    report = check_student(
        tmp_path, "ex06", {"conv2d_backward": MISTAKES["conv2d_backward", "kernel_batch_mean"]}, functions=["fit_kernel"]
    )
    assert report.score == report.max_score  # dividing d_kernel by N only slows it down
    report = check_student(tmp_path, "ex06", {"conv2d_backward": conv_loop(kernel_scale="-d_kernel")},
                           functions=["fit_kernel"])
    failed = {r.name for r in failures(report, "fit_kernel")}  # a sign error sends it uphill
    assert {c.name for c in EX.checks_for(["fit_kernel"]) if "learning_rate=0" not in c.name} == failed


# --------------------------------------------------------------------------- policy, input mutation, imports


def test_backward_that_calls_tensorflow_gets_policy_status_for_that_function_only(tmp_path):
    source = '''
def conv2d_backward(d_out, images, kernel, strides=1, padding="valid"):
    import tensorflow as tf
    x, k = tf.Variable(images), tf.Variable(kernel)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.conv2d(x, k, strides, padding.upper()) * d_out)
    d_x, d_k = tape.gradient(loss, [x, k])
    return d_x.numpy(), d_k.numpy(), d_out.sum(axis=(0, 1, 2))
'''
    report = check_student(tmp_path, "ex06", {"conv2d_backward": source})
    statuses = {f: {r.status for r in report.results if r.function == f} for f in EX.functions}
    assert statuses["conv2d_backward"] == {POLICY}
    assert all(s == {PASSED} for f, s in statuses.items() if f not in ("conv2d_backward", "fit_kernel"))
    assert "`conv2d_backward` uses tensorflow" in failure_text(report)


def test_backward_that_writes_into_d_out_is_told_so(tmp_path):
    source = function_source("ex06", "conv2d_backward", [("d_out = np.asarray(d_out, dtype=float)", "d_out *= 1.0")])
    source = source.replace("d_out *= 1.0", "d_out = np.asarray(d_out)\n    d_out *= 2.0\n    d_out /= 2.0001")
    report = check_student(tmp_path, "ex06", {"conv2d_backward": source}, functions=["conv2d_backward"], hidden=False)
    assert report.results[0].output.startswith("`conv2d_backward` modified its `d_out` argument")


def test_checking_never_imports_tensorflow_or_keras():
    code = (
        "import sys\n"
        "from autograder.runner import check_file\n"
        f"report = check_file('ex06', {str(solution_path('ex06'))!r}, hidden=True)\n"
        "assert report.score == report.max_score, report.score\n"
        "loaded = sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# --------------------------------------------------------------------------- isolated grading, hostile submissions

HOSTILE = {
    # name -> (replacements, expected score out of 23, {function: status of its checks})
    "honest": ({}, 23, {}),
    "loops_in_numerical_gradient": (
        {"numerical_gradient": "def numerical_gradient(f, x, eps=1e-5):\n    while True:\n        pass\n"},
        19, {"numerical_gradient": "TIMEOUT"}),
    "reaches_the_grader_through_f": (
        {"numerical_gradient": "def numerical_gradient(f, x, eps=1e-5):\n"
                               "    grader = f.__globals__\n    return np.zeros(np.shape(x))\n"},
        19, {"numerical_gradient": "POLICY"}),
    "exits_in_max_pooling_backward": (
        {"max_pooling2d_backward": "def max_pooling2d_backward(d_out, images, pool_size=2, strides=None, "
                                   "padding='valid'):\n    import os\n    os._exit(3)\n"},
        17, {"max_pooling2d_backward": "CRASHED"}),
    "forges_a_gradient_object": (
        {"conv2d_backward": "class Anything:\n    def __eq__(self, other):\n        return True\n\n\n"
                            "def conv2d_backward(d_out, images, kernel, strides=1, padding='valid'):\n"
                            "    return Anything(), Anything(), Anything()\n"},
        10, {"conv2d_backward": "failed", "fit_kernel": "not passed"}),  # fit_kernel uses it
}


@pytest.mark.slow
def test_isolated_grading_of_hostile_submissions_costs_only_the_checks_they_hit(tmp_path):
    import json

    from autograder.grading import Options, grade

    subs = tmp_path / "submissions"
    subs.mkdir()
    for name, (replacements, _, _) in HOSTILE.items():
        student_file(subs, "ex06", replacements, name=f"{name}.py")
    (subs / "stub.ipynb").write_bytes(assignment_path("ex06").read_bytes())
    summary = grade("ex06", [subs], tmp_path / "out", Options(timeout=3, memory_mb=512, jobs=2))
    assert not summary.failed
    expected = {**HOSTILE, "stub": ({}, 0, {f: "NOT_IMPLEMENTED" for f in EX.functions})}
    for name, (_, total, statuses) in expected.items():
        doc = json.loads((tmp_path / "out" / name / "results.json").read_text())
        assert doc["score"] == total and doc["max_score"] == 23, (name, doc["score"], doc["tests"])
        for test in doc["tests"]:
            function, status = test["tags"]
            wanted = statuses.get(function, PASSED)
            assert status != PASSED if wanted == "not passed" else status == wanted, (name, test["name"], status)


def test_points_are_the_published_ones():
    """Students and gradebooks see these totals: a change to them is a decision, not an accident."""
    assert (EX.max_score(hidden=False), EX.max_score() - EX.max_score(hidden=False)) == (18, 5)
