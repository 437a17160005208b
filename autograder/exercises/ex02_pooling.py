"""Checks for ex02_pooling: max, average and global average pooling.

Fixtures: every axis a different size (so an axis mix-up fails on shape), values that
are a random permutation (a monotone map would let "take the bottom-right cell" pass
max pooling) with both signs (so a "same" max pooling that pads with zeros shows),
overlapping windows, odd sizes with "same" (the border windows are partial, and the odd
extra cell goes bottom/right), pool sizes and strides that differ per axis, integer
maps. Outputs are compared element-wise.
"""

from __future__ import annotations

import numpy as np

from autograder.checks import Exercise
from autograder.geometry import pair, same_padding, windows

EXERCISE = Exercise(
    "ex02_pooling",
    "Pooling from scratch: max, average and global average pooling",
    ["max_pooling2d", "average_pooling2d", "global_average_pooling2d"],
    numpy_only=["max_pooling2d", "average_pooling2d", "global_average_pooling2d"],
)

NHWC = ("batch", "out_height", "out_width", "channels")
NC = ("batch", "channels")


# --------------------------------------------------------------------------- mutants
# A configurable, deliberately plain pooling; each mutant switches on one mistake.


def _geometry(n, p, s, padding, extra_first=False):
    """(n_out, start of the first window) along one axis."""
    out, start = windows(n, p, s, padding)
    if padding == "same" and extra_first:
        return out, -same_padding(n, p, s)[1]
    return out, start


_REDUCE = {
    "max": lambda w: w.max(axis=(1, 2)),
    "mean": lambda w: w.mean(axis=(1, 2)),
    "sum": lambda w: w.sum(axis=(1, 2)),
    "floor_mean": lambda w: w.sum(axis=(1, 2)) // (w.shape[1] * w.shape[2]),
    "top_left": lambda w: w[:, 0, 0, :],
    "bottom_right": lambda w: w[:, -1, -1, :],
    "max_channels": lambda w: np.broadcast_to(w.max(axis=(1, 2, 3))[:, None], w.shape[::3]),
    "mean_channels": lambda w: np.broadcast_to(w.mean(axis=(1, 2, 3))[:, None], w.shape[::3]),
}


def _pool(
    images,
    pool_size=2,
    strides=None,
    padding="valid",
    reduce="max",
    strides_none_is_one=False,
    same_as_valid=False,
    pad_zeros=False,
    extra_first=False,
    start_ignores_stride=False,
    pool_swapped=False,
    strides_swapped=False,
):
    x = np.asarray(images)
    p_h, p_w = pair(pool_size)
    if pool_swapped:
        p_h, p_w = p_w, p_h
    if strides is None:
        strides = 1 if strides_none_is_one else (p_h, p_w)
    s_h, s_w = pair(strides)
    if strides_swapped:
        s_h, s_w = s_w, s_h
    if same_as_valid:
        padding = "valid"
    n, h, w, c = x.shape
    out_h, start_h = _geometry(h, p_h, s_h, padding, extra_first)
    out_w, start_w = _geometry(w, p_w, s_w, padding, extra_first)
    if pad_zeros:  # the border windows see zeros instead of stopping at the edge
        x = np.pad(x, ((0, 0), (-start_h, p_h), (-start_w, p_w), (0, 0)))
        start_h = start_w = 0
        h, w = x.shape[1:3]
    out = np.zeros((n, out_h, out_w, c))
    for i in range(out_h):
        top = i if start_ignores_stride else start_h + i * s_h
        for j in range(out_w):
            left = j if start_ignores_stride else start_w + j * s_w
            window = x[:, max(top, 0) : min(top + p_h, h), max(left, 0) : min(left + p_w, w), :]
            out[:, i, j, :] = _REDUCE[reduce](window)
    return out


def _register(function, name, hint, **flags):
    def impl(images, pool_size=2, strides=None, padding="valid"):
        return _pool(images, pool_size, strides, padding, **flags)

    EXERCISE.mutant(function, hint, name=name)(impl)


_POOL_MUTANTS = [
    # (name, hint, flags); `{op}` is "maximum" or "mean", `{np_op}` the NumPy method.
    (
        "top_left",
        "your output equals the top-left cell of each window. Pooling looks at every cell "
        "of the window: reduce over the window's height and width (`window.{np_op}(axis=(1, 2))`).",
        {"reduce": "top_left"},
    ),
    (
        "bottom_right",
        "your output equals the bottom-right cell of each window (a monotone test map "
        "would hide this). Take the {op} over all the window's cells: "
        "`window.{np_op}(axis=(1, 2))`.",
        {"reduce": "bottom_right"},
    ),
    (
        "across_channels",
        "your output is the same for every channel: you reduced over the channels too. "
        "Each channel (feature map) is pooled on its own: reduce over axes (1, 2) only, "
        "giving `(N, C)` per window.",
        {"reduce": "{np_op}_channels"},
    ),
    (
        "strides_none_is_one",
        "your windows move by 1 when `strides=None`. In Keras `strides=None` means "
        "strides equal to `pool_size`: non-overlapping windows.",
        {"strides_none_is_one": True},
    ),
    (
        "same_as_valid",
        "with padding='same' you returned the 'valid' result. 'same' keeps `ceil(H / s)` "
        "outputs: the border windows hang over the edge and use the cells inside the image.",
        {"same_as_valid": True},
    ),
    (
        "extra_first",
        "with padding='same', your border windows hang over the top/left by the odd extra "
        "cell. Keras puts the extra one at the bottom/right: the first window starts at "
        "`-(total // 2)`.",
        {"extra_first": True},
    ),
    (
        "start_ignores_stride",
        "your windows start at `(i, j)` instead of `(i * stride_h, j * stride_w)`: the output "
        "size is right but the window start ignores the stride.",
        {"start_ignores_stride": True},
    ),
    (
        "pool_swapped",
        "your windows are `pool_w` high and `pool_h` wide: `pool_size=(ph, pw)` is (height, width).",
        {"pool_swapped": True},
    ),
    (
        "strides_swapped",
        "you swapped the strides: `strides=(sh, sw)` moves the window `sh` rows down and "
        "`sw` columns right.",
        {"strides_swapped": True},
    ),
]

_SWAPPED = {
    "max_pooling2d": (
        "mean",
        "your output equals average pooling. Max pooling keeps the largest value of each "
        "window: `window.max(axis=(1, 2))`.",
    ),
    "average_pooling2d": (
        "max",
        "your output equals max pooling. Average pooling takes the mean of each window: "
        "`window.mean(axis=(1, 2))`.",
    ),
}

for _function, _op, _np_op in (
    ("max_pooling2d", "maximum", "max"),
    ("average_pooling2d", "mean", "mean"),
):
    _other, _hint = _SWAPPED[_function]
    _register(_function, "max_avg_swapped", _hint, reduce=_other)
    for _name, _hint, _flags in _POOL_MUTANTS:
        _flags = {"reduce": _np_op, **_flags}
        _flags = {k: (v.format(np_op=_np_op) if isinstance(v, str) else v) for k, v in _flags.items()}
        _register(_function, _name, _hint.format(op=_op, np_op=_np_op), **_flags)

_register(
    "max_pooling2d",
    "same_pads_zeros",
    "with padding='same', your border windows include zeros beyond the edge, so a window "
    "of negative values gives 0. Keras takes the maximum over the cells inside the image "
    "only (clip the window to the image, or pad with -inf).",
    reduce="max",
    pad_zeros=True,
)
_register(
    "average_pooling2d",
    "same_counts_padding",
    "with padding='same', you divided the border windows by the full `ph * pw`, counting "
    "the cells outside the image as zeros. Keras averages over the cells inside the image "
    "only: divide by how many there are.",
    reduce="mean",
    pad_zeros=True,
)
_register(
    "average_pooling2d",
    "sum_not_mean",
    "your output is the sum of each window. Divide by the number of cells: take the mean.",
    reduce="sum",
)
_register(
    "average_pooling2d",
    "floor_division",
    "your averages are rounded down: `//` on integer maps is floor division. Use `/` or "
    "`np.mean`, which return floats.",
    reduce="floor_mean",
)


def _gap_mutant(name, hint):
    return EXERCISE.mutant("global_average_pooling2d", hint, name=name)


@_gap_mutant("keepdims", "your output is `(N, 1, 1, C)`. GlobalAveragePooling2D drops the spatial axes: `(N, C)`.")
def gap_keepdims(images):
    return np.mean(images, axis=(1, 2), keepdims=True)


@_gap_mutant(
    "channels_and_width",
    "you averaged over width and channels (axes 2 and 3). Average over height and width, "
    "axes (1, 2), to keep one value per image and channel.",
)
def gap_axes_23(images):
    return np.mean(images, axis=(2, 3))


@_gap_mutant(
    "batch_and_height",
    "you averaged over the batch and the height (axes 0 and 1). Images are `(N, H, W, C)`: "
    "average over height and width, axes (1, 2).",
)
def gap_axes_01(images):
    return np.mean(images, axis=(0, 1))


@_gap_mutant(
    "all_but_batch",
    "you averaged over the channels as well, leaving one number per image. Keep the "
    "channels: average over axes (1, 2) only.",
)
def gap_axes_123(images):
    return np.mean(images, axis=(1, 2, 3))


@_gap_mutant(
    "whole_batch",
    "you averaged over the batch too, leaving one value per channel. Each image keeps its "
    "own result: average over axes (1, 2) only.",
)
def gap_axes_012(images):
    return np.mean(images, axis=(0, 1, 2))


@_gap_mutant("global_max", "your output is the global maximum. Global *average* pooling takes the mean.")
def gap_max(images):
    return np.max(images, axis=(1, 2))


@_gap_mutant("global_sum", "your output is the sum of each map. Divide by `H * W`: take the mean.")
def gap_sum(images):
    return np.sum(images, axis=(1, 2))


@_gap_mutant(
    "floor_division",
    "your averages are rounded down: `//` on integer maps is floor division. Use `/` or `np.mean`.",
)
def gap_floor(images):
    return np.sum(images, axis=(1, 2)) // (images.shape[1] * images.shape[2])


# --------------------------------------------------------------------------- fixtures


def _maps(ctx, shape, integer=False, negative=False):
    """A random permutation of distinct values with both signs (or all negative), never monotone."""
    size = int(np.prod(shape))
    values = ctx.rng.permutation(size) - size // 2  # distinct, about half negative
    if negative:
        values = values - size
    return values.reshape(shape) if integer else values.reshape(shape) / 4.0


def _pool_cases(ctx, function, cases):
    for shape, kwargs in cases:
        images = _maps(ctx, shape)
        ctx.compare(function, images, axes=NHWC, **kwargs)


def _sweep(ctx, function):
    cases = []
    for shape in ((1, 5, 7, 2), (2, 6, 9, 3), (3, 11, 4, 2)):
        for pool in (1, 2, 3, (2, 3), (3, 1)):
            for strides in (None, 1, 2, (1, 3), (3, 2)):
                for padding in ("valid", "same"):
                    p_h, p_w = pair(pool)
                    if padding == "valid" and (p_h > shape[1] or p_w > shape[2]):
                        continue
                    cases.append((shape, {"pool_size": pool, "strides": strides, "padding": padding}))
    _pool_cases(ctx, function, cases)


# --------------------------------------------------------------------------- max_pooling2d


@EXERCISE.check("max_pooling2d: 2×2 windows, default strides", points=2)
def _(ctx):
    _pool_cases(ctx, "max_pooling2d", [((2, 8, 6, 3), {})])


@EXERCISE.check("max_pooling2d: overlapping windows, strides 1", points=1)
def _(ctx):
    _pool_cases(ctx, "max_pooling2d", [((2, 7, 6, 3), {"pool_size": 3, "strides": 1})])


@EXERCISE.check("max_pooling2d: pool size and strides differ per axis", points=1)
def _(ctx):
    _pool_cases(
        ctx,
        "max_pooling2d",
        [
            ((2, 9, 8, 3), {"pool_size": (2, 3)}),
            ((2, 9, 8, 3), {"pool_size": (3, 2), "strides": (2, 1)}),
        ],
    )


@EXERCISE.check("max_pooling2d: odd sizes, same padding", points=2)
def _(ctx):
    _pool_cases(
        ctx,
        "max_pooling2d",
        [
            ((2, 7, 5, 3), {"padding": "same"}),
            ((2, 7, 5, 3), {"pool_size": (2, 3), "strides": 1, "padding": "same"}),
            ((2, 7, 5, 3), {"pool_size": 3, "strides": 2, "padding": "same"}),
        ],
    )


@EXERCISE.check("max_pooling2d: negative integer maps, same padding", points=1, hidden=True)
def _(ctx):
    images = _maps(ctx, (2, 5, 7, 3), integer=True, negative=True)
    ctx.compare("max_pooling2d", images, padding="same", axes=NHWC)
    ctx.compare("max_pooling2d", images, pool_size=3, strides=2, padding="same", axes=NHWC)


@EXERCISE.check("max_pooling2d: a sweep of shapes, pool sizes, strides and paddings", points=1, hidden=True)
def _(ctx):
    _sweep(ctx, "max_pooling2d")


# --------------------------------------------------------------------------- average_pooling2d


@EXERCISE.check("average_pooling2d: 2×2 windows, default strides", points=2)
def _(ctx):
    _pool_cases(ctx, "average_pooling2d", [((2, 8, 6, 3), {})])


@EXERCISE.check("average_pooling2d: overlapping windows, strides 1", points=1)
def _(ctx):
    _pool_cases(ctx, "average_pooling2d", [((2, 7, 6, 3), {"pool_size": 3, "strides": 1})])


@EXERCISE.check("average_pooling2d: pool size and strides differ per axis", points=1)
def _(ctx):
    _pool_cases(
        ctx,
        "average_pooling2d",
        [
            ((2, 9, 8, 3), {"pool_size": (2, 3)}),
            ((2, 9, 8, 3), {"pool_size": (3, 2), "strides": (2, 1)}),
        ],
    )


@EXERCISE.check("average_pooling2d: same padding averages the cells inside the image", points=2)
def _(ctx):
    _pool_cases(
        ctx,
        "average_pooling2d",
        [
            ((2, 7, 5, 3), {"padding": "same"}),
            ((2, 7, 5, 3), {"pool_size": (2, 3), "strides": 1, "padding": "same"}),
            ((2, 7, 5, 3), {"pool_size": 3, "strides": 2, "padding": "same"}),
        ],
    )


@EXERCISE.check("average_pooling2d: integer maps give exact averages", points=1)  # stated in the notebook: public
def _(ctx):
    images = _maps(ctx, (2, 6, 5, 3), integer=True)
    ctx.compare("average_pooling2d", images, axes=NHWC)
    ctx.compare("average_pooling2d", images, pool_size=3, strides=1, padding="same", axes=NHWC)


@EXERCISE.check("average_pooling2d: a sweep of shapes, pool sizes, strides and paddings", points=1, hidden=True)
def _(ctx):
    _sweep(ctx, "average_pooling2d")


# --------------------------------------------------------------------------- global_average_pooling2d


@EXERCISE.check("global_average_pooling2d: one mean per image and channel", points=1)
def _(ctx):
    ctx.compare("global_average_pooling2d", _maps(ctx, (2, 7, 5, 3)), axes=NC)


@EXERCISE.check("global_average_pooling2d: integer maps, one image", points=1, hidden=True)
def _(ctx):
    ctx.compare("global_average_pooling2d", _maps(ctx, (1, 4, 6, 5), integer=True), axes=NC)
    ctx.compare("global_average_pooling2d", _maps(ctx, (3, 1, 1, 2), integer=True), axes=NC)
