"""Checks for ex03_parameters: parameters of Conv2D and Dense, output shapes, whole networks.

Fixtures: input channels that differ from the filters (so "output instead of input
channels" shows), non-square kernels and images, odd sizes with "same", default pooling
strides, networks whose Flatten follows a "same" convolution and a pooling (so a wrong
shape anywhere changes the count), VGG16 against its published 138,357,544. Counts are
compared exactly (no tolerance) and must be ints; shapes must be tuples of ints.
"""

from __future__ import annotations

import math

from autograder.checks import Exercise
from autograder.geometry import pair

EXERCISE = Exercise(
    "ex03_parameters",
    "Counting parameters: Conv2D vs Dense, output shapes, VGG16 by hand",
    ["conv2d_params", "dense_params", "output_shape", "count_params"],
    numpy_only=["conv2d_params", "dense_params", "output_shape", "count_params"],
)

_DEFAULTS = {
    "conv2d": {"strides": 1, "padding": "valid", "use_bias": True},
    "max_pooling2d": {"pool_size": 2, "strides": None, "padding": "valid"},
    "average_pooling2d": {"pool_size": 2, "strides": None, "padding": "valid"},
    "dense": {"use_bias": True},
}


def _config(layer):
    return {**_DEFAULTS.get(layer["type"], {}), **layer}


# --------------------------------------------------------------------------- mutants
# Deliberately plain versions of the reference; each mutant switches on one mistake.


def _shape(
    input_shape,
    layer,
    same_as_valid=False,
    no_plus_one=False,
    pool_strides_one=False,
    same_floor=False,
    same_ignores_stride=False,
    conv_ignores_strides=False,
    true_division=False,
    conv_keeps_channels=False,
    flatten_no_channels=False,
    gap_keepdims=False,
    dense_flattens=False,
    keep_shape_missing=False,
    zeros_once=False,
    zeros_ignored=False,
):
    c = _config(layer)
    kind = c["type"]
    shape = tuple(input_shape)
    if keep_shape_missing and kind in ("dropout", "batch_normalization"):
        return None
    if kind in ("conv2d", "max_pooling2d", "average_pooling2d"):
        h, w, channels = shape
        if kind == "conv2d":
            k = pair(c["kernel_size"])
            s = (1, 1) if conv_ignores_strides else pair(c["strides"])
            if not conv_keeps_channels:
                channels = c["filters"]
        else:
            k = pair(c["pool_size"])
            strides = c["strides"]
            s = pair(strides if strides is not None else (1 if pool_strides_one else k))
        padding = "valid" if same_as_valid and c["padding"] == "same" else c["padding"]
        zeros = (0, 0) if padding in ("valid", "same") or zeros_ignored else pair(padding)
        sizes = []
        for n, kk, ss, p in zip((h, w), k, s, zeros):
            n += p if zeros_once else 2 * p
            if padding == "same":
                out = n if same_ignores_stride else (n // ss if same_floor else -(-n // ss))
            elif true_division:
                out = (n - kk) / ss + 1
            else:
                out = (n - kk) // ss + (0 if no_plus_one else 1)
            sizes.append(out)
        return (sizes[0], sizes[1], channels)
    if kind == "flatten":
        return (math.prod(shape[:2]),) if flatten_no_channels and len(shape) == 3 else (math.prod(shape),)
    if kind == "global_average_pooling2d":
        return (1, 1, shape[-1]) if gap_keepdims else (shape[-1],)
    if kind == "dense":
        return (c["units"],) if dense_flattens else shape[:-1] + (c["units"],)
    return shape


def _count(
    input_shape,
    layers,
    no_bias=False,
    ignores_use_bias=False,
    pooling_params=False,
    dropout_params=False,
    bn_factor=4,
    input_channels_fixed=False,
    conv_output_channels=False,
    dense_flattens=False,
    **shape_flags,
):
    shape = tuple(input_shape)
    total = 0
    for layer in layers:
        c = _config(layer)
        kind = c["type"]
        bias = not no_bias and (c.get("use_bias", True) or ignores_use_bias)
        if kind == "conv2d":
            k_h, k_w = pair(c["kernel_size"])
            channels = input_shape[-1] if input_channels_fixed else shape[-1]
            if conv_output_channels:
                channels = c["filters"]
            total += k_h * k_w * channels * c["filters"] + (c["filters"] if bias else 0)
        elif kind == "dense":
            inputs = math.prod(shape) if dense_flattens else shape[-1]
            total += inputs * c["units"] + (c["units"] if bias else 0)
        elif kind == "batch_normalization":
            total += bn_factor * shape[-1]
        elif kind in ("max_pooling2d", "average_pooling2d") and pooling_params:
            p_h, p_w = pair(c["pool_size"])
            total += p_h * p_w * shape[-1] * shape[-1] + shape[-1]  # as if it were a convolution
        elif kind == "dropout" and dropout_params:
            total += shape[-1] * shape[-1] + shape[-1]  # as if it were a dense layer
        shape = _shape(shape, layer, dense_flattens=dense_flattens, **shape_flags)
    return total


# -- conv2d_params


def _conv_mutant(name, hint):
    return EXERCISE.mutant("conv2d_params", hint, name=name)


@_conv_mutant("no_bias", "you left out the biases: a Conv2D layer has one bias per filter (when use_bias=True).")
def conv_no_bias(kernel_size, input_channels, filters, use_bias=True):
    k_h, k_w = pair(kernel_size)
    return k_h * k_w * input_channels * filters


@_conv_mutant(
    "output_channels",
    "you used the filters where the input channels go. Each of the `F` kernels is "
    "`(kh, kw, C)` with `C` the channels of the *input*: `kh * kw * C * F + F`.",
)
def conv_output_channels(kernel_size, input_channels, filters, use_bias=True):
    k_h, k_w = pair(kernel_size)
    return k_h * k_w * filters * filters + (filters if use_bias else 0)


@_conv_mutant(
    "bias_per_input_channel",
    "you added one bias per input channel. The bias belongs to the filter (the output "
    "channel): `F` biases, not `C`.",
)
def conv_bias_per_input(kernel_size, input_channels, filters, use_bias=True):
    k_h, k_w = pair(kernel_size)
    return k_h * k_w * input_channels * filters + (input_channels if use_bias else 0)


@_conv_mutant("ignores_use_bias", "with use_bias=False there are no biases: add `F` only when use_bias is True.")
def conv_ignores_use_bias(kernel_size, input_channels, filters, use_bias=True):
    k_h, k_w = pair(kernel_size)
    return k_h * k_w * input_channels * filters + filters


@_conv_mutant(
    "no_input_channels",
    "you left out the input channels. A kernel covers all `C` input channels: it has "
    "`kh * kw * C` weights.",
)
def conv_no_input_channels(kernel_size, input_channels, filters, use_bias=True):
    k_h, k_w = pair(kernel_size)
    return k_h * k_w * filters + (filters if use_bias else 0)


@_conv_mutant(
    "square_kernel",
    "you squared the first kernel size. `kernel_size=(kh, kw)` may be non-square: use `kh * kw`.",
)
def conv_square_kernel(kernel_size, input_channels, filters, use_bias=True):
    k = pair(kernel_size)[0]
    return k * k * input_channels * filters + (filters if use_bias else 0)


@_conv_mutant("one_bias", "you added a single bias. There is one bias per filter: `F` of them.")
def conv_one_bias(kernel_size, input_channels, filters, use_bias=True):
    k_h, k_w = pair(kernel_size)
    return k_h * k_w * input_channels * filters + (1 if use_bias else 0)


# -- dense_params


def _dense_mutant(name, hint):
    return EXERCISE.mutant("dense_params", hint, name=name)


@_dense_mutant("no_bias", "you left out the biases: a Dense layer has one bias per unit (when use_bias=True).")
def dense_no_bias(input_units, units, use_bias=True):
    return input_units * units


@_dense_mutant(
    "bias_per_input",
    "you added one bias per input. The bias belongs to the output unit: `units` biases.",
)
def dense_bias_per_input(input_units, units, use_bias=True):
    return input_units * units + (input_units if use_bias else 0)


@_dense_mutant("ignores_use_bias", "with use_bias=False there are no biases: add `units` only when use_bias is True.")
def dense_ignores_use_bias(input_units, units, use_bias=True):
    return input_units * units + units


@_dense_mutant("one_bias", "you added a single bias. There is one bias per unit: `units` of them.")
def dense_one_bias(input_units, units, use_bias=True):
    return input_units * units + (1 if use_bias else 0)


@_dense_mutant(
    "sum_not_product",
    "you added the inputs and the units. Every input connects to every unit: "
    "`input_units * units` weights.",
)
def dense_sum(input_units, units, use_bias=True):
    return input_units + units + (units if use_bias else 0)


# -- output_shape

_SHAPE_MUTANTS = [
    (
        "same_as_valid",
        "you treated padding='same' like 'valid'. With 'same' the output has `ceil(n / s)` "
        "positions along each axis, whatever the window size.",
        {"same_as_valid": True},
    ),
    (
        "no_plus_one",
        "your 'valid' size misses the `+ 1`: `(n - k) // s + 1` windows fit (a window that "
        "fits exactly once gives one output).",
        {"no_plus_one": True},
    ),
    (
        "pool_strides_one",
        "for pooling with `strides=None` you moved the window by 1. In Keras `strides=None` "
        "means strides equal to `pool_size`.",
        {"pool_strides_one": True},
    ),
    (
        "same_floor",
        "with padding='same' you rounded down (`n // s`). Keras rounds up: `ceil(n / s)`, "
        "i.e. `-(-n // s)`.",
        {"same_floor": True},
    ),
    (
        "same_ignores_stride",
        "with padding='same' you kept the input size. That holds only for stride 1: "
        "in general 'same' gives `ceil(n / s)`.",
        {"same_ignores_stride": True},
    ),
    (
        "conv_ignores_strides",
        "your convolution ignores `strides`: divide the distance the window travels by the "
        "stride, `(n - k) // s + 1`.",
        {"conv_ignores_strides": True},
    ),
    (
        "true_division",
        "you used `/`, which gives floats. Use `//`: a window counts only if it fits completely, "
        "and sizes are ints.",
        {"true_division": True},
    ),
    (
        "conv_keeps_channels",
        "your convolution keeps the input's channels. A Conv2D layer outputs one channel per "
        "filter: `(H_out, W_out, filters)`.",
        {"conv_keeps_channels": True},
    ),
    (
        "flatten_no_channels",
        "your Flatten forgot the channels: it keeps every value, `(H * W * C,)`.",
        {"flatten_no_channels": True},
    ),
    (
        "gap_keepdims",
        "your global average pooling keeps the spatial axes. Keras' GlobalAveragePooling2D "
        "returns one value per channel: `(C,)`.",
        {"gap_keepdims": True},
    ),
    (
        "dense_flattens",
        "your Dense output drops the leading axes. Keras' Dense acts on the last axis only: "
        "on an `(H, W, C)` input it gives `(H, W, units)`.",
        {"dense_flattens": True},
    ),
    (
        "zeros_once",
        "with `padding` a number of zeros you added them on one side only. An int `p` adds `p` "
        "zeros on each side: `(n + 2 * p - k) // s + 1`.",
        {"zeros_once": True},
    ),
    (
        "zeros_ignored",
        "you ignored a `padding` given as a number of zeros, as if it were 'valid'. An int `p` "
        "(or `(pad_h, pad_w)`) adds zeros on each side: `(n + 2 * p - k) // s + 1`.",
        {"zeros_ignored": True},
    ),
    (
        "keep_shape_missing",
        "you returned None for a layer that keeps the shape (dropout, batch normalization). "
        "Every branch must return a shape: for these, the input shape unchanged.",
        {"keep_shape_missing": True},
    ),
]

for _name, _hint, _flags in _SHAPE_MUTANTS:

    def _impl(input_shape, layer, _flags=_flags):
        return _shape(input_shape, layer, **_flags)

    EXERCISE.mutant("output_shape", _hint, name=_name)(_impl)


# -- count_params

_COUNT_MUTANTS = [
    (
        "no_bias",
        "your count has no biases: Conv2D adds one per filter and Dense one per unit.",
        {"no_bias": True},
    ),
    (
        "ignores_use_bias",
        "you counted biases for layers with use_bias=False. Add them only when use_bias is True.",
        {"ignores_use_bias": True},
    ),
    (
        "input_channels_fixed",
        "every convolution used the channels of the network's input. Each layer's input "
        "channels are the previous layer's output channels: track the shape with `output_shape`.",
        {"input_channels_fixed": True},
    ),
    (
        "conv_output_channels",
        "your convolutions count `kh * kw * F * F`: the input channels must be the channels "
        "of the current shape, not the filters.",
        {"conv_output_channels": True},
    ),
    (
        "pooling_params",
        "you counted parameters for pooling layers. Pooling (max or average) has nothing to "
        "learn: 0 parameters.",
        {"pooling_params": True},
    ),
    (
        "dropout_params",
        "you counted parameters for Dropout. Dropout only zeroes values at random while "
        "training: 0 parameters.",
        {"dropout_params": True},
    ),
    (
        "bn_two",
        "you counted 2 parameters per channel for BatchNormalization (γ and β). Keras' "
        "count_params also counts the moving mean and variance: 4 per channel.",
        {"bn_factor": 2},
    ),
    (
        "bn_none",
        "you counted no parameters for BatchNormalization. It has 4 per channel: γ and β "
        "(trained), the moving mean and variance (not trained, but counted).",
        {"bn_factor": 0},
    ),
    (
        "flatten_no_channels",
        "the Dense layer after Flatten has the wrong number of inputs: Flatten keeps every "
        "value, `H * W * C` of them, channels included.",
        {"flatten_no_channels": True},
    ),
    (
        "same_as_valid",
        "the shapes after your 'same' layers are those of 'valid' (see `output_shape`): with "
        "'same' the output has `ceil(n / s)` positions.",
        {"same_as_valid": True},
    ),
    (
        "no_plus_one",
        "the sizes after 'valid' layers miss the `+ 1` (see `output_shape`): `(n - k) // s + 1`.",
        {"no_plus_one": True},
    ),
    (
        "pool_strides_one",
        "the shapes after pooling use strides of 1 when `strides=None` (see `output_shape`): "
        "`strides=None` means strides equal to `pool_size`.",
        {"pool_strides_one": True},
    ),
    (
        "zeros_ignored",
        "the shapes after a convolution with `padding` given as a number of zeros ignore those "
        "zeros (see `output_shape`): an int `p` adds `p` on each side, `(n + 2 * p - k) // s + 1`.",
        {"zeros_ignored": True},
    ),
    (
        "dense_flattens",
        "a Dense layer on an `(H, W, C)` input has `C * units + units` parameters: Keras' "
        "Dense acts on the last axis only (it does not flatten).",
        {"dense_flattens": True},
    ),
]

for _name, _hint, _flags in _COUNT_MUTANTS:

    def _impl(input_shape, layers, _flags=_flags):
        return _count(input_shape, layers, **_flags)

    EXERCISE.mutant("count_params", _hint, name=_name)(_impl)


# --------------------------------------------------------------------------- helpers


def _counts(ctx, function, cases):
    for args in cases:
        ctx.exact(function, *args)


def _shapes(ctx, cases):
    for input_shape, layer in cases:
        ctx.exact("output_shape", input_shape, layer)


def _network(ctx, input_shape, layers, label, expected=None):
    what = f"count_params({input_shape!r}, {label})"
    ctx.exact("count_params", input_shape, layers, what=what, expected=expected)


def conv(filters, kernel_size, **kwargs):
    return {"type": "conv2d", "filters": filters, "kernel_size": kernel_size, **kwargs}


def pool(kind="max", **kwargs):
    return {"type": f"{kind}_pooling2d", **kwargs}


def dense(units, **kwargs):
    return {"type": "dense", "units": units, **kwargs}


FLATTEN = {"type": "flatten"}
GAP = {"type": "global_average_pooling2d"}
BN = {"type": "batch_normalization"}


def dropout(rate):
    return {"type": "dropout", "rate": rate}


def vgg16_layers():
    """The layers of `keras.applications.VGG16()` (include_top=True) as dicts."""
    layers = []
    for filters, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        layers += [conv(filters, 3, padding="same") for _ in range(convs)] + [pool()]
    return layers + [FLATTEN, dense(4096), dense(4096), dense(1000)]


VGG16_PARAMS = 138_357_544  # keras.applications.VGG16(weights=None).count_params()

LENET = [
    conv(6, 5, padding="same"),
    pool("average"),
    conv(16, 5),
    pool("average"),
    FLATTEN,
    dense(120),
    dense(84),
    dense(10),
]


def random_network(rng):
    """A random valid network: (input_shape, layers), every size a Python int."""
    h, w, c = (int(v) for v in rng.integers((9, 9, 1), (33, 33, 5)))
    shape, layers = (h, w, c), []
    for _ in range(int(rng.integers(2, 6))):
        kind = rng.choice(["conv", "conv", "pool", "bn", "dropout"])
        if kind == "conv":
            k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
            layer = conv(
                int(rng.integers(2, 9)),
                k if k[0] != k[1] else k[0],
                strides=int(rng.integers(1, 3)),
                padding=str(rng.choice(["valid", "same"])),
                use_bias=bool(rng.random() < 0.8),
            )
        elif kind == "pool":
            layer = pool(str(rng.choice(["max", "average"])), pool_size=int(rng.integers(2, 4)))
            if rng.random() < 0.5:
                layer["strides"] = int(rng.integers(1, 3))
            if rng.random() < 0.5:
                layer["padding"] = "same"
        elif kind == "bn":
            layer = dict(BN)
        else:
            layer = dropout(0.25)
        new = _shape(shape, layer)
        if min(new[:2]) < 1:
            continue
        layers.append(layer)
        shape = new
    layers.append(FLATTEN if rng.random() < 0.5 else GAP)
    layers += [dense(int(rng.integers(5, 40))), dropout(0.5), dense(int(rng.integers(2, 11)))]
    return (h, w, c), layers


# --------------------------------------------------------------------------- conv2d_params


@EXERCISE.check("conv2d_params: weights plus one bias per filter", points=1)
def _(ctx):
    _counts(ctx, "conv2d_params", [(3, 3, 64), (5, 1, 6), (11, 3, 96)])


@EXERCISE.check("conv2d_params: non-square kernel, with and without bias", points=1)
def _(ctx):
    _counts(ctx, "conv2d_params", [((3, 5), 4, 7), ((3, 5), 4, 7, False), ((1, 2), 6, 3, False)])


@EXERCISE.check("conv2d_params: a sweep of kernels, channels and filters", points=1, hidden=True)
def _(ctx):
    cases = [
        (k, c, f, b)
        for k in (1, 2, (1, 3), (5, 2), 7)
        for c in (1, 3, 16)
        for f in (2, 32)
        for b in (True, False)
    ]
    _counts(ctx, "conv2d_params", cases)


# --------------------------------------------------------------------------- dense_params


@EXERCISE.check("dense_params: weights plus one bias per unit", points=1)
def _(ctx):
    _counts(ctx, "dense_params", [(784, 10), (4096, 1000), (120, 84)])


@EXERCISE.check("dense_params: with and without bias", points=1)
def _(ctx):
    _counts(ctx, "dense_params", [(9216, 4096, False), (10, 3, False), (10, 3, True)])


@EXERCISE.check("dense_params: a sweep of sizes", points=1, hidden=True)
def _(ctx):
    _counts(ctx, "dense_params", [(i, u, b) for i in (1, 7, 512) for u in (1, 3, 100) for b in (True, False)])


# --------------------------------------------------------------------------- output_shape


@EXERCISE.check("output_shape: conv2d, valid and same padding", points=1)
def _(ctx):
    _shapes(
        ctx,
        [
            ((28, 27, 3), conv(6, 5)),
            ((28, 27, 3), conv(6, 5, padding="same")),
            ((28, 27, 3), conv(8, (3, 5))),
        ],
    )


@EXERCISE.check("output_shape: conv2d with strides", points=1)
def _(ctx):
    _shapes(
        ctx,
        [
            ((227, 227, 3), conv(96, 11, strides=4)),
            ((9, 8, 2), conv(5, 3, strides=2)),
            ((9, 8, 2), conv(5, 3, strides=2, padding="same")),
            ((9, 8, 2), conv(5, 3, strides=(2, 3), padding="same")),
            ((9, 8, 2), conv(5, 3, padding=2)),  # zeros on each side, as in exercise 1
            ((9, 8, 2), conv(5, (3, 5), strides=(1, 2), padding=(2, 1))),
        ],
    )


@EXERCISE.check("output_shape: pooling, strides default to the pool size", points=1)
def _(ctx):
    _shapes(
        ctx,
        [
            ((28, 27, 6), pool()),
            ((28, 27, 6), pool("average", pool_size=3)),
            ((28, 27, 6), pool(pool_size=(2, 3))),
        ],
    )


@EXERCISE.check("output_shape: pooling with same padding and strides", points=1)
def _(ctx):
    _shapes(
        ctx,
        [
            ((7, 5, 4), pool(padding="same")),
            ((7, 5, 4), pool("average", pool_size=3, strides=1, padding="same")),
            ((7, 5, 4), pool(pool_size=3, strides=2)),
        ],
    )


@EXERCISE.check("output_shape: flatten, global pooling and dense", points=1)
def _(ctx):
    _shapes(ctx, [((5, 4, 16), FLATTEN), ((5, 4, 16), GAP), ((320,), dense(120)), ((7,), FLATTEN)])


@EXERCISE.check("output_shape: dropout and batch normalization keep the shape", points=1)
def _(ctx):
    _shapes(ctx, [((7, 5, 4), dropout(0.5)), ((7, 5, 4), BN), ((120,), dropout(0.2)), ((84,), BN)])


@EXERCISE.check("output_shape: dense on an image acts on the last axis", points=1)  # stated in the notebook: public
def _(ctx):
    _shapes(ctx, [((7, 5, 4), dense(10)), ((3, 6), dense(2))])


@EXERCISE.check("output_shape: a sweep of convolutions and poolings", points=1, hidden=True)
def _(ctx):
    cases = []
    for shape in ((9, 12, 3), (16, 7, 5)):
        for k in (1, 2, 3, (2, 5)):
            for s in (1, 2, 3, (3, 1)):
                for padding in ("valid", "same"):
                    cases.append((shape, conv(4, k, strides=s, padding=padding)))
                    cases.append((shape, pool(pool_size=k, strides=s, padding=padding)))
            cases.append((shape, pool("average", pool_size=k)))
    _shapes(ctx, cases)


# --------------------------------------------------------------------------- count_params


@EXERCISE.check("count_params: a LeNet-5-style network", points=2)
def _(ctx):
    _network(ctx, (28, 28, 1), LENET, "LeNet-5 layers", expected=61_706)


@EXERCISE.check("count_params: VGG16 has 138,357,544 parameters", points=2)
def _(ctx):
    _network(ctx, (224, 224, 3), vgg16_layers(), "VGG16 layers", expected=VGG16_PARAMS)


@EXERCISE.check("count_params: pooling, flatten and dropout add no parameters", points=1)
def _(ctx):
    layers = [
        conv(8, 3),
        pool(),
        dropout(0.25),
        conv(12, 3, strides=2, padding="same"),
        pool("average", strides=1),
        conv(6, 3, padding=2),  # 2 zeros on each side: the flattened size depends on them
        FLATTEN,
        dropout(0.5),
        dense(10),
    ]
    _network(ctx, (32, 30, 3), layers, "conv, pool, dropout, conv, pool, flatten, dropout, dense")
    _network(ctx, (12, 10, 3), [pool(), dropout(0.5), FLATTEN], "pool, dropout, flatten")


@EXERCISE.check("count_params: batch normalization has 4 parameters per channel", points=1)
def _(ctx):
    layers = [conv(16, 3, use_bias=False), BN, pool(), FLATTEN, dense(32), BN, dense(10)]
    _network(ctx, (14, 13, 3), layers, "conv (no bias), batchnorm, pool, flatten, dense, batchnorm, dense")


@EXERCISE.check("count_params: use_bias=False and a global average pooling head", points=1)
def _(ctx):
    layers = [
        conv(32, (3, 5), padding="same", use_bias=False),
        BN,
        conv(48, 3, strides=2),  # 48 biases: not the 2 * 32 of a half-counted batch norm
        GAP,
        dense(10, use_bias=False),
    ]
    _network(ctx, (20, 24, 3), layers, "conv (no bias), batchnorm, conv, global pooling, dense (no bias)")


@EXERCISE.check("count_params: dense on an image acts on the last axis", points=1)  # stated in the notebook: public
def _(ctx):
    layers = [conv(4, 3, padding="same"), dense(7), BN, FLATTEN, dense(2)]
    _network(ctx, (6, 5, 3), layers, "conv, dense, batchnorm, flatten, dense")


@EXERCISE.check("count_params: random networks", points=1, hidden=True)
def _(ctx):
    for number in range(12):
        input_shape, layers = random_network(ctx.rng)
        _network(ctx, input_shape, layers, f"random network {number + 1}")
    _network(ctx, (5, 4, 3), [], "no layers", expected=0)
