"""Checks for ex06_backprop: gradients through conv2d and max pooling, finite differences,
and a kernel learnt by gradient descent.

Fixtures: every axis a different size (N=2, H=7, W=6, C=3, F=4), square kernels (so a
flip or a height/width swap keeps the shape and shows in the values), strides that
differ per axis and strides smaller than the kernel (overlapping windows, so a `=` where
`+=` belongs shows), "same" padding with an odd total (the padded rows must be cut from
the right sides of `d_images`), batch > 1 (so a gradient not summed over the batch
shows), pooling inputs that are random permutations (no ties, never monotone), random
`d_out` (a `d_out` of ones would hide the kernel flip). Oracles: the reference, and
for hidden checks this module's own plain loops and central differences; the slow tests
add TensorFlow's `GradientTape`.

`numerical_gradient` receives a Python function, which cannot travel to an isolated
child: it runs in the probe `numerical_gradient_of` on a function named in
`autograder/probes/ex06_backprop.py`, whose exact gradient is known here.
`fit_kernel` is judged by behaviour: it recovers a known kernel, `steps=0` and
`learning_rate=0` leave its starting kernel as it is, and a few small steps lower the loss.
"""

from __future__ import annotations

import numpy as np

from autograder.checks import CheckFailed, Exercise, as_array, compare_arrays, format_shape, matches, signature
from autograder.geometry import pads, pair, windows
from autograder.probes import probes_for
from autograder.probes.ex06_backprop import FUNCTIONS, function

EXERCISE = Exercise(
    "ex06_backprop",
    "Backpropagation: gradients of conv2d and max pooling, gradient check, learning a kernel",
    ["conv2d_backward", "max_pooling2d_backward", "numerical_gradient", "fit_kernel"],
    numpy_only=["conv2d_backward", "max_pooling2d_backward", "numerical_gradient", "fit_kernel"],
)
EXERCISE.probes.update(probes_for(EXERCISE.name))

NHWC = ("batch", "height", "width", "channels")
KERNEL = ("kernel_h", "kernel_w", "in_channels", "filters")
PARTS = (
    ("d_images", NHWC),
    ("d_kernel", KERNEL),
    ("d_bias", ("filters",)),
)
SOBEL = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])[:, :, None, None]  # (3, 3, 1, 1)


# --------------------------------------------------------------------------- plain implementations
# Deliberately plain loops, independent of the reference; each mutant switches on one mistake.


def _conv(images, kernel, strides=1, padding="valid"):
    """The forward pass, one output position at a time."""
    x = np.asarray(images, dtype=float)
    k = np.asarray(kernel, dtype=float)
    (sh, sw), (kh, kw) = pair(strides), k.shape[:2]
    x = np.pad(x, ((0, 0), pads(x.shape[1], kh, sh, padding, 0), pads(x.shape[2], kw, sw, padding, 1), (0, 0)))
    out = np.zeros((x.shape[0], (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1, k.shape[3]))
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            out[:, i, j, :] = np.tensordot(x[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :], k, axes=3)
    return out


def _conv_shape(images_shape, kernel_shape, strides, padding):
    """`(N, H_out, W_out, F)` of `conv2d`."""
    (n, h, w, _), (kh, kw, _, f), (sh, sw) = images_shape, kernel_shape, pair(strides)
    return (n, (h + sum(pads(h, kh, sh, padding, 0)) - kh) // sh + 1,
            (w + sum(pads(w, kw, sw, padding, 1)) - kw) // sw + 1, f)


def _conv_backward(
    d_out,
    images,
    kernel,
    strides=1,
    padding="valid",
    flip=False,
    transpose=False,
    keep_padding=False,
    cut_from_start=False,
    ignore_stride=False,
    kernel_first_image=False,
    kernel_batch_mean=False,
    bias="sum",
):
    g_all = np.asarray(d_out, dtype=float)
    x = np.asarray(images, dtype=float)
    k = np.asarray(kernel, dtype=float)
    (sh, sw), (kh, kw) = pair(strides), k.shape[:2]
    n, h, w, _ = x.shape
    (top, bottom), (left, right) = pads(h, kh, sh, padding, 0), pads(w, kw, sw, padding, 1)
    x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    k_back = k[::-1, ::-1] if flip else k
    k_back = np.swapaxes(k_back, 0, 1) if transpose else k_back
    d_x = np.zeros_like(x)
    d_k = np.zeros_like(k)
    for i in range(g_all.shape[1]):
        for j in range(g_all.shape[2]):
            r, c = (i, j) if ignore_stride else (i * sh, j * sw)
            g = g_all[:, i, j, :]  # (N, F)
            window = x[:, r : r + kh, c : c + kw, :]  # (N, kh, kw, C)
            d_k += np.tensordot(window[:1] if kernel_first_image else window, g[:1] if kernel_first_image else g,
                                axes=([0], [0]))
            d_x[:, r : r + kh, c : c + kw, :] += np.tensordot(g, k_back, axes=([1], [3]))
    if kernel_batch_mean:
        d_k = d_k / n
    if not keep_padding:
        d_x = d_x[:, :h, :w] if cut_from_start else d_x[:, top : top + h, left : left + w]
    d_b = {
        "sum": lambda: g_all.sum(axis=(0, 1, 2)),
        "per_image": lambda: g_all.sum(axis=(1, 2)),
        "per_position": lambda: g_all.sum(axis=0),
        "mean": lambda: g_all.mean(axis=(0, 1, 2)),
    }[bias]()
    return d_x, d_k, d_b


_CONV_MUTANTS = {
    "kernel_not_flipped": (
        "your `d_images` is the full convolution of `d_out` with the kernel *not* flipped. Each "
        "output scatters `d_out[n, i, j, f] * kernel[u, v, :, f]` onto the window cell `(i s_h + u, "
        "j s_w + v)`: written as a sliding window over `d_out`, that is the kernel flipped 180°.",
        {"flip": True},
    ),
    "kernel_transposed": (
        "your `d_images` uses the kernel with its rows and columns swapped. The kernel is `(kh, kw, "
        "C, F)`: `kernel[u, v]` goes to the window cell `(u, v)`, `u` along the height.",
        {"transpose": True},
    ),
    "padding_not_removed": (
        "your `d_images` still has the padding: it is the gradient of the *padded* images. The zeros "
        "added around the image are not inputs; cut them off (`d_padded[:, top:top + H, left:left + W]`).",
        {"keep_padding": True},
    ),
    "padding_cut_from_start": (
        "you cut the padding off the bottom/right only (`d_padded[:, :H, :W]`). The zeros were added on "
        "both sides: start at `top` and `left` (`d_padded[:, top:top + H, left:left + W]`).",
        {"cut_from_start": True},
    ),
    "stride_ignored": (
        "your backward pass puts output `(i, j)`'s gradient on the window starting at `(i, j)`. With "
        "strides, that window starts at `(i * s_h, j * s_w)` in the padded image, as in the forward pass.",
        {"ignore_stride": True},
    ),
    "kernel_first_image": (
        "your `d_kernel` uses only the first image. The same kernel served every image of the batch: "
        "sum `window * d_out` over the batch too.",
        {"kernel_first_image": True},
    ),
    "kernel_batch_mean": (
        "your `d_kernel` is divided by the batch size. The loss already decides how images are "
        "weighted (it is in `d_out`): sum over the batch, do not average.",
        {"kernel_batch_mean": True},
    ),
    "bias_per_image": (
        "your `d_bias` has one row per image: sum `d_out` over the batch as well, `d_out.sum(axis=(0, 1, 2))`, "
        "since one bias per filter served every image.",
        {"bias": "per_image"},
    ),
    "bias_per_position": (
        "your `d_bias` keeps the output positions: `bias[f]` was added at every position of every image, so "
        "its gradient sums `d_out` over the batch *and* the positions, `d_out.sum(axis=(0, 1, 2))`.",
        {"bias": "per_position"},
    ),
    "bias_mean": (
        "your `d_bias` is the mean of `d_out`; the chain rule gives the sum, `d_out.sum(axis=(0, 1, 2))`.",
        {"bias": "mean"},
    ),
}


def _conv_mutant(flags):
    def impl(d_out, images, kernel, strides=1, padding="valid"):
        return _conv_backward(d_out, images, kernel, strides, padding, **flags)

    return impl


for _name, (_hint, _flags) in _CONV_MUTANTS.items():
    EXERCISE.mutant("conv2d_backward", _hint, name=_name)(_conv_mutant(_flags))


def _pool_backward(
    d_out, images, pool_size=2, strides=None, padding="valid", spread="max", overwrite=False, ignore_stride=False
):
    g = np.asarray(d_out, dtype=float)
    x = np.asarray(images, dtype=float)
    ph, pw = pair(pool_size)
    sh, sw = pair(strides if strides is not None else (ph, pw))
    n, h, w, c = x.shape
    out_h, start_h = windows(h, ph, sh, padding)
    out_w, start_w = windows(w, pw, sw, padding)
    d = np.zeros_like(x)
    for i in range(out_h):
        for j in range(out_w):
            t, l = (i, j) if ignore_stride else (start_h + i * sh, start_w + j * sw)
            t0, l0, t1, l1 = max(t, 0), max(l, 0), min(t + ph, h), min(l + pw, w)
            for b in range(n):
                for ch in range(c):
                    window = x[b, t0:t1, l0:l1, ch]
                    if spread == "every_cell":
                        d[b, t0:t1, l0:l1, ch] += g[b, i, j, ch]
                    elif spread == "average":
                        d[b, t0:t1, l0:l1, ch] += g[b, i, j, ch] / window.size
                    else:
                        r, q = (0, 0) if spread == "top_left" else np.unravel_index(np.argmax(window), window.shape)
                        if overwrite:
                            d[b, t0 + r, l0 + q, ch] = g[b, i, j, ch]
                        else:
                            d[b, t0 + r, l0 + q, ch] += g[b, i, j, ch]
    return d


_POOL_MUTANTS = {
    "every_cell": (
        "your gradient goes to every cell of each window. Only the maximum reached the output; the other "
        "cells did not influence it and get no gradient: add `d_out` at the position of the window's "
        "`argmax` only.",
        {"spread": "every_cell"},
    ),
    "average": (
        "your gradient is spread evenly over each window: that is the gradient of *average* pooling. For "
        "max pooling, all of it goes to the window's maximum.",
        {"spread": "average"},
    ),
    "last_window_only": (
        "where windows overlap, a cell that is the maximum of several windows gets only the last one's "
        "gradient: you assigned (`=`) instead of adding (`+=`). Every window it won contributes.",
        {"overwrite": True},
    ),
    "top_left": (
        "your gradient goes to the top-left cell of each window. It belongs to the cell that holds the "
        "maximum: `np.argmax` over the window, then `np.unravel_index`.",
        {"spread": "top_left"},
    ),
    "stride_ignored": (
        "your windows start at `(i, j)` instead of `(i * s_h, j * s_w)`: the backward pass must visit the "
        "same windows as the forward pass.",
        {"ignore_stride": True},
    ),
}


def _pool_mutant(flags):
    def impl(d_out, images, pool_size=2, strides=None, padding="valid"):
        return _pool_backward(d_out, images, pool_size, strides, padding, **flags)

    return impl


for _name, (_hint, _flags) in _POOL_MUTANTS.items():
    EXERCISE.mutant("max_pooling2d_backward", _hint, name=_name)(_pool_mutant(_flags))


def _differences(f, x, eps=1e-5, kind="central", fixed_eps=None):
    """Finite differences of `f` at `x`, one element at a time (the oracle, and its mutants)."""
    eps = fixed_eps if fixed_eps is not None else eps
    point = np.array(x, dtype=float)
    grad = np.zeros_like(point)
    base = f(point) if kind == "one_sided" else None
    for k in np.ndindex(point.shape):
        old = point[k]
        point[k] = old + eps
        up = f(point)
        point[k] = old - eps
        down = f(point)
        point[k] = old
        grad[k] = {
            "central": lambda: (up - down) / (2 * eps),
            "one_sided": lambda: (up - base) / eps,
            "not_halved": lambda: (up - down) / eps,
        }[kind]()
    return grad


_DIFFERENCE_MUTANTS = {
    "one_sided": (
        "your result equals the one-sided difference `(f(x + eps) - f(x)) / eps`, accurate to `O(eps)` "
        "only. Use the central difference `(f(x + eps) - f(x - eps)) / (2 * eps)`, accurate to `O(eps²)`.",
        {"kind": "one_sided"},
    ),
    "not_halved": (
        "your result is twice the gradient: `f(x + eps) - f(x - eps)` spans `2 * eps`, so divide by `2 * eps`.",
        {"kind": "not_halved"},
    ),
    "ignores_eps": (
        "your result does not follow the `eps` argument (a fixed step?). Nudge each element by `eps` as given.",
        {"fixed_eps": 1e-5},
    ),
}


def _difference_mutant(flags):
    def impl(f, x, eps=1e-5):
        return _differences(f, x, eps, **flags)

    return impl


for _name, (_hint, _flags) in _DIFFERENCE_MUTANTS.items():
    EXERCISE.mutant("numerical_gradient", _hint, name=_name)(_difference_mutant(_flags))

X_NOT_RESTORED = (
    "your `numerical_gradient` changed the caller's `x`. Work on a float copy (`x = np.array(x, "
    "dtype=float)`), or put each element back to its saved value after nudging it."
)


@EXERCISE.mutant("numerical_gradient", X_NOT_RESTORED, name="x_not_restored")
def _x_not_restored(f, x, eps=1e-5):
    grad = np.zeros(np.shape(x))
    for k in np.ndindex(grad.shape):
        x[k] += eps
        up = f(x)
        x[k] -= 2 * eps
        grad[k] = (up - f(x)) / (2 * eps)  # and x[k] stays eps below where it was
    return grad


def _fit(images, targets, kernel_size, steps=200, learning_rate=0.1, seed=0, direction=-1.0, fixed_rate=None,
         sum_loss=False):
    x = np.asarray(images, dtype=float)
    kh, kw = pair(kernel_size)
    kernel = 0.1 * np.random.default_rng(seed).standard_normal((kh, kw, x.shape[3], 1))
    rate = learning_rate if fixed_rate is None else fixed_rate
    with np.errstate(all="ignore"):  # the diverging mutants overflow
        for _ in range(steps):
            error = _conv(x, kernel) - targets
            d_out = 2.0 * error if sum_loss else 2.0 * error / error.size
            kernel = kernel + direction * rate * _conv_backward(d_out, x, kernel)[1]
    return kernel


_FIT_MUTANTS = {
    "uphill": (
        "your steps go uphill: the loss grows. The gradient points to where the loss *increases*; "
        "step the other way, `kernel -= learning_rate * d_kernel`.",
        {"direction": 1.0},
    ),
    "ignores_learning_rate": (
        "your kernel changes with `learning_rate=0` (or does not follow the learning rate): use the "
        "`learning_rate` argument for the step, `kernel -= learning_rate * d_kernel`.",
        {"fixed_rate": 0.1},
    ),
    "sum_not_mean": (
        "your steps are far too large and the kernel diverges: `d_out` must be the gradient of the "
        "*mean* squared error, `2 * (out - targets) / out.size`, not of the sum.",
        {"sum_loss": True},
    ),
}


def _fit_mutant(flags):
    def impl(images, targets, kernel_size, steps=200, learning_rate=0.1, seed=0):
        return _fit(images, targets, kernel_size, steps, learning_rate, seed, **flags)

    return impl


for _name, (_hint, _flags) in _FIT_MUTANTS.items():
    EXERCISE.mutant("fit_kernel", _hint, name=_name)(_fit_mutant(_flags))


# --------------------------------------------------------------------------- conv2d_backward


def _conv_case(ctx, images_shape, kernel_shape, strides=1, padding="valid", expected=None):
    """Compare `(d_images, d_kernel, d_bias)` part by part; a mismatch names the mutant that made it."""
    images = ctx.rng.standard_normal(images_shape)
    kernel = ctx.rng.standard_normal(kernel_shape)
    d_out = ctx.rng.standard_normal(_conv_shape(images_shape, kernel_shape, strides, padding))
    kwargs = {"strides": strides, "padding": padding}
    args = (d_out, images, kernel)
    what = signature("conv2d_backward", args, kwargs, ("d_out", "images", "kernel"))
    got = ctx.call("conv2d_backward", *args, what=what, **kwargs)
    if expected is None:
        expected = ctx.expected("conv2d_backward", *args, **kwargs)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise CheckFailed(
            what,
            f"expected a tuple (d_images, d_kernel, d_bias), got {type(got).__name__}",
            "return the three gradients: `return d_images, d_kernel, d_bias`.",
        )
    for part, (name, axes) in enumerate(PARTS):
        problem = compare_arrays(got[part], expected[part], axes)
        if problem is not None:
            raise CheckFailed(what, f"{name}: {problem}", _diagnose_part(ctx, got[part], part, args, kwargs))


def _diagnose_part(ctx, got, part, args, kwargs):
    """The mutant whose gradient number `part` (0 images, 1 kernel, 2 bias) is the student's."""
    return ctx.diagnose("conv2d_backward", got, args, kwargs, same=lambda got, out: matches(got, out[part]))


@EXERCISE.check("conv2d_backward: valid padding, stride 1, a batch of several channels and filters", points=2)
def _(ctx):
    _conv_case(ctx, (2, 7, 6, 3), (3, 3, 3, 4))


@EXERCISE.check("conv2d_backward: strides differ per axis, windows overlap", points=1)
def _(ctx):
    _conv_case(ctx, (2, 9, 8, 3), (3, 3, 3, 4), strides=(2, 3))


@EXERCISE.check("conv2d_backward: same padding, the padded rows cut from d_images", points=2)
def _(ctx):
    _conv_case(ctx, (2, 7, 6, 3), (4, 4, 3, 5), padding="same")  # odd total padding: extra row bottom/right
    _conv_case(ctx, (2, 7, 6, 3), (3, 3, 3, 4), strides=2, padding="same")


@EXERCISE.check("conv2d_backward: int and tuple zero padding", points=1)
def _(ctx):
    _conv_case(ctx, (2, 7, 6, 3), (3, 3, 3, 4), padding=1)
    _conv_case(ctx, (2, 7, 6, 3), (3, 3, 3, 4), strides=2, padding=(2, 1))


@EXERCISE.check("conv2d_backward: agrees with finite differences of the loss", points=1, hidden=True)
def _(ctx):
    images = ctx.rng.standard_normal((2, 6, 5, 2))
    kernel = ctx.rng.standard_normal((3, 3, 2, 3))
    bias = ctx.rng.standard_normal(3)
    weights = ctx.rng.standard_normal(_conv(images, kernel, 2, "same").shape)

    def loss(x, k, b):  # sum(out * weights): d_out = weights
        return float(np.sum((_conv(x, k, 2, "same") + b) * weights))

    expected = (
        _differences(lambda x: loss(x, kernel, bias), images),
        _differences(lambda k: loss(images, k, bias), kernel),
        _differences(lambda b: loss(images, kernel, b), bias),
    )
    what = "conv2d_backward(strides=2, padding='same') against central differences of sum(conv2d(...) * d_out)"
    got = ctx.call("conv2d_backward", weights, images, kernel, strides=2, padding="same", what=what)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        raise CheckFailed(what, f"expected a tuple (d_images, d_kernel, d_bias), got {type(got).__name__}")
    for part, (name, axes) in enumerate(PARTS):
        problem = compare_arrays(got[part], expected[part], axes, rtol=1e-4, atol=1e-6)
        if problem is not None:
            args = (weights, images, kernel)
            raise CheckFailed(what, f"{name}: {problem}",
                              _diagnose_part(ctx, got[part], part, args, {"strides": 2, "padding": "same"}))


@EXERCISE.check("conv2d_backward: a sweep of shapes, strides and paddings", points=1, hidden=True)
def _(ctx):
    for images_shape, kernel_shape in (((1, 5, 8, 2), (2, 3, 2, 3)), ((3, 6, 4, 1), (3, 1, 1, 2))):
        for strides in (1, 2, (1, 3)):
            for padding in ("valid", "same", 1):
                _conv_case(ctx, images_shape, kernel_shape, strides, padding)


# --------------------------------------------------------------------------- max_pooling2d_backward


def _permutation(ctx, shape):
    """Distinct values in random order (no ties, never monotone), both signs."""
    size = int(np.prod(shape))
    return (ctx.rng.permutation(size) - size // 2).reshape(shape) / 4.0


def _pooled_shape(shape, pool_size=2, strides=None, padding="valid"):
    """`(N, H_out, W_out, C)` of max pooling `shape`."""
    pools = pair(pool_size)
    steps = pair(strides) if strides is not None else pools
    h_w = [windows(n, p, s, padding)[0] for n, p, s in zip(shape[1:3], pools, steps)]
    return (shape[0], *h_w, shape[3])


def _pool_cases(ctx, cases):
    for shape, kwargs in cases:
        images = _permutation(ctx, shape)
        d_out = ctx.rng.standard_normal(_pooled_shape(shape, **kwargs))
        ctx.compare("max_pooling2d_backward", d_out, images, axes=NHWC, **kwargs)


@EXERCISE.check("max_pooling2d_backward: 2×2 windows, default strides", points=1)
def _(ctx):
    _pool_cases(ctx, [((2, 8, 6, 3), {})])


@EXERCISE.check("max_pooling2d_backward: overlapping windows add up", points=2)
def _(ctx):
    _pool_cases(ctx, [((2, 7, 6, 3), {"pool_size": 3, "strides": 1})])


@EXERCISE.check("max_pooling2d_backward: pool size and strides differ per axis", points=1)
def _(ctx):
    _pool_cases(ctx, [((2, 9, 8, 3), {"pool_size": (3, 2), "strides": (2, 1)})])


@EXERCISE.check("max_pooling2d_backward: odd sizes, same padding", points=1)
def _(ctx):
    _pool_cases(ctx, [((2, 7, 5, 3), {"padding": "same"}), ((2, 7, 5, 3), {"pool_size": 3, "strides": 2, "padding": "same"})])


@EXERCISE.check("max_pooling2d_backward: agrees with finite differences of the loss", points=1, hidden=True)
def _(ctx):
    images = _permutation(ctx, (2, 6, 7, 2))
    weights = ctx.rng.standard_normal((2, 4, 5, 2))  # pool 3, strides 1: (6 - 3) + 1, (7 - 3) + 1

    def loss(x):
        out = np.stack([np.stack([x[:, i : i + 3, j : j + 3].max(axis=(1, 2)) for j in range(5)], 1) for i in range(4)], 1)
        return float(np.sum(out * weights))

    ctx.compare(
        "max_pooling2d_backward", weights, images, pool_size=3, strides=1,
        expected=_differences(loss, images, eps=1e-4), axes=NHWC, rtol=1e-4, atol=1e-6,
        what="max_pooling2d_backward(pool_size=3, strides=1) against central differences",
    )


# --------------------------------------------------------------------------- numerical_gradient


def _gradient_case(ctx, name, shape, eps, params, exact=False):
    """Run the student's numerical_gradient on the table's function `name`; compare and diagnose."""
    ctx.require("numerical_gradient")
    x = ctx.rng.standard_normal(shape)
    info = ctx.run_probe("numerical_gradient_of", f_name=name, x=x, eps=eps, params=params)
    what = f"numerical_gradient(f, x {shape}, eps={eps:g}) with f(x) = {name.replace('_', ' ')}"
    ctx.fail_on_error(info, what)
    got = info.get("gradient")
    if got is None:
        raise CheckFailed(what, f"expected an ndarray of shape {shape}, got {info.get('type')}",
                          "return an array shaped like `x`, one derivative per element.")
    f = function(name, params)
    expected = FUNCTIONS[name][1](x, **{k: np.asarray(v, dtype=float) for k, v in params.items()}) if exact else (
        _differences(f, x, eps)
    )
    rtol, atol = (1e-6, 1e-8) if exact else (1e-7, 1e-9)
    problem = compare_arrays(got, expected, None, rtol, atol)
    if problem is not None:
        hint = ctx.diagnose_all("numerical_gradient", [((f, x, eps), {}, got)], skip=("x_not_restored",),
                                same=lambda got, out: matches(got, out, 1e-7, 1e-9))
        if got.shape == expected.shape:  # finite differences differ in late digits: say by how much
            problem += f"\nlargest difference {np.max(np.abs(got - expected)):.2g} (tolerance {rtol:g} relative)"
        raise CheckFailed(what, problem, hint)
    if info.get("x_changed"):
        raise CheckFailed(f"{what} leaves `x` unchanged", "the caller's `x` was changed",
                          ctx.diagnosis("x_not_restored"))


@EXERCISE.check("numerical_gradient: central differences of a smooth function", points=2)
def _(ctx):
    params = {"a": ctx.rng.uniform(0.5, 2.0, (3, 4)), "b": ctx.rng.uniform(-1, 1, (3, 4))}
    _gradient_case(ctx, "weighted_sin", (3, 4), 1e-5, params, exact=True)
    _gradient_case(ctx, "weighted_sin", (3, 4), 1e-3, params)


@EXERCISE.check("numerical_gradient: any shape, and x unchanged afterwards", points=1)
def _(ctx):
    _gradient_case(ctx, "log_sum_exp", (2, 3, 2), 1e-5, {"scale": 1.5})


@EXERCISE.check("numerical_gradient: follows eps", points=1, hidden=True)
def _(ctx):
    _gradient_case(ctx, "log_sum_exp", (5,), 0.05, {"scale": 2.0})
    _gradient_case(ctx, "weighted_sin", (1, 2, 3), 0.01, {"a": np.full((1, 2, 3), 3.0), "b": np.zeros((1, 2, 3))})


# --------------------------------------------------------------------------- fit_kernel


def _fit_data(ctx, shape, true_kernel):
    images = ctx.rng.standard_normal(shape)
    return images, _conv(images, true_kernel)


def _mse(images, kernel, targets):
    return float(np.mean((_conv(images, kernel) - targets) ** 2))


def _fit_call(ctx, images, targets, kernel_size, expected_shape, **kwargs):
    got = ctx.call("fit_kernel", images, targets, kernel_size, **kwargs)
    what = signature("fit_kernel", (images, targets, kernel_size), kwargs, ("images", "targets"))
    arr = as_array(got)
    if arr is None or arr.shape != tuple(expected_shape):
        got_shape = "not an array" if arr is None else format_shape(arr.shape, KERNEL)
        raise CheckFailed(what, f"expected a kernel of shape {format_shape(expected_shape, KERNEL)}, got {got_shape}",
                          "return the kernel, `(kh, kw, C, 1)`.")
    if not np.all(np.isfinite(got)):
        raise CheckFailed(what, "the kernel holds NaN or infinity: gradient descent diverged", ctx.diagnosis("sum_not_mean"))
    return np.asarray(got, dtype=float), what


def _recovers(ctx, shape, true_kernel):
    images, targets = _fit_data(ctx, shape, true_kernel)
    kh, kw = true_kernel.shape[:2]
    start, _ = _fit_call(ctx, images, targets, (kh, kw), true_kernel.shape, steps=0)
    got, what = _fit_call(ctx, images, targets, (kh, kw), true_kernel.shape)
    problem = compare_arrays(got, true_kernel, KERNEL, rtol=0, atol=1e-3)
    if problem is not None:
        hint = ""
        if _mse(images, got, targets) > _mse(images, start, targets):
            hint = ctx.diagnosis("uphill")
        raise CheckFailed(f"{what} recovers the kernel that made the targets (within 1e-3)", problem, hint)


@EXERCISE.check("fit_kernel: recovers a vertical-edge kernel from images and their filtered versions", points=2)
def _(ctx):
    _recovers(ctx, (3, 10, 9, 1), SOBEL)


@EXERCISE.check("fit_kernel: steps=0 and learning_rate=0 keep the starting kernel", points=1)
def _(ctx):
    images, targets = _fit_data(ctx, (2, 8, 7, 1), SOBEL)
    start, _ = _fit_call(ctx, images, targets, 3, (3, 3, 1, 1), steps=0)
    again, what = _fit_call(ctx, images, targets, 3, (3, 3, 1, 1), steps=0)
    if not np.array_equal(again, start):
        raise CheckFailed(
            f"{what} returns the same starting kernel every time",
            "two calls with the same seed started from different kernels",
            "draw the starting kernel from `np.random.default_rng(seed)`, so that `seed` decides it.",
        )
    frozen, what = _fit_call(ctx, images, targets, 3, (3, 3, 1, 1), steps=20, learning_rate=0.0)
    if not np.allclose(frozen, start, rtol=1e-12, atol=1e-12):
        raise CheckFailed(
            f"{what} returns the starting kernel (the one of steps=0)",
            f"the kernel moved by up to {np.max(np.abs(frozen - start)):.4g}",
            ctx.diagnosis("ignores_learning_rate"),
        )


@EXERCISE.check("fit_kernel: small steps go downhill", points=1)
def _(ctx):
    images, targets = _fit_data(ctx, (2, 8, 7, 1), SOBEL)
    start, _ = _fit_call(ctx, images, targets, 3, (3, 3, 1, 1), steps=0)
    losses = [_mse(images, start, targets)]
    for steps in (1, 5):
        kernel, what = _fit_call(ctx, images, targets, 3, (3, 3, 1, 1), steps=steps, learning_rate=0.01)
        losses.append(_mse(images, kernel, targets))
    if not losses[0] > losses[1] > losses[2]:
        raise CheckFailed(
            "fit_kernel(steps=0, 1, 5, learning_rate=0.01): the mean squared error goes down",
            "losses: " + ", ".join(f"{v:.6g}" for v in losses),
            ctx.diagnosis("uphill") if losses[-1] > losses[0] else
            "each step must follow `-d_kernel`, the gradient of the mean squared error.",
        )


@EXERCISE.check("fit_kernel: a non-square kernel over two channels", points=1, hidden=True)
def _(ctx):
    _recovers(ctx, (4, 9, 10, 2), ctx.rng.standard_normal((2, 3, 2, 1)))
