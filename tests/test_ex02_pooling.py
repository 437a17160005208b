"""ex02: full marks for right code (several ways), zero for stubs, each known mistake named.

Each wrong variant is written the way a student would write it, as a replacement of one
function in the solution file, and must fail a check whose output carries its hint.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from helpers_exercises import (
    check_student,
    failure_text,
    failures,
    hint_of,
    mutant_names,
    solution_path,
)

from autograder import exercises
from autograder.checks import PASSED, POLICY
from autograder.reference import load_reference

EX = exercises.get("ex02_pooling")


# --------------------------------------------------------------------------- the reference itself


def test_reference_max_pooling_by_hand():
    ref = load_reference("ex02_pooling")
    x = np.array([[1, 5, 2], [7, 3, 9], [4, 8, 6]], dtype=float)[None, :, :, None]  # (1, 3, 3, 1)
    assert ref.max_pooling2d(x)[0, :, :, 0].tolist() == [[7.0]]
    # "same": windows (0:2, 0:2), (0:2, 2:3), (2:3, 0:2), (2:3, 2:3): the last ones hang over the edge
    assert ref.max_pooling2d(x, padding="same")[0, :, :, 0].tolist() == [[7, 9], [8, 6]]
    assert ref.average_pooling2d(x, padding="same")[0, :, :, 0].tolist() == [[4, 5.5], [6, 6]]
    assert ref.max_pooling2d(-x, padding="same")[0, :, :, 0].tolist() == [[-1, -2], [-4, -6]]
    assert ref.global_average_pooling2d(x).tolist() == [[5.0]]


def test_reference_does_not_modify_its_input():
    ref = load_reference("ex02_pooling")
    x = np.random.default_rng(0).standard_normal((2, 5, 4, 3))
    before = x.copy()
    for fn in (ref.max_pooling2d, ref.average_pooling2d):
        fn(x, 3, 1, "same")
    ref.global_average_pooling2d(x)
    assert np.array_equal(x, before)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"padding": 1}, r"'valid' or 'same' .*Received: padding=1"),
        ({"padding": "full"}, r"Received: padding='full'"),
        ({"pool_size": 0}, r"positive int .*Received: pool_size=0"),
        ({"pool_size": 2.0}, r"Received: pool_size=2.0"),
        ({"strides": (1, 2, 3)}, r"Received: strides=\(1, 2, 3\)"),
        ({"pool_size": 6}, r"must fit in the image.*Received: images.shape=\(1, 5, 7, 2\)"),
    ],
)
def test_reference_rejects_bad_arguments_with_keras_style_errors(kwargs, message):
    ref = load_reference("ex02_pooling")
    with pytest.raises(ValueError, match=message):
        ref.max_pooling2d(np.zeros((1, 5, 7, 2)), **kwargs)
    with pytest.raises(ValueError, match=message):
        ref.average_pooling2d(np.zeros((1, 5, 7, 2)), **kwargs)


def test_reference_rejects_images_without_four_axes():
    ref = load_reference("ex02_pooling")
    for fn in (ref.max_pooling2d, ref.average_pooling2d, ref.global_average_pooling2d):
        with pytest.raises(ValueError, match=r"\(N, H, W, C\).*Received: images.shape=\(5, 7\)"):
            fn(np.zeros((5, 7)))


# --------------------------------------------------------------------------- known mistakes

LOOP = '''
def {function}(images, pool_size=2, strides=None, padding="valid"):
    images, (p_h, p_w), padding = pooling_arguments(images, pool_size, strides, padding)
    s_h, s_w = {strides}
    n, h, w, c = images.shape
    out_h, start_h = pooling_geometry(h, {pool_h}, s_h, {padding})
    out_w, start_w = pooling_geometry(w, {pool_w}, s_w, {padding})
    out = np.zeros((n, out_h, out_w, c))
    for i in range(out_h):
        for j in range(out_w):
            top, left = {top_left}
            rows = slice(max(top, 0), min(top + {pool_h}, h))
            cols = slice(max(left, 0), min(left + {pool_w}, w))
            out[:, i, j, :] = {reduce}
    return out
'''
REDUCE = {"max_pooling2d": "images[:, rows, cols, :].max(axis=(1, 2))", "average_pooling2d": "images[:, rows, cols, :].mean(axis=(1, 2))"}


def loop(function, **changes):
    """A student's loop-based pooling with one thing changed."""
    fields = {
        "function": function,
        "strides": '(p_h, p_w) if strides is None else to_pair(strides, "strides")',
        "pool_h": "p_h",
        "pool_w": "p_w",
        "padding": "padding",
        "top_left": "start_h + i * s_h, start_w + j * s_w",
        "reduce": REDUCE[function],
    }
    return LOOP.format(**{**fields, **changes})


def same_own_geometry(function, before, reduce):
    """A pooling that pads the border itself: `before(total)` cells at the top/left."""
    return f'''
def {function}(images, pool_size=2, strides=None, padding="valid"):
    images, (p_h, p_w), padding = pooling_arguments(images, pool_size, strides, padding)
    s_h, s_w = (p_h, p_w) if strides is None else to_pair(strides, "strides")
    n, h, w, c = images.shape
    pads, outs = [], []
    for size, p, s in ((h, p_h, s_h), (w, p_w, s_w)):
        if padding == "same":
            out = -(-size // s)
            total = max((out - 1) * s + p - size, 0)
            pads.append(({before}, total - ({before})))
        else:
            out = (size - p) // s + 1
            pads.append((0, 0))
        outs.append(out)
    padded = np.pad(images.astype(float), ((0, 0), pads[0], pads[1], (0, 0)), constant_values={{fill}})
    result = np.zeros((n, outs[0], outs[1], c))
    for i in range(outs[0]):
        for j in range(outs[1]):
            window = padded[:, i * s_h : i * s_h + p_h, j * s_w : j * s_w + p_w, :]
            result[:, i, j, :] = {reduce}
    return result
'''


def both(**changes):
    """The same change in max and average pooling."""
    return {f: loop(f, **changes) for f in ("max_pooling2d", "average_pooling2d")}


POOLING_MISTAKES = {
    "top_left": both(reduce="images[:, max(top, 0), max(left, 0), :]"),
    "bottom_right": both(reduce="images[:, min(top + p_h, h) - 1, min(left + p_w, w) - 1, :]"),
    "across_channels": {
        "max_pooling2d": loop("max_pooling2d", reduce="images[:, rows, cols, :].max(axis=(1, 2, 3))[:, None]"),
        "average_pooling2d": loop("average_pooling2d", reduce="np.mean(images[:, rows, cols], axis=(1, 2, 3))[:, None]"),
    },
    "strides_none_is_one": both(strides='to_pair(strides or 1, "strides")'),
    "same_as_valid": both(padding='"valid"'),
    "start_ignores_stride": both(top_left="start_h + i, start_w + j"),
    "pool_swapped": both(pool_h="p_w", pool_w="p_h"),
    "strides_swapped": both(strides='(p_h, p_w) if strides is None else to_pair(strides, "strides")[::-1]'),
    "max_avg_swapped": {
        "max_pooling2d": loop("max_pooling2d", reduce=REDUCE["average_pooling2d"]),
        "average_pooling2d": loop("average_pooling2d", reduce=REDUCE["max_pooling2d"]),
    },
    "extra_first": {
        "max_pooling2d": same_own_geometry("max_pooling2d", "total - total // 2", "window.max(axis=(1, 2))").replace(
            "{fill}", "-np.inf"
        ),
        "average_pooling2d": same_own_geometry(
            "average_pooling2d", "total - total // 2", "np.nanmean(window, axis=(1, 2))"
        ).replace("{fill}", "np.nan"),
    },
    "same_pads_zeros": {
        "max_pooling2d": same_own_geometry("max_pooling2d", "total // 2", "window.max(axis=(1, 2))").replace(
            "{fill}", "0"
        )
    },
    "same_counts_padding": {
        "average_pooling2d": same_own_geometry("average_pooling2d", "total // 2", "window.sum(axis=(1, 2)) / (p_h * p_w)").replace(
            "{fill}", "0"
        )
    },
    "sum_not_mean": {"average_pooling2d": loop("average_pooling2d", reduce="images[:, rows, cols, :].sum(axis=(1, 2))")},
    "floor_division": {
        "average_pooling2d": loop(
            "average_pooling2d",
            reduce="images[:, rows, cols, :].sum(axis=(1, 2)) // ((rows.stop - rows.start) * (cols.stop - cols.start))",
        ),
        "global_average_pooling2d": '''
def global_average_pooling2d(images):
    images = np.asarray(images)
    return images.sum(axis=(1, 2)) // (images.shape[1] * images.shape[2])
''',
    },
}

GAP = '''
def global_average_pooling2d(images):
    images = np.asarray(images)
    return {expression}
'''
GAP_MISTAKES = {
    "keepdims": "images.mean(axis=(1, 2), keepdims=True)",
    "channels_and_width": "images.mean(axis=(2, 3))",
    "batch_and_height": "np.mean(np.mean(images, axis=0), axis=0)",
    "all_but_batch": "images.reshape(len(images), -1).mean(axis=1)",
    "whole_batch": "images.mean(axis=(0, 1, 2))",
    "global_max": "images.max(axis=(1, 2))",
    "global_sum": "images.sum(axis=(1, 2))",
}
for _name, _expression in GAP_MISTAKES.items():
    POOLING_MISTAKES.setdefault(_name, {})["global_average_pooling2d"] = GAP.format(expression=_expression)

CASES = [(function, name, source) for name, sources in POOLING_MISTAKES.items() for function, source in sources.items()]


def test_every_registered_mutant_has_a_student_version_here():
    assert sorted((f, n) for f, n, _ in CASES) == sorted(mutant_names("ex02"))


@pytest.mark.parametrize("function, mutant, source", CASES, ids=[f"{f}-{n}" for f, n, _ in CASES])
def test_mistake_fails_and_is_named_in_the_hint(tmp_path, function, mutant, source):
    report = check_student(tmp_path, "ex02", {function: source}, functions=[function])
    failed = failures(report, function)
    assert failed, f"{mutant}: every check of {function} passed"
    assert hint_of("ex02", function, mutant) in failure_text(report, function), failure_text(report)
    assert {r.mistake for r in failed} - {""} == {mutant}, [(r.name, r.mistake) for r in failed]
    assert all(r.status == "failed" for r in failed)


def test_failure_message_shows_shapes_with_axis_names_and_first_difference(tmp_path):
    report = check_student(
        tmp_path, "ex02", {"max_pooling2d": POOLING_MISTAKES["same_as_valid"]["max_pooling2d"]}, functions=["max_pooling2d"]
    )
    text = failure_text(report)
    assert "padding='same'" in text and "shape: expected (batch=2, out_height=4" in text
    report = check_student(tmp_path, "ex02", {"max_pooling2d": POOLING_MISTAKES["top_left"]["max_pooling2d"]}, hidden=False)
    assert "values differ\n" in failure_text(report) and "first at [" in failure_text(report)


# --------------------------------------------------------------------------- right code, written otherwise

SLIDING_WINDOW = '''
def {function}(images, pool_size=2, strides=None, padding="valid"):
    images, (p_h, p_w), padding = pooling_arguments(images, pool_size, strides, padding)
    s_h, s_w = (p_h, p_w) if strides is None else to_pair(strides, "strides")
    x = images.astype(float)
    if padding == "same":
        pads = []
        for n, p, s in ((x.shape[1], p_h, s_h), (x.shape[2], p_w, s_w)):
            total = max((-(-n // s) - 1) * s + p - n, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(x, (p_h, p_w), axis=(1, 2))  # (N, H', W', C, ph, pw)
    windows = windows[:, ::s_h, ::s_w]
    return np.{reduce}(windows, axis=(-2, -1))
'''

RESHAPE = '''
def {function}(images, pool_size=2, strides=None, padding="valid"):
    images, (p_h, p_w), padding = pooling_arguments(images, pool_size, strides, padding)
    s_h, s_w = (p_h, p_w) if strides is None else to_pair(strides, "strides")
    n, h, w, c = images.shape
    out_h, start_h = pooling_geometry(h, p_h, s_h, padding)
    out_w, start_w = pooling_geometry(w, p_w, s_w, padding)
    need_h, need_w = (out_h - 1) * s_h + p_h, (out_w - 1) * s_w + p_w
    x = np.full((n, need_h, need_w, c), {fill})  # the image, with {fill} beyond its edges
    x[:, -start_h : -start_h + h, -start_w : -start_w + w] = images[:, : need_h + start_h, : need_w + start_w]
    if (s_h, s_w) == (p_h, p_w):
        blocks = x.reshape(n, out_h, p_h, out_w, p_w, c)  # (N, H_out, ph, W_out, pw, C)
        return blocks.{reduce}(axis=(2, 4))
    out = np.full((n, out_h, out_w, c), {fill})
    for u in range(p_h):
        for v in range(p_w):
            shifted = x[:, u : u + s_h * out_h : s_h, v : v + s_w * out_w : s_w]  # (N, H_out, W_out, C)
            out = {combine}
    return out
'''

# Average = (sum of the cells inside) / (number of cells inside), both pooled with zeros outside.
RESHAPE_AVERAGE = RESHAPE.format(function="pooled_sum", fill="0.0", reduce="sum", combine="out + shifted") + '''

def average_pooling2d(images, pool_size=2, strides=None, padding="valid"):
    images = np.asarray(images, dtype=float)
    inside = np.ones(images.shape[:3] + (1,))  # (N, H, W, 1)
    return pooled_sum(images, pool_size, strides, padding) / pooled_sum(inside, pool_size, strides, padding)
'''

ALTERNATIVES = {
    "sliding_window_view": {
        "max_pooling2d": SLIDING_WINDOW.format(function="max_pooling2d", reduce="nanmax"),
        "average_pooling2d": SLIDING_WINDOW.format(function="average_pooling2d", reduce="nanmean"),
        "global_average_pooling2d": '''
def global_average_pooling2d(images):
    images = np.asarray(images)
    return images.sum(axis=(1, 2)) / (images.shape[1] * images.shape[2])
''',
    },
    "reshape_and_offsets": {
        "max_pooling2d": RESHAPE.format(
            function="max_pooling2d", fill="-np.inf", reduce="max", combine="np.maximum(out, shifted)"
        ),
        "average_pooling2d": RESHAPE_AVERAGE,
        "global_average_pooling2d": '''
def global_average_pooling2d(images):
    return np.mean(np.mean(images, axis=1), axis=1)
''',
    },
}


@pytest.mark.parametrize("style", ALTERNATIVES)
def test_correct_alternative_scores_full_marks(tmp_path, style):
    report = check_student(tmp_path, "ex02", ALTERNATIVES[style])
    assert report.problems == []
    assert failure_text(report) == ""
    assert report.score == EX.max_score()


# --------------------------------------------------------------------------- policy and input mutation


def test_pooling_that_calls_a_library_gets_policy_status_for_that_function_only(tmp_path):
    report = check_student(
        tmp_path,
        "ex02",
        {
            "max_pooling2d": '''
def max_pooling2d(images, pool_size=2, strides=None, padding="valid"):
    from scipy.ndimage import maximum_filter
    return maximum_filter(images, size=(1, pool_size, pool_size, 1))[:, ::pool_size, ::pool_size]
''',
            "average_pooling2d": '''
def average_pooling2d(images, pool_size=2, strides=None, padding="valid"):
    import keras
    return keras.ops.convert_to_numpy(keras.layers.AveragePooling2D(pool_size, strides, padding)(images))
''',
        },
    )
    by_function = {f: {r.status for r in report.results if r.function == f} for f in EX.functions}
    assert by_function == {
        "max_pooling2d": {POLICY},
        "average_pooling2d": {POLICY},
        "global_average_pooling2d": {PASSED},
    }
    text = failure_text(report)
    assert "`max_pooling2d` uses scipy.ndimage" in text
    assert "`average_pooling2d` uses keras" in text and "not allowed here" in text
    assert "global_average_pooling2d" not in text
    assert report.score == sum(c.points for c in EX.checks_for(["global_average_pooling2d"]))


def test_pooling_that_writes_into_its_input_is_told_so(tmp_path):
    source = '''
def average_pooling2d(images, pool_size=2, strides=None, padding="valid"):
    images, (p_h, p_w), padding = pooling_arguments(images, pool_size, strides, padding)
    assert strides is None and padding == "valid"
    images /= p_h * p_w  # scales the caller's array
    n, h, w, c = images.shape
    blocks = images[:, : h // p_h * p_h, : w // p_w * p_w].reshape(n, h // p_h, p_h, w // p_w, p_w, c)
    return blocks.sum(axis=(2, 4))
'''
    report = check_student(tmp_path, "ex02", {"average_pooling2d": source}, functions=["average_pooling2d"])
    first = report.results[0]
    assert first.name == "average_pooling2d: 2×2 windows, default strides"
    assert first.status == "failed"
    assert first.output.startswith("`average_pooling2d` modified its `images` argument")


def test_checking_never_imports_tensorflow_or_keras():
    code = (
        "import sys\n"
        "from autograder.runner import check_file\n"
        f"report = check_file('ex02', {str(solution_path('ex02'))!r}, hidden=True)\n"
        "assert report.score == report.max_score, report.score\n"
        "loaded = sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_every_check_fails_on_at_least_one_known_mistake(tmp_path):
    failed = set()
    for number, (function, _, source) in enumerate(CASES):
        folder = tmp_path / str(number)
        folder.mkdir()
        failed |= {r.name for r in failures(check_student(folder, "ex02", {function: source}, functions=[function]))}
    assert failed == {c.name for c in EX.checks}


def test_points_are_the_published_ones():
    """Students and gradebooks see these totals: a change to them is a decision, not an accident."""
    assert (EX.max_score(hidden=False), EX.max_score() - EX.max_score(hidden=False)) == (14, 4)
