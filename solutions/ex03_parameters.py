# %% [markdown]
# # Exercise 3 — Counting parameters
#
# How many numbers does a network learn? You will count them by hand, layer by layer,
# and get exactly what Keras' `model.count_params()` reports, without building the model.
# Along the way you will see why convolutions made deep networks on images possible at all:
# **parameter sharing**.
#
# A network is described here as a list of plain dicts that mirror the arguments of the
# Keras layers:
#
# ```python
# {"type": "conv2d", "filters": 32, "kernel_size": 3}          # keras.layers.Conv2D(32, 3)
# {"type": "max_pooling2d", "pool_size": 2}                    # keras.layers.MaxPooling2D(2)
# {"type": "flatten"}                                          # keras.layers.Flatten()
# {"type": "dense", "units": 10}                               # keras.layers.Dense(10)
# ```
#
# Missing keys take the Keras defaults (`strides=1`, `padding="valid"`, `use_bias=True`;
# for both poolings `pool_size=2`, the default of `MaxPooling2D`, and `strides=None`). Shapes have no batch axis: `(H, W, C)` for an
# image or a stack of feature maps, `(units,)` after `Flatten`.
#
# After each function, run the cell below it: it checks your code and explains what is wrong.

# %%
import math

from autograder.notebook import Feedback

feedback = Feedback("ex03_parameters", globals())

# %% [markdown]
# ## Parameter sharing
#
# A `Conv2D` layer with `F` filters of size `kh × kw` on an input with `C` channels learns
# `F` kernels of shape `(kh, kw, C)` and one bias per filter:
#
# $$\text{params} = k_h \cdot k_w \cdot C \cdot F + F$$
#
# The image size does not appear: the *same* kernel slides over every position. Compare
# with a `Dense` layer, which gives every (input, output) pair its own weight and every
# output unit its own bias:
#
# $$\text{params} = \text{inputs} \cdot \text{units} + \text{units}$$
#
# **AlexNet's first layer** takes a 227×227×3 image and applies 96 filters of 11×11 with
# stride 4, giving 55×55×96 outputs. As a convolution: 11·11·3·96 + 96 = **34,944**
# parameters. A fully connected layer from the same 227·227·3 = 154,587 inputs to the same
# 55·55·96 = 290,400 outputs would need 154,587 · 290,400 + 290,400 ≈ **44.9 billion**:
# about 180 GB of float32 weights for one layer, and every position would have to learn
# each pattern on its own. Sharing the kernel across positions is what makes the
# convolution about a million times smaller, and what lets a pattern learnt in one corner
# be recognised everywhere.
#
# The helpers below are given: `layer_config` checks a layer dict and fills in the Keras
# defaults; `check_input_shape` checks a shape. Both raise a `ValueError` that says what to
# fix.

# %%
def to_pair(value, name):
    """`3` -> `(3, 3)`; `(2, 3)` -> `(2, 3)`. Raises ValueError unless positive ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        pair = value, value
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        pair = int(value[0]), int(value[1])
    else:
        pair = None
    if pair is None or min(pair) < 1:
        raise ValueError(
            f"`{name}` must be a positive int or a pair of positive ints. Received: {name}={value!r}"
        )
    return pair


# For each layer type: its required keys, and its optional keys with their Keras defaults.
LAYER_ARGUMENTS = {
    "conv2d": (("filters", "kernel_size"), {"strides": 1, "padding": "valid", "use_bias": True}),
    "max_pooling2d": ((), {"pool_size": 2, "strides": None, "padding": "valid"}),
    "average_pooling2d": ((), {"pool_size": 2, "strides": None, "padding": "valid"}),
    "flatten": ((), {}),
    "global_average_pooling2d": ((), {}),
    "dense": (("units",), {"use_bias": True}),
    "dropout": (("rate",), {}),
    "batch_normalization": ((), {}),
}
# Accepted by every layer and ignored: they change no shape and no parameter count.
IGNORED_ARGUMENTS = ("name", "activation")


def layer_config(layer):
    """A layer dict checked and completed with the Keras defaults.

    Args:
        layer: e.g. `{"type": "conv2d", "filters": 8, "kernel_size": 3}`.

    Returns:
        A new dict with every argument of the layer type; `kernel_size`, `pool_size` and
        `strides` as pairs `(h, w)` (pooling `strides` stays None when not given); a
        convolution's `padding` as "valid", "same" or a pair `(pad_h, pad_w)` of zeros.

    Raises:
        ValueError: not a dict, unknown type, missing or unknown key, bad value.

    Example:
        >>> layer_config({"type": "max_pooling2d"})
        {'type': 'max_pooling2d', 'pool_size': (2, 2), 'strides': None, 'padding': 'valid'}
    """
    if not isinstance(layer, dict) or "type" not in layer:
        raise ValueError(
            'A layer must be a dict with a "type" key, e.g. {"type": "flatten"}. '
            f"Received: layer={layer!r}"
        )
    kind = layer["type"]
    if kind not in LAYER_ARGUMENTS:
        raise ValueError(
            f"Unknown layer type {kind!r}. Expected one of: {', '.join(LAYER_ARGUMENTS)}. "
            f"Received: layer={layer!r}"
        )
    required, defaults = LAYER_ARGUMENTS[kind]
    for key in required:
        if key not in layer:
            raise ValueError(f"A {kind!r} layer needs the key {key!r}. Received: layer={layer!r}")
    allowed = {"type", *required, *defaults, *IGNORED_ARGUMENTS}
    for key in layer:
        if key not in allowed:
            raise ValueError(
                f"Unrecognized argument {key!r} for a {kind!r} layer. Expected some of: "
                f"{', '.join(sorted(allowed - {'type'}))}. Received: layer={layer!r}"
            )
    config = {"type": kind, **{k: layer[k] for k in required}, **defaults}
    config.update({k: layer[k] for k in defaults if k in layer})
    for key in ("kernel_size", "pool_size"):
        if key in config:
            config[key] = to_pair(config[key], key)
    if config.get("strides") is not None:
        config["strides"] = to_pair(config["strides"], "strides")
    for key in ("filters", "units"):
        if key in config and (isinstance(config[key], bool) or not isinstance(config[key], int) or config[key] < 1):
            raise ValueError(f"`{key}` must be a positive int. Received: {key}={config[key]!r}")
    if "padding" in config:
        config["padding"] = layer_padding(config["padding"], kind)
    if "use_bias" in config and not isinstance(config["use_bias"], bool):
        raise ValueError(f"`use_bias` must be True or False. Received: use_bias={config['use_bias']!r}")
    if kind == "dropout" and not (isinstance(config["rate"], (int, float)) and 0 <= config["rate"] < 1):
        raise ValueError(f"`rate` must be a number in [0, 1). Received: rate={config['rate']!r}")
    return config


def layer_padding(padding, kind):
    """'valid' or 'same'; for a convolution also zeros on each side: an int or `(pad_h, pad_w)`.

    Returns the strings as they are and a number of zeros as a pair `(pad_h, pad_w)`.
    """
    if padding in ("valid", "same"):
        return padding
    if kind == "conv2d":
        pair = (padding, padding) if isinstance(padding, int) else padding
        if (
            isinstance(pair, (tuple, list))
            and len(pair) == 2
            and all(isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in pair)
        ):
            return int(pair[0]), int(pair[1])
        raise ValueError(
            "`padding` must be 'valid', 'same', a non-negative int or a pair of them. "
            f"Received: padding={padding!r}"
        )
    raise ValueError(
        f"`padding` of a {kind!r} layer must be 'valid' or 'same' (Keras pooling adds no "
        f"zeros). Received: padding={padding!r}"
    )


# Layers that need an input of shape (height, width, channels).
SPATIAL_LAYERS = ("conv2d", "max_pooling2d", "average_pooling2d", "global_average_pooling2d")


def check_input_shape(input_shape, kind=None):
    """`input_shape` as a tuple of positive ints; 3 axes for the layers in SPATIAL_LAYERS."""
    if not isinstance(input_shape, (tuple, list)) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in input_shape
    ) or not input_shape:
        raise ValueError(
            "`input_shape` must be a tuple of positive ints without the batch axis, "
            f"e.g. (28, 28, 1). Received: input_shape={input_shape!r}"
        )
    if kind in SPATIAL_LAYERS and len(input_shape) != 3:
        raise ValueError(
            f"A {kind!r} layer needs an input of shape (height, width, channels). "
            f"Received: input_shape={tuple(input_shape)!r}"
        )
    return tuple(input_shape)


# %% [markdown]
# ### 1. `conv2d_params`
#
# The parameters of a `Conv2D` layer: `kh · kw · C · F` weights, plus `F` biases when
# `use_bias=True`. Return a Python `int`.

# %%
def conv2d_params(kernel_size, input_channels, filters, use_bias=True):
    """The number of parameters of `keras.layers.Conv2D(filters, kernel_size, use_bias=use_bias)`.

    Args:
        kernel_size: int or `(kh, kw)`.
        input_channels: `C`, channels of the layer's input.
        filters: `F`.
        use_bias: one bias per filter when True.

    Returns:
        An int: `kh * kw * C * F + (F if use_bias else 0)`.

    Example:
        >>> conv2d_params(11, 3, 96)
        34944
    """
    k_h, k_w = to_pair(kernel_size, "kernel_size")
    ### BEGIN SOLUTION
    weights = k_h * k_w * input_channels * filters  # F kernels of shape (kh, kw, C)
    biases = filters if use_bias else 0  # one per filter, shared by every position
    return int(weights + biases)
    ### END SOLUTION


# %%
feedback.check("conv2d_params")

# %% [markdown]
# ### 2. `dense_params`
#
# The parameters of a `Dense` layer: one weight per (input, unit) pair, plus one bias per
# unit when `use_bias=True`.

# %%
def dense_params(input_units, units, use_bias=True):
    """The number of parameters of `keras.layers.Dense(units, use_bias=use_bias)`.

    Args:
        input_units: size of the input's last axis.
        units: output units.
        use_bias: one bias per unit when True.

    Returns:
        An int: `input_units * units + (units if use_bias else 0)`.

    Example:
        >>> dense_params(784, 10)
        7850
    """
    ### BEGIN SOLUTION
    return int(input_units * units + (units if use_bias else 0))
    ### END SOLUTION


# %%
feedback.check("dense_params")

# %% [markdown]
# With your two functions, the AlexNet comparison from the top of the notebook:

# %%
with feedback.needs("conv2d_params", "dense_params"):
    as_conv = conv2d_params(11, 3, 96)
    as_dense = dense_params(227 * 227 * 3, 55 * 55 * 96)
    print(f"convolution: {as_conv:,} parameters")
    print(f"dense:       {as_dense:,} parameters ({as_dense / as_conv:,.0f} times more)")

# %% [markdown]
# ### 3. `output_shape`
#
# To count the parameters of a whole network you need the shape that reaches each layer
# (a `Dense` layer after `Flatten` has as many inputs as the flattened feature maps).
# Return the output shape of one layer, as a tuple of ints, for the input shape
# `(H, W, C)` or `(units,)`:
#
# * `conv2d`: `(H_out, W_out, filters)` with, along each axis, `(n - k) // s + 1` for
#   `"valid"` and `ceil(n / s)` for `"same"` (exercise 1). `padding` may also be a number of
#   zeros on each side, as in exercise 1: `layer_config` turns an int `p` into the pair
#   `(p, p)`, and `(n + 2 * p - k) // s + 1` windows fit.
# * `max_pooling2d`, `average_pooling2d`: the same formula with the pool size, the channels
#   unchanged. `strides=None` means strides equal to the pool size.
# * `flatten`: one axis with all the values, `(H · W · C,)`.
# * `global_average_pooling2d`: one value per channel, `(C,)`.
# * `dense`: Keras' `Dense` acts on the **last axis** only: `(..., units)`. After `Flatten`
#   that is `(units,)`; on an `(H, W, C)` input it is `(H, W, units)`.
# * `dropout`, `batch_normalization`: the shape does not change.
#
# A "valid" window larger than the input leaves no output: raise a `ValueError`, as Keras does.

# %%
def output_shape(input_shape, layer):
    """The shape a layer outputs, without the batch axis.

    Args:
        input_shape: `(H, W, C)` or `(units,)`.
        layer: a layer dict, e.g. `{"type": "conv2d", "filters": 8, "kernel_size": 3}`.

    Returns:
        A tuple of ints, e.g. `(H_out, W_out, filters)` for a convolution.

    Raises:
        ValueError: a bad layer dict, an input of the wrong rank, or an empty output.

    Example:
        >>> output_shape((28, 28, 1), {"type": "conv2d", "filters": 8, "kernel_size": 5})
        (24, 24, 8)
    """
    config = layer_config(layer)  # a checked copy with every default filled in
    kind = config["type"]
    input_shape = check_input_shape(input_shape, kind)
    ### BEGIN SOLUTION
    if kind in ("conv2d", "max_pooling2d", "average_pooling2d"):
        height, width, channels = input_shape
        if kind == "conv2d":
            (k_h, k_w), channels = config["kernel_size"], config["filters"]
            s_h, s_w = config["strides"]
        else:
            k_h, k_w = config["pool_size"]
            s_h, s_w = config["strides"] or config["pool_size"]  # None: strides = pool size
        padding = config["padding"]  # "valid", "same" or (pad_h, pad_w) zeros per side
        pads = (0, 0) if padding in ("valid", "same") else padding
        sizes = []
        for n, k, s, p in ((height, k_h, s_h, pads[0]), (width, k_w, s_w, pads[1])):
            if padding == "same":
                sizes.append(-(-n // s))  # ceil(n / s)
            else:
                sizes.append((n + 2 * p - k) // s + 1)
        if min(sizes) < 1:
            problem = f"The {kind!r} window does not fit in the input with padding={padding!r}"
            raise ValueError(f"{problem}: the output would be empty. Received: input_shape={input_shape}, layer={layer!r}")
        return (sizes[0], sizes[1], channels)
    if kind == "flatten":
        return (math.prod(input_shape),)
    if kind == "global_average_pooling2d":
        return (input_shape[-1],)
    if kind == "dense":
        return input_shape[:-1] + (config["units"],)  # acts on the last axis
    return input_shape  # dropout, batch_normalization
    ### END SOLUTION


# %%
feedback.check("output_shape")

# %% [markdown]
# ### 4. `count_params`
#
# Walk through the layers, keeping track of the current shape (start from `input_shape`,
# then `shape = output_shape(shape, layer)` after each layer), and add up:
#
# * `conv2d`: `conv2d_params` with the channels of the current shape as input channels;
# * `dense`: `dense_params` with the last axis of the current shape as inputs;
# * `batch_normalization`: `4 · C` for the `C` values of the last axis: a scale γ and an
#   offset β that are trained, and a moving mean and a moving variance that are not
#   trained but are still parameters of the model (Keras counts them, as "non-trainable");
# * pooling, flatten, global pooling, dropout: nothing to learn, 0.

# %%
def count_params(input_shape, layers):
    """The number of parameters of a network, as Keras' `model.count_params()`.

    Args:
        input_shape: the shape of one input, without the batch axis, e.g. `(28, 28, 1)`.
        layers: a list of layer dicts, in order.

    Returns:
        An int: trainable and non-trainable parameters together.

    Example:
        >>> count_params((28, 28, 1), [{"type": "flatten"}, {"type": "dense", "units": 10}])
        7850
    """
    shape = check_input_shape(input_shape)
    ### BEGIN SOLUTION
    total = 0
    for layer in layers:
        args = layer_config(layer)  # the layer's Keras arguments, defaults filled in
        if args["type"] == "conv2d":
            total += conv2d_params(args["kernel_size"], shape[-1], args["filters"], args["use_bias"])
        elif args["type"] == "dense":
            total += dense_params(shape[-1], args["units"], args["use_bias"])
        elif args["type"] == "batch_normalization":
            total += 4 * shape[-1]  # gamma, beta, moving mean, moving variance
        shape = output_shape(shape, layer)  # the next layer's input
    return total
    ### END SOLUTION


# %%
feedback.check("count_params")

# %% [markdown]
# ## VGG16, counted by hand
#
# VGG16 (Simonyan & Zisserman, 2014) is 13 convolutions of 3×3 with "same" padding in five
# blocks, each block ending with a 2×2 max pooling, then three dense layers. Here it is as a
# list of dicts, exactly the layers of `keras.applications.VGG16()`:

# %%
VGG16_LAYERS = [
    {"type": "conv2d", "filters": 64, "kernel_size": 3, "padding": "same", "name": "block1_conv1"},
    {"type": "conv2d", "filters": 64, "kernel_size": 3, "padding": "same", "name": "block1_conv2"},
    {"type": "max_pooling2d", "name": "block1_pool"},
    {"type": "conv2d", "filters": 128, "kernel_size": 3, "padding": "same", "name": "block2_conv1"},
    {"type": "conv2d", "filters": 128, "kernel_size": 3, "padding": "same", "name": "block2_conv2"},
    {"type": "max_pooling2d", "name": "block2_pool"},
    {"type": "conv2d", "filters": 256, "kernel_size": 3, "padding": "same", "name": "block3_conv1"},
    {"type": "conv2d", "filters": 256, "kernel_size": 3, "padding": "same", "name": "block3_conv2"},
    {"type": "conv2d", "filters": 256, "kernel_size": 3, "padding": "same", "name": "block3_conv3"},
    {"type": "max_pooling2d", "name": "block3_pool"},
    {"type": "conv2d", "filters": 512, "kernel_size": 3, "padding": "same", "name": "block4_conv1"},
    {"type": "conv2d", "filters": 512, "kernel_size": 3, "padding": "same", "name": "block4_conv2"},
    {"type": "conv2d", "filters": 512, "kernel_size": 3, "padding": "same", "name": "block4_conv3"},
    {"type": "max_pooling2d", "name": "block4_pool"},
    {"type": "conv2d", "filters": 512, "kernel_size": 3, "padding": "same", "name": "block5_conv1"},
    {"type": "conv2d", "filters": 512, "kernel_size": 3, "padding": "same", "name": "block5_conv2"},
    {"type": "conv2d", "filters": 512, "kernel_size": 3, "padding": "same", "name": "block5_conv3"},
    {"type": "max_pooling2d", "name": "block5_pool"},
    {"type": "flatten", "name": "flatten"},
    {"type": "dense", "units": 4096, "name": "fc1"},
    {"type": "dense", "units": 4096, "name": "fc2"},
    {"type": "dense", "units": 1000, "name": "predictions"},
]


def layer_table(input_shape, layers):
    """A `model.summary()`-like table: each layer's output shape and parameters, and the total."""
    rows = [f"{'layer':<14}{'output shape':>18}{'parameters':>14}", "-" * 46]
    shape = tuple(input_shape)
    rows.append(f"{'input':<14}{str(shape):>18}{0:>14,}")
    for number, layer in enumerate(layers, start=1):
        params = count_params(shape, [layer])  # one layer alone: its own parameters
        shape = output_shape(shape, layer)
        name = layer.get("name", f"{number}. {layer['type']}")
        rows.append(f"{name[:13]:<14}{str(shape):>18}{params:>14,}")
    rows += ["-" * 46, f"{'total':<14}{'':>18}{count_params(input_shape, layers):>14,}"]
    return "\n".join(rows)


# %%
with feedback.needs("output_shape", "count_params"):
    print(layer_table((224, 224, 3), VGG16_LAYERS))

# %% [markdown]
# The total is **138,357,544**. Look at where the parameters are: the 13 convolutions that
# do all the seeing hold about 14.7 million; the first dense layer alone, `fc1`, connects
# the 7·7·512 = 25,088 flattened values to 4,096 units and holds **102.8 million**, three
# quarters of the network. This is why later architectures replace `Flatten` with
# `GlobalAveragePooling2D`: on a 512-value vector, `fc1` costs 2.1 million.
#
# Try it: copy `VGG16_LAYERS`, replace the flatten dict by
# `{"type": "global_average_pooling2d"}` and count again.
#
# ## Check against Keras
#
# The cell below builds Keras' own VGG16 with random weights (no download; it takes a few
# seconds and about 600 MB of memory) and compares the two counts.

# %%
with feedback.needs("count_params"):
    mine = count_params((224, 224, 3), VGG16_LAYERS)  # first, so no large model is built for nothing
    from keras.applications import VGG16

    vgg16 = VGG16(weights=None)
    print(f"keras: {vgg16.count_params():,}   count_params: {mine:,}")

# %% [markdown]
# ## All checks
#
# Run this last: it prints every public check of the exercise and your score.

# %%
feedback.summary()
