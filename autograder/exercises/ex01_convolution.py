"""Checks for ex01_convolution: output size, zero padding, one step, conv2d.

Fixtures: every axis a different size (N=2, H=7, W=6, C=3, F=4, so an axis mix-up
fails on shape), odd sizes with "same", strides that differ per axis, square
kernels where a flip or transpose would otherwise hide, seeded random values
compared element-wise.
"""

from __future__ import annotations

import numpy as np

from autograder.checks import ERROR, CheckFailed, Exercise
from autograder.geometry import pads, pair

EXERCISE = Exercise(
    "ex01_convolution",
    "Convolution from scratch: output size, zero padding, conv2d",
    ["conv_output_size", "zero_pad", "conv_single_step", "conv2d"],
    numpy_only=["zero_pad", "conv_single_step", "conv2d"],
)

NHWC = ("batch", "height", "width", "channels")
NHWF = ("batch", "out_height", "out_width", "filters")


# --------------------------------------------------------------------------- mutants
# A configurable, deliberately plain implementation; each mutant switches on one mistake.


def _pads(n, k, s, padding, axis, same_extra_first=False, one_side=False):
    before, after = pads(n, k, s, padding, axis)
    if padding == "same" and same_extra_first:
        return after, before
    if padding not in ("valid", "same") and one_side:
        return before, 0
    return before, after


def _conv(
    images,
    kernel,
    bias=None,
    strides=1,
    padding="valid",
    flip=False,
    no_bias=False,
    one_side=False,
    transpose=False,
    first_channel=False,
    start_ignores_stride=False,
    same_extra_first=False,
):
    x = np.asarray(images, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    if flip:
        k = k[::-1, ::-1]
    if transpose:
        k = np.swapaxes(k, 0, 1)
    sh, sw = pair(strides)
    kh, kw = k.shape[:2]
    t, b = _pads(x.shape[1], kh, sh, padding, 0, same_extra_first, one_side)
    l, r = _pads(x.shape[2], kw, sw, padding, 1, same_extra_first, one_side)
    x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    oh = (x.shape[1] - kh) // sh + 1
    ow = (x.shape[2] - kw) // sw + 1
    out = np.zeros((x.shape[0], oh, ow, k.shape[3]))
    for i in range(oh):
        for j in range(ow):
            top, left = (i, j) if start_ignores_stride else (i * sh, j * sw)
            win = x[:, top : top + kh, left : left + kw, :]
            if first_channel:
                out[:, i, j, :] = np.tensordot(win[..., 0], k[:, :, 0, :], axes=2)
            else:
                out[:, i, j, :] = np.tensordot(win, k, axes=3)
    if bias is not None and not no_bias:
        out += bias
    return out


def _mutant(hint, **flags):
    def impl(images, kernel, bias=None, strides=1, padding="valid"):
        return _conv(images, kernel, bias, strides, padding, **flags)

    return impl


_CONV_MUTANTS = {
    "flipped_kernel": (
        "your output equals a true convolution (kernel flipped 180°). CNN layers compute "
        "cross-correlation: slide the kernel as it is, `kernel[u, v]` on `window[u, v]`.",
        {"flip": True},
    ),
    "bias_missing": (
        "your output equals the right answer without the bias. Add `bias[f]` to every "
        "position of filter `f` (when `bias` is not None).",
        {"no_bias": True},
    ),
    "padding_one_side": (
        "you padded only the top and left. An int padding `p` adds `p` zeros on *each* side "
        "(top and bottom, left and right).",
        {"one_side": True},
    ),
    "kernel_transposed": (
        "your output equals the result with the kernel's rows and columns swapped. The "
        "kernel is `(kernel_h, kernel_w, in_channels, filters)`: index it `kernel[u, v]` "
        "with `u` along the height.",
        {"transpose": True},
    ),
    "one_channel": (
        "your output uses only the first input channel. Each filter sums over the window's "
        "height, width *and all input channels*.",
        {"first_channel": True},
    ),
    "start_ignores_stride": (
        "your windows start at `(i, j)` instead of `(i * stride_h, j * stride_w)`: the output "
        "size is right but the window start ignores the stride.",
        {"start_ignores_stride": True},
    ),
    "same_extra_first": (
        "with 'same' padding, you put the odd extra row/column at the top/left. Keras puts "
        "it at the bottom/right: `before = total // 2`, `after = total - before`.",
        {"same_extra_first": True},
    ),
}

for _name, (_hint, _flags) in _CONV_MUTANTS.items():
    EXERCISE.mutant("conv2d", _hint, name=_name)(_mutant(_hint, **_flags))


@EXERCISE.mutant("conv_output_size", "you forgot the `+ 1`: a kernel that fits exactly once gives one output.")
def size_missing_plus_one(input_size, kernel_size, strides=1, padding="valid"):
    p = 0 if padding in ("valid", "same") else padding
    return (input_size + 2 * p - kernel_size) // strides


@EXERCISE.mutant(
    "conv_output_size",
    "you used `/` (true division). Use `//`: a window only counts if it fits completely, "
    "and the result must be an int.",
)
def size_true_division(input_size, kernel_size, strides=1, padding="valid"):
    if padding == "same":
        return input_size / strides
    p = 0 if padding == "valid" else padding
    return (input_size + 2 * p - kernel_size) / strides + 1


@EXERCISE.mutant(
    "conv_output_size",
    "you counted the padding once. `p` zeros go on *both* sides: `n + 2 * p - k`.",
)
def size_padding_once(input_size, kernel_size, strides=1, padding="valid"):
    if padding == "same":
        return -(-input_size // strides)
    p = 0 if padding == "valid" else padding
    return (input_size + p - kernel_size) // strides + 1


@EXERCISE.mutant(
    "conv_output_size",
    "you treated 'same' like 'valid'. With 'same', the output size is `ceil(n / s)` "
    "whatever the kernel size.",
)
def size_same_as_valid(input_size, kernel_size, strides=1, padding="valid"):
    p = 0 if padding in ("valid", "same") else padding
    return (input_size + 2 * p - kernel_size) // strides + 1


@EXERCISE.mutant(
    "conv_output_size",
    "with 'same', you rounded down (`n // s`). Keras rounds up: `ceil(n / s)`, "
    "i.e. `(n + s - 1) // s`.",
)
def size_same_floor(input_size, kernel_size, strides=1, padding="valid"):
    if padding == "same":
        return input_size // strides
    p = 0 if padding == "valid" else padding
    return (input_size + 2 * p - kernel_size) // strides + 1


@EXERCISE.mutant(
    "conv_output_size",
    'with padding="same" the output size is `ceil(n / s)`: the input size divided by the stride, '
    "rounded up. Yours ignores the stride there.",
)
def size_same_ignores_stride(input_size, kernel_size, strides=1, padding="valid"):
    if padding == "same":
        return input_size
    p = 0 if padding == "valid" else padding
    return (input_size + 2 * p - kernel_size) // strides + 1


@EXERCISE.mutant(
    "conv_output_size", "you ignored the stride: divide the distance the kernel travels by `strides`."
)
def size_ignores_stride(input_size, kernel_size, strides=1, padding="valid"):
    if padding == "same":
        return input_size
    p = 0 if padding == "valid" else padding
    return input_size + 2 * p - kernel_size + 1


@EXERCISE.mutant(
    "zero_pad",
    "you padded every axis, batch and channels included. Pad only height and width: "
    "`((0, 0), (p_h, p_h), (p_w, p_w), (0, 0))`.",
)
def pad_all_axes(images, padding):
    p_h, p_w = pair(padding)
    return np.pad(images, ((p_h, p_h), (p_h, p_h), (p_w, p_w), (p_w, p_w)))


@EXERCISE.mutant(
    "zero_pad",
    "your padding is not zeros: the border copies the image's edge values. "
    "Use `np.pad(..., mode='constant')` (its default), which pads with 0.",
)
def pad_edge(images, padding):
    p_h, p_w = pair(padding)
    return np.pad(images, ((0, 0), (p_h, p_h), (p_w, p_w), (0, 0)), mode="edge")


@EXERCISE.mutant(
    "zero_pad",
    "you padded only one side of each axis. `p` zeros go before *and* after.",
)
def pad_one_side(images, padding):
    p_h, p_w = pair(padding)
    return np.pad(images, ((0, 0), (p_h, 0), (p_w, 0), (0, 0)))


@EXERCISE.mutant(
    "zero_pad",
    "you swapped the two paddings: `padding=(pad_h, pad_w)` pads the height (axis 1) by "
    "`pad_h` and the width (axis 2) by `pad_w`.",
)
def pad_swapped(images, padding):
    p_h, p_w = pair(padding)
    return np.pad(images, ((0, 0), (p_w, p_w), (p_h, p_h), (0, 0)))


def _number(bias):
    """`bias` as a 0-d array, whether a float or an array holding one number."""
    return np.asarray(bias, dtype=np.float64).reshape(())


@EXERCISE.mutant("conv_single_step", "you forgot to add the bias.")
def step_no_bias(window, kernel, bias=0.0):
    return float(np.sum(window * kernel))


@EXERCISE.mutant(
    "conv_single_step",
    "with a `bias` of shape (1, 1, 1) your result is an array, not a number. `bias` may be a "
    "float or an array holding one number: return a Python float, e.g. "
    "`float(np.sum(window * kernel) + np.sum(bias))`.",
)
def step_array_bias(window, kernel, bias=0.0):
    return np.sum(window * kernel) + bias


@EXERCISE.mutant(
    "conv_single_step",
    "you took the mean instead of the sum of the products.",
)
def step_mean(window, kernel, bias=0.0):
    return float(np.mean(window * kernel) + _number(bias))


@EXERCISE.mutant(
    "conv_single_step",
    "you summed only the first channel. Sum over height, width and all channels.",
)
def step_one_channel(window, kernel, bias=0.0):
    return float(np.sum(window[..., 0] * kernel[..., 0]) + _number(bias))


@EXERCISE.mutant(
    "conv_single_step",
    "your result equals a dot product with the kernel flipped 180° (true convolution). "
    "Multiply `window[u, v]` by `kernel[u, v]`, unflipped.",
)
def step_flipped(window, kernel, bias=0.0):
    return float(np.sum(window * kernel[::-1, ::-1]) + _number(bias))


# --------------------------------------------------------------------------- helpers


def _sizes(ctx, cases):
    """Compare on every case, then name the mutant that reproduces *all* the student's answers."""
    calls = [((n, k), {"strides": s, "padding": p}) for n, k, s, p in cases]
    ctx.exact_each("conv_output_size", calls, int_hint="use `//` (floor division) and return an int")


# --------------------------------------------------------------------------- checks


@EXERCISE.check("conv_output_size: valid padding, stride 1", points=1)
def _(ctx):
    _sizes(ctx, [(7, 3, 1, "valid"), (28, 5, 1, "valid"), (6, 6, 1, "valid")])


@EXERCISE.check("conv_output_size: strides and zero padding", points=1)
def _(ctx):
    _sizes(ctx, [(7, 3, 2, 1), (227, 11, 4, 0), (8, 3, 3, 2), (32, 5, 1, 2)])


@EXERCISE.check("conv_output_size: same padding rounds up", points=1)
def _(ctx):
    _sizes(ctx, [(7, 3, 1, "same"), (7, 3, 2, "same"), (10, 5, 3, "same"), (224, 3, 2, "same")])


@EXERCISE.check("conv_output_size: a sweep of sizes, strides and paddings", points=1, hidden=True)
def _(ctx):
    cases = [
        (n, k, s, p)
        for n in (5, 9, 16, 31)
        for k in (1, 2, 3, 5)
        for s in (1, 2, 3)
        for p in ("valid", "same", 0, 1, 2)
        if k <= n
    ]
    _sizes(ctx, cases)


@EXERCISE.check("zero_pad: pads height and width only", points=1)
def _(ctx):
    images = ctx.rng.standard_normal((2, 5, 4, 3))
    ctx.compare("zero_pad", images, 2, axes=NHWC)


@EXERCISE.check("zero_pad: different padding for height and width", points=1)
def _(ctx):
    images = ctx.rng.standard_normal((3, 4, 6, 2)) + 1.0  # no zeros inside the image
    ctx.compare("zero_pad", images, (1, 3), axes=NHWC)


@EXERCISE.check("zero_pad: padding 0 and integer images", points=1, hidden=True)
def _(ctx):
    images = ctx.rng.integers(1, 9, size=(1, 3, 5, 2))
    ctx.compare("zero_pad", images, 0, axes=NHWC)
    ctx.compare("zero_pad", images, (0, 2), axes=NHWC)


@EXERCISE.check("conv_single_step: sum over the window, plus bias", points=1)
def _(ctx):
    window = ctx.rng.standard_normal((3, 3, 4))
    kernel = ctx.rng.standard_normal((3, 3, 4))
    for bias, shown in ((0.0, "0.0"), (-1.25, "-1.25"), (np.full((1, 1, 1), 0.75), "array (1, 1, 1)")):
        what = f"conv_single_step(window (3, 3, 4), kernel (3, 3, 4), bias={shown})"
        try:
            got = ctx.compare("conv_single_step", window, kernel, bias, what=what)
        except CheckFailed as failure:
            if failure.status == ERROR and not failure.hint and isinstance(bias, np.ndarray):
                failure.hint = (
                    "`bias` may be an array holding one number, such as shape (1, 1, 1), and "
                    "`float()` takes only a 0-d array. Add it as a number, e.g. "
                    "`float(np.sum(window * kernel) + np.sum(bias))`."
                )
            raise
        if not isinstance(got, float):  # a Python float, or np.float64 (a float subclass)
            raise CheckFailed(
                what,
                f"expected a Python float, got {type(got).__name__}",
                "wrap the result: `float(np.sum(...) + bias)`.",
            )


@EXERCISE.check("conv_single_step: non-square window, bias as a NumPy number", points=1, hidden=True)
def _(ctx):
    window = ctx.rng.standard_normal((2, 5, 3))
    kernel = ctx.rng.standard_normal((2, 5, 3))
    got = ctx.compare("conv_single_step", window, kernel, np.float32(0.5))
    ctx.expect(isinstance(got, float), "conv_single_step returns a Python float", f"got {type(got).__name__}")


@EXERCISE.check("conv2d: valid padding, stride 1", points=2)
def _(ctx):
    images = ctx.rng.standard_normal((2, 7, 6, 3))  # every axis a different size
    kernel = ctx.rng.standard_normal((3, 3, 3, 4))  # square: a flip or transpose would not change the shape
    ctx.compare("conv2d", images, kernel, axes=NHWF)


@EXERCISE.check("conv2d: non-square kernel, bias per filter", points=1)
def _(ctx):
    images = ctx.rng.standard_normal((2, 7, 6, 3))
    kernel = ctx.rng.standard_normal((2, 3, 3, 4))
    bias = ctx.rng.standard_normal(4)
    ctx.compare("conv2d", images, kernel, bias, axes=NHWF)


@EXERCISE.check("conv2d: strides differ per axis", points=1)
def _(ctx):
    images = ctx.rng.standard_normal((2, 9, 8, 3))
    kernel = ctx.rng.standard_normal((3, 3, 3, 4))
    ctx.compare("conv2d", images, kernel, strides=(2, 3), axes=NHWF)


@EXERCISE.check("conv2d: int and tuple zero padding", points=1)
def _(ctx):
    images = ctx.rng.standard_normal((2, 7, 6, 3))
    kernel = ctx.rng.standard_normal((3, 3, 3, 4))
    bias = ctx.rng.standard_normal(4)
    ctx.compare("conv2d", images, kernel, bias, padding=1, axes=NHWF)
    ctx.compare("conv2d", images, kernel, bias, strides=2, padding=(2, 1), axes=NHWF)


@EXERCISE.check("conv2d: odd input, same padding", points=2)
def _(ctx):
    images = ctx.rng.standard_normal((2, 7, 6, 3))
    kernel = ctx.rng.standard_normal((4, 4, 3, 5))  # even kernel: the padding is odd, extra goes bottom/right
    bias = ctx.rng.standard_normal(5)
    ctx.compare("conv2d", images, kernel, bias, padding="same", axes=NHWF)
    ctx.compare("conv2d", images, kernel[:3, :3], bias, strides=2, padding="same", axes=NHWF)


@EXERCISE.check("conv2d: impulse response is the kernel rotated 180°", points=1, hidden=True)
def _(ctx):
    kernel = ctx.rng.standard_normal((3, 2, 1, 2))
    impulse = np.zeros((1, 5, 4, 1))
    impulse[0, 2, 2, 0] = 1.0
    # out[i, j] = kernel[4 - i, 4 - j]: the kernel rotated 180° around the impulse (independent oracle)
    expected = np.zeros((1, 7, 7, 2))
    expected[0, 2:5, 3:5, :] = kernel[::-1, ::-1, 0, :]
    ctx.compare("conv2d", impulse, kernel, padding=2, expected=expected, axes=NHWF)


@EXERCISE.check("conv2d: linear in the images", points=1, hidden=True)
def _(ctx):
    a = ctx.rng.standard_normal((1, 6, 5, 2))
    b = ctx.rng.standard_normal((1, 6, 5, 2))
    kernel = ctx.rng.standard_normal((3, 3, 2, 3))
    fa = np.asarray(ctx.call("conv2d", a, kernel, padding="same"), dtype=float)
    fb = np.asarray(ctx.call("conv2d", b, kernel, padding="same"), dtype=float)
    fab = np.asarray(ctx.call("conv2d", 2 * a - b, kernel, padding="same"), dtype=float)
    ctx.expect(
        fab.shape == fa.shape and np.allclose(fab, 2 * fa - fb),
        "conv2d(2a - b) == 2 conv2d(a) - conv2d(b)",
        "conv2d without bias must be linear in its input",
        "no activation, clipping or normalisation inside conv2d.",
    )
    ctx.compare("conv2d", a, kernel, padding="same", axes=NHWF)
