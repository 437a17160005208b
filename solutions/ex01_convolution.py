# %% [markdown]
# # Exercise 1 — Convolution, from scratch
#
# In this exercise you write the operation at the heart of every convolutional neural
# network (CNN) with nothing but NumPy: the output size of a convolution, zero padding,
# one step of the sliding window, and a full `conv2d` that computes exactly what
# `keras.layers.Conv2D` computes.
#
# **Shapes.** Everything is *channels last*, as in Keras:
#
# | symbol | meaning |
# |---|---|
# | `N` | batch (number of images) |
# | `H`, `W` | height and width of an image |
# | `C` | input channels (3 for RGB) |
# | `kh`, `kw` | kernel height and width |
# | `F` | filters (output channels) |
#
# Images are `(N, H, W, C)`; a bank of kernels is `(kh, kw, C, F)`, exactly the layout of
# `keras.layers.Conv2D(...).kernel`.
#
# After each function, run the cell below it: it checks your code and explains what is wrong.

# %%
import numpy as np
from autograder.notebook import Feedback

feedback = Feedback("ex01_convolution", globals())

# %% [markdown]
# ## Why not a fully connected layer?
#
# A dense layer connects every pixel to every unit with its own weight. Two things go wrong
# on images. First, size: AlexNet's 227×227×3 input has 154,587 values; a dense layer with as
# many outputs as its first convolution (55×55×96 = 290,400) needs about 44.9 billion
# weights, where the convolution needs 34,944 (exercise 3 counts them). Second, and more important, it has no notion of *where*: a cat in the top-left
# corner and the same cat in the bottom-right corner light up completely different weights,
# so the network must learn "cat" separately at every position.
#
# Two words for "position does not matter" that are easy to mix up. A convolution is
# **translation equivariant**: shift the input and its output shifts by the same amount
# (the same kernel answers wherever the pattern is; measured below). Pooling, and above all
# global pooling, makes a network **translation invariant**: its output hardly changes
# when the input shifts (exercise 2 measures it).
#
# A convolution slides one small kernel over the whole image. The same weights look at every
# position (*parameter sharing*), so a pattern learnt in one place is recognised everywhere,
# and the layer needs only `kh × kw × C × F` weights whatever the image size.
#
# ## Kernels detect patterns
#
# A kernel is a small template. Where the image under it looks like the template, the sum of
# products is large. A vertical-edge kernel such as
#
# ```
# [[1, 0, -1],
#  [2, 0, -2],
#  [1, 0, -1]]
# ```
#
# answers strongly where brightness changes from left to right and stays silent on flat
# regions. You will run a real photograph through it once your `conv2d` works.
#
# ## Output size, stride and padding
#
# Sliding a `k`-wide kernel over `n` pixels with a step (**stride**) `s` gives
#
# $$n_{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1$$
#
# positions, where `p` is the number of zeros added on each side (**zero padding**). Keras
# names two common choices:
#
# * `padding="valid"`: no padding, `p = 0`; the output shrinks by `k - 1` at stride 1.
# * `padding="same"`: pad just enough that `n_out = ceil(n / s)`. The total padding
#   `max((n_out - 1) * s + k - n, 0)` is split in two; when it is odd, the extra row or
#   column goes at the **bottom / right**.
#
# An int `p` (or a pair `(p_h, p_w)`) means that many zeros on each side.

# %%
def to_pair(value, name):
    """`3` -> `(3, 3)`; `(2, 3)` -> `(2, 3)`. Raises ValueError for anything else."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        return int(value[0]), int(value[1])
    raise ValueError(f"`{name}` must be an int or a pair of ints. Received: {name}={value!r}")


def check_padding(padding):
    """Raise ValueError unless `padding` is 'valid', 'same', an int or a pair of ints."""
    if padding in ("valid", "same"):
        return padding
    try:
        pad = to_pair(padding, "padding")
    except ValueError:
        pad = None
    if pad is None or min(pad) < 0:
        raise ValueError(
            "`padding` must be 'valid', 'same', a non-negative int or a pair of them. "
            f"Received: padding={padding!r}"
        )
    return padding


# %% [markdown]
# ### 1. `conv_output_size`
#
# Return the number of output positions along one axis, as a Python `int`, for
# `padding="valid"`, `"same"` or an int number of zeros per side.

# %%
def conv_output_size(input_size, kernel_size, strides=1, padding="valid"):
    """Number of output positions along one axis.

    Args:
        input_size: `n`, pixels along the axis.
        kernel_size: `k`.
        strides: `s`.
        padding: "valid", "same", or an int `p` of zeros on each side.

    Returns:
        An int: `(n + 2p - k) // s + 1`, or `ceil(n / s)` for "same".

    Example:
        >>> conv_output_size(7, 3, strides=2, padding=1)
        4
    """
    check_padding(padding)
    ### BEGIN SOLUTION
    if padding == "same":
        return -(-input_size // strides)  # ceil(n / s) with integers only
    pad = 0 if padding == "valid" else padding
    return (input_size + 2 * pad - kernel_size) // strides + 1
    ### END SOLUTION


# %%
feedback.check("conv_output_size")

# %% [markdown]
# ### 2. `zero_pad`
#
# Add `padding` rows of zeros at the top and bottom and `padding` columns at the left and
# right of every image. Only the height and width axes grow; the batch and channel axes do
# not. `padding` may be an int or a pair `(pad_h, pad_w)`. Hint: `np.pad`.

# %%
def zero_pad(images, padding):
    """Pad the height and width of a batch of images with zeros.

    Args:
        images: `(N, H, W, C)`.
        padding: int or `(pad_h, pad_w)`, zeros on each side.

    Returns:
        `(N, H + 2 * pad_h, W + 2 * pad_w, C)`.

    Example:
        >>> zero_pad(np.ones((2, 3, 4, 5)), (1, 2)).shape
        (2, 5, 8, 5)
    """
    pad_h, pad_w = to_pair(padding, "padding")
    ### BEGIN SOLUTION
    return np.pad(images, ((0, 0), (pad_h, pad_h), (pad_w, pad_w), (0, 0)))
    ### END SOLUTION


# %%
feedback.check("zero_pad")

# %% [markdown]
# ### 3. `conv_single_step`
#
# One position of the sliding window: multiply the window and the kernel element-wise,
# sum everything (over height, width **and channels**), add the bias. Return a Python
# `float`.

# %%
def conv_single_step(window, kernel, bias=0.0):
    """The output of one filter at one position.

    Args:
        window: `(kh, kw, C)`, the slice of the image under the kernel.
        kernel: `(kh, kw, C)`, one filter.
        bias: a number, or any array holding one number (such as shape `(1, 1, 1)`).

    Returns:
        A Python float: `sum(window * kernel) + bias`.

    Example:
        >>> conv_single_step(np.ones((3, 3, 2)), np.ones((3, 3, 2)), bias=1.0)
        19.0
    """
    ### BEGIN SOLUTION
    bias = np.asarray(bias, dtype=np.float64).reshape(())  # a number, or shape (1, 1, 1)
    return float(np.sum(window * kernel) + bias)
    ### END SOLUTION


# %%
feedback.check("conv_single_step")

# %% [markdown]
# ### 4. `conv2d`
#
# Now the whole layer. For every image, output position `(i, j)` and filter `f`:
#
# $$out[n, i, j, f] = b_f + \sum_{u, v, c} x_{pad}[n,\ i s_h + u,\ j s_w + v,\ c] \cdot K[u, v, c, f]$$
#
# Note what this is *not*: the kernel is not flipped. Deep learning libraries compute
# **cross-correlation** and call it convolution.
#
# Steps: work out the padding (for `"same"`, split the total as described above, extra at
# the bottom/right), pad, then fill the output. A loop over output positions calling
# `conv_single_step` is correct and fine. Faster ways: loop over the `kh × kw` kernel
# offsets and multiply a strided slice of all images by `kernel[u, v]` at once; or gather
# every window into one row of a matrix ("im2col",
# `np.lib.stride_tricks.sliding_window_view`) and do a single matrix product with the
# kernel reshaped to `(kh * kw * C, F)`.

# %%
def same_padding(input_size, kernel_size, strides):
    """(before, after) zeros for padding="same" along one axis; the odd one goes after."""
    out = -(-input_size // strides)
    total = max((out - 1) * strides + kernel_size - input_size, 0)
    return total // 2, total - total // 2


def conv2d(images, kernel, bias=None, strides=1, padding="valid"):
    """Cross-correlate a batch of images with a bank of filters, as `keras.layers.Conv2D`.

    Args:
        images: `(N, H, W, C)`.
        kernel: `(kh, kw, C, F)`.
        bias: `(F,)` or None.
        strides: int or `(s_h, s_w)`.
        padding: "valid", "same", int or `(p_h, p_w)`.

    Returns:
        `(N, H_out, W_out, F)`, `H_out = (H + 2 * p_h - kh) // s_h + 1` (`ceil(H / s_h)` for "same").

    Example:
        >>> conv2d(np.zeros((2, 5, 7, 3)), np.zeros((3, 3, 3, 8))).shape
        (2, 3, 5, 8)
    """
    s_h, s_w = to_pair(strides, "strides")
    check_padding(padding)
    images = np.asarray(images)
    kernel = np.asarray(kernel)
    if images.ndim != 4 or kernel.ndim != 4 or kernel.shape[2] != images.shape[3]:
        raise ValueError(
            "Expected images (N, H, W, C) and kernel (kh, kw, C, F) with the same C. "
            f"Received: images.shape={images.shape}, kernel.shape={kernel.shape}"
        )
    ### BEGIN SOLUTION
    n, h, w, c = images.shape
    kh, kw, _, f = kernel.shape
    if padding == "same":
        top, bottom = same_padding(h, kh, s_h)
        left, right = same_padding(w, kw, s_w)
    else:
        p_h, p_w = (0, 0) if padding == "valid" else to_pair(padding, "padding")
        top, bottom, left, right = p_h, p_h, p_w, p_w
    padded = np.pad(images, ((0, 0), (top, bottom), (left, right), (0, 0)))  # (N, Hp, Wp, C)
    out_h = (h + top + bottom - kh) // s_h + 1
    out_w = (w + left + right - kw) // s_w + 1
    # every kh x kw window of every image (a view: nothing is copied yet)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))  # (N, Hp-kh+1, Wp-kw+1, C, kh, kw)
    windows = windows[:, ::s_h, ::s_w]  # (N, H_out, W_out, C, kh, kw): one window per output position
    weights = kernel.reshape(kh * kw * c, f)  # (kh*kw*C, F), rows in (kh, kw, C) order
    out = np.empty((n, out_h, out_w, f), dtype=np.result_type(images, kernel, np.float32))
    for start in range(0, n, 8):  # a few images at a time keeps the window matrix small (and fast)
        batch = windows[start : start + 8]  # (B, H_out, W_out, C, kh, kw)
        # "im2col": each window becomes one row, laid out (kh, kw, C) like the kernel
        rows = batch.transpose(0, 1, 2, 4, 5, 3).reshape(-1, kh * kw * c)  # (B*H_out*W_out, kh*kw*C)
        # one matrix product = conv_single_step for every window and every filter at once
        out[start : start + 8] = (rows @ weights).reshape(-1, out_h, out_w, f)  # (B, H_out, W_out, F)
    if bias is not None:
        out = out + np.asarray(bias)  # broadcast over (N, H_out, W_out)
    return out
    ### END SOLUTION


# %%
feedback.check("conv2d")

# %% [markdown]
# ## Your convolution on a real photograph
#
# The cell below runs scikit-image's *camera* photo through a vertical- and a
# horizontal-edge kernel using **your** `conv2d`. Bright pixels in the output mark
# where the image matches the kernel's pattern.

# %%
import matplotlib.pyplot as plt
from skimage import data

photo = data.camera().astype("float32")[None, :, :, None] / 255.0  # (1, 512, 512, 1)
sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype="float32")
edges = np.stack([sobel, sobel.T], axis=-1)[:, :, None, :]  # (3, 3, 1, 2)
with feedback.needs("conv2d"):
    maps = conv2d(photo, edges, padding="same")  # (1, 512, 512, 2)
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    for ax, img, title in zip(axes, [photo[0, ..., 0], maps[0, ..., 0], maps[0, ..., 1]],
                              ["photo", "vertical edges", "horizontal edges"]):
        ax.imshow(np.abs(img) if title != "photo" else img, cmap="gray")
        ax.set_title(title)
        ax.axis("off")
    # translation equivariance, measured: shift the photo 5 pixels right, the edges follow
    shifted = conv2d(np.roll(photo, 5, axis=2), edges, padding="same")
    inside = (slice(None), slice(8, -8), slice(8, -8), slice(None))  # away from the borders
    print("conv2d(shift(photo)) == shift(conv2d(photo)):",
          np.allclose(shifted[inside], np.roll(maps, 5, axis=2)[inside], atol=1e-5))

# %% [markdown]
# ## Stride and padding, visually
#
# `cnnexercises.plotting.kernel_sweep` draws the positions a kernel visits. Change
# `strides` and `padding` and watch the output size follow the formula above.

# %%
from cnnexercises import plotting

plotting.kernel_sweep(input_size=(7, 7), kernel_size=3, strides=2, padding=1)

# %% [markdown]
# ## All checks
#
# Run this last: it prints every public check of the exercise and your score.

# %%
feedback.summary()
