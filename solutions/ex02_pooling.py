# %% [markdown]
# # Exercise 2 — Pooling, from scratch
#
# A convolution produces *feature maps*: for every position, how strongly a pattern is
# present there. A **pooling** layer then summarises each small neighbourhood of a feature
# map by one number. You will write the three pooling layers every CNN uses, in NumPy,
# computing exactly what Keras computes:
#
# * `max_pooling2d` — the largest value of each window (`keras.layers.MaxPooling2D`),
# * `average_pooling2d` — the mean of each window (`keras.layers.AveragePooling2D`),
# * `global_average_pooling2d` — the mean of each whole feature map
#   (`keras.layers.GlobalAveragePooling2D`).
#
# **Shapes.** Channels last, as in exercise 1:
#
# | symbol | meaning |
# |---|---|
# | `N` | batch (number of images) |
# | `H`, `W` | height and width of a feature map |
# | `C` | channels (feature maps); pooling never mixes them |
# | `ph`, `pw` | pool (window) height and width |
# | `sh`, `sw` | strides: how far the window moves between outputs |
#
# After each function, run the cell below it: it checks your code and explains what is wrong.

# %%
import numpy as np
from autograder.notebook import Feedback

feedback = Feedback("ex02_pooling", globals())

# %% [markdown]
# ## Why pool?
#
# **It shrinks the maps.** A 2×2 max pooling with stride 2 keeps one value out of four:
# the next convolution has four times fewer positions to visit, and each of its 3×3
# kernels now *sees* a 6×6 patch of the layer before. Stacking convolutions and poolings
# is how a CNN goes from edges (small patches) to objects (large ones) at a reasonable
# cost. Pooling has no weights: it adds no parameters (exercise 3 counts them).
#
# **It forgives small shifts.** Max pooling reports *that* a pattern occurs somewhere in
# the window, not exactly where. Move the pattern by one pixel inside the same window and
# the pooled value does not change. This gives a CNN a little **translation invariance**:
# a little, because a shift that crosses a window border does change the output. Deeper
# layers pool again and again, and the invariance grows.
#
# **Max or average?** Max pooling keeps the strongest answer of a detector ("is there an
# edge here?"); it is the usual choice between convolutions. Average pooling smooths.
# *Global* average pooling turns each whole feature map into one number, the mean answer
# of that detector over the image: a network ending with it accepts images of any size
# and needs no huge dense layer on top of a `Flatten`.
#
# ## Windows, strides and padding
#
# A window of `kh × kw` cells (the pool size, `k` along one axis) moves by `sh` rows and
# `sw` columns at a time (`s` along one axis). Careful: in exercise 1, `p` was the padding;
# here nothing is padded with zeros, and `k` is the window. Keras' default
# is `strides=None`, which means **strides equal to the pool size**: windows that tile the
# map without overlapping. With `strides=1` and `pool_size=3` they overlap.
#
# The number of outputs along an axis is the one of exercise 1:
#
# * `padding="valid"`: only windows that fit completely, `n_out = (n - k) // s + 1`.
# * `padding="same"`: `n_out = ceil(n / s)`. The windows at the border hang over the edge
#   by `max((n_out - 1) * s + k - n, 0)` cells in total, split as for a convolution (the
#   odd one at the bottom / right). Keras does not pretend there are zeros there: the
#   maximum and the mean are taken **over the cells inside the image only**. A 2×2 window
#   that has only 2 cells inside the image is averaged over those 2.
#
# Keras pooling layers accept only "valid" and "same" (no number of zeros).
#
# The helpers below are given: `pooling_geometry` computes `n_out` and where the first
# window starts (a negative start means the window hangs over the top / left edge).

# %%
def to_pair(value, name):
    """`3` -> `(3, 3)`; `(2, 3)` -> `(2, 3)`. Raises ValueError unless positive ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = int(value), int(value)
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        pair = int(value[0]), int(value[1])
    else:
        pair = None
    if pair is None or min(pair) < 1:
        raise ValueError(
            f"`{name}` must be a positive int or a pair of positive ints. Received: {name}={value!r}"
        )
    return pair


def pooling_arguments(images, pool_size, strides, padding):
    """Validate the arguments of a pooling layer.

    Returns:
        `(images, (ph, pw), padding)` with `images` an ndarray `(N, H, W, C)`. `strides` is
        only validated: turning `None` into the pool size is your job.
    """
    images = np.asarray(images)
    if images.ndim != 4 or not (np.issubdtype(images.dtype, np.number)):
        raise ValueError(
            "Expected a batch of feature maps of shape (N, H, W, C) holding numbers. "
            f"Received: images.shape={images.shape}, images.dtype={images.dtype}"
        )
    pool = to_pair(pool_size, "pool_size")
    if strides is not None:
        to_pair(strides, "strides")
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(
            "`padding` of a pooling layer must be 'valid' or 'same' (Keras pooling has no "
            f"number of zeros). Received: padding={padding!r}"
        )
    padding = padding.lower()
    for axis, n, p in (("height", images.shape[1], pool[0]), ("width", images.shape[2], pool[1])):
        if padding == "valid" and p > n:
            raise ValueError(
                f"With padding='valid' the pool must fit in the image: its {axis} is {n}, "
                f"smaller than the pool. Use padding='same' or a smaller pool. "
                f"Received: images.shape={images.shape}, pool_size={pool_size!r}"
            )
    return images, pool, padding


def pooling_geometry(input_size, pool_size, strides, padding):
    """Output size along one axis, and where the first window starts.

    Args:
        input_size: `n`, cells along the axis.
        pool_size: `k`, the window along the axis.
        strides: `s`.
        padding: "valid" or "same".

    Returns:
        `(n_out, start)`: window `i` covers cells `start + i * s` to `start + i * s + k - 1`
        (some of them outside the image when `start < 0` or at the far end with "same").

    Example:
        >>> pooling_geometry(7, 2, 2, "same")
        (4, 0)
        >>> pooling_geometry(6, 3, 2, "same")
        (3, 0)
    """
    if padding == "valid":
        return (input_size - pool_size) // strides + 1, 0
    n_out = -(-input_size // strides)  # ceil(n / s)
    total = max((n_out - 1) * strides + pool_size - input_size, 0)
    return n_out, -(total // 2)  # the odd extra cell hangs over the bottom / right


# %% [markdown]
# ### 1. `max_pooling2d`
#
# First, `strides=None` means strides equal to the pool size. Then, for every image,
# output position `(i, j)` and channel `c`, take the maximum of the window
# that starts at row `top = start_h + i * sh` and column `left = start_w + j * sw`, keeping
# only the rows `max(top, 0) .. min(top + ph, H) - 1` (and likewise the columns) that are
# inside the image. Each channel is pooled on its own: reduce over the height and width
# axes only. A loop over output positions that slices `images[:, rows, cols, :]` is the
# natural way.

# %%
def max_pooling2d(images, pool_size=2, strides=None, padding="valid"):
    """Max pooling, as `keras.layers.MaxPooling2D`.

    Args:
        images: `(N, H, W, C)`.
        pool_size: int or `(ph, pw)`.
        strides: int, `(sh, sw)`, or None for `strides = pool_size`.
        padding: "valid" or "same" (the max of the cells inside the image).

    Returns:
        `(N, H_out, W_out, C)`, `H_out = (H - ph) // sh + 1` ("valid") or `ceil(H / sh)` ("same").

    Example:
        >>> max_pooling2d(np.zeros((2, 7, 6, 3))).shape
        (2, 3, 3, 3)
    """
    images, (p_h, p_w), padding = pooling_arguments(images, pool_size, strides, padding)
    ### BEGIN SOLUTION
    s_h, s_w = (p_h, p_w) if strides is None else to_pair(strides, "strides")
    n, h, w, c = images.shape
    out_h, start_h = pooling_geometry(h, p_h, s_h, padding)
    out_w, start_w = pooling_geometry(w, p_w, s_w, padding)
    out = np.empty((n, out_h, out_w, c), dtype=images.dtype)
    for i in range(out_h):
        top = start_h + i * s_h
        rows = slice(max(top, 0), min(top + p_h, h))
        for j in range(out_w):
            left = start_w + j * s_w
            cols = slice(max(left, 0), min(left + p_w, w))
            window = images[:, rows, cols, :]  # (N, <=ph, <=pw, C): only cells inside the image
            out[:, i, j, :] = window.max(axis=(1, 2))  # (N, C)
    return out
    ### END SOLUTION


# %%
feedback.check("max_pooling2d")

# %% [markdown]
# ### 2. `average_pooling2d`
#
# The same windows, their mean instead of their maximum. With `padding="same"`, divide by
# the number of cells of the window that are inside the image, not by `ph * pw`.

# %%
def average_pooling2d(images, pool_size=2, strides=None, padding="valid"):
    """Average pooling, as `keras.layers.AveragePooling2D`.

    Args:
        images: `(N, H, W, C)`.
        pool_size: int or `(ph, pw)`.
        strides: int, `(sh, sw)`, or None for `strides = pool_size`.
        padding: "valid" or "same" (the mean of the cells inside the image).

    Returns:
        `(N, H_out, W_out, C)` floats, sizes as for `max_pooling2d`.

    Example:
        >>> average_pooling2d(np.ones((2, 7, 6, 3)), pool_size=3, strides=1, padding="same").shape
        (2, 7, 6, 3)
    """
    images, (p_h, p_w), padding = pooling_arguments(images, pool_size, strides, padding)
    ### BEGIN SOLUTION
    s_h, s_w = (p_h, p_w) if strides is None else to_pair(strides, "strides")
    n, h, w, c = images.shape
    out_h, start_h = pooling_geometry(h, p_h, s_h, padding)
    out_w, start_w = pooling_geometry(w, p_w, s_w, padding)
    out = np.empty((n, out_h, out_w, c), dtype=np.result_type(images.dtype, np.float32))
    for i in range(out_h):
        top = start_h + i * s_h
        rows = slice(max(top, 0), min(top + p_h, h))
        for j in range(out_w):
            left = start_w + j * s_w
            cols = slice(max(left, 0), min(left + p_w, w))
            window = images[:, rows, cols, :]  # (N, <=ph, <=pw, C): only cells inside the image
            out[:, i, j, :] = window.mean(axis=(1, 2))  # (N, C), divided by the cells inside
    return out
    ### END SOLUTION


# %%
feedback.check("average_pooling2d")

# %% [markdown]
# ### 3. `global_average_pooling2d`
#
# One number per image and channel: the mean over the whole height and width. The result
# has no spatial axes left: `(N, C)`, as `keras.layers.GlobalAveragePooling2D()` (whose
# `keepdims=False` is the default).

# %%
def global_average_pooling2d(images):
    """Global average pooling, as `keras.layers.GlobalAveragePooling2D`.

    Args:
        images: `(N, H, W, C)`.

    Returns:
        `(N, C)`: the mean of each feature map.

    Example:
        >>> global_average_pooling2d(np.ones((2, 7, 6, 3))).shape
        (2, 3)
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"Expected images of shape (N, H, W, C). Received: images.shape={images.shape}")
    ### BEGIN SOLUTION
    return images.mean(axis=(1, 2))  # (N, H, W, C) -> (N, C)
    ### END SOLUTION


# %%
feedback.check("global_average_pooling2d")

# %% [markdown]
# ## Pooling a photograph
#
# Your `max_pooling2d` and `average_pooling2d` on scikit-image's *camera* photo. Each 4×4
# pooling keeps one value out of sixteen: the image is 4 times smaller along each axis, the
# objects are still there. Max pooling keeps thin bright details that average pooling
# blurs away.

# %%
import matplotlib.pyplot as plt
from skimage import data

photo = data.camera().astype("float32")[None, :, :, None] / 255.0  # (1, 512, 512, 1)
with feedback.needs("max_pooling2d", "average_pooling2d"):
    pooled = {
        "photo (512×512)": photo,
        "max pooling 4×4 (128×128)": max_pooling2d(photo, pool_size=4),
        "average pooling 4×4 (128×128)": average_pooling2d(photo, pool_size=4),
    }
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    for ax, (title, img) in zip(axes, pooled.items()):
        ax.imshow(img[0, :, :, 0], cmap="gray", vmin=0, vmax=1)
        ax.set_title(title)
        ax.axis("off")

# %% [markdown]
# ## A little translation invariance, measured
#
# Take a feature map with a few bright spots (the answers of some detector), shift it by
# 0 to 4 pixels, and measure how similar the shifted map is to the original (cosine
# similarity: 1 for identical maps, 0 for maps with no bright cell in common). After a
# shift of one pixel the raw maps have nothing in common; the max-pooled maps still
# mostly agree, because most spots stayed inside the same 4×4 window. The larger the
# shift, the more spots cross a window border: pooling forgives shifts that are small
# compared with the window, not large ones.

# %%
def similarity(a, b):
    """Cosine similarity of two arrays: 1 when proportional, 0 when they never overlap."""
    return float(np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b)))


rng = np.random.default_rng(0)
feature_map = np.zeros((1, 32, 32, 1))
rows, cols = rng.integers(2, 28, size=(2, 12))  # 12 detections
feature_map[0, rows, cols, 0] = rng.uniform(0.5, 1.0, size=12)
with feedback.needs("max_pooling2d"):
    for shift in range(5):
        moved = np.roll(feature_map, shift, axis=2)  # every spot `shift` pixels to the right
        raw = similarity(feature_map, moved)
        pooled = similarity(max_pooling2d(feature_map, 4), max_pooling2d(moved, 4))
        print(f"shift {shift}px: raw maps {raw:.2f} similar, max-pooled maps {pooled:.2f} similar")

# %% [markdown]
# ## All checks
#
# Run this last: it prints every public check of the exercise and your score.

# %%
feedback.summary()
