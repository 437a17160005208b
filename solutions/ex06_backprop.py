# %% [markdown]
# # Exercise 6 — Backpropagation through convolution and pooling
#
# In exercises 1 and 2 you computed what a convolution and a max pooling *output*. A
# network learns by asking the opposite question: if the loss changes by `d_out` per unit
# of each output, how does it change per unit of each **input** and each **weight**? Keras
# answers it for you (`GradientTape`, `fit`); here you write the answer yourself, in NumPy:
#
# * `conv2d_backward` — the gradients of a loss through `conv2d`, with respect to the
#   images, the kernel and the bias,
# * `max_pooling2d_backward` — the gradient through `max_pooling2d`,
# * `numerical_gradient` — a slow, simple and independent way to check any gradient,
# * `fit_kernel` — gradient descent that *learns* an edge detector from examples, with your
#   own backward pass.
#
# **Shapes.** As in exercises 1 and 2, channels last:
#
# | symbol | meaning |
# |---|---|
# | `N` | batch |
# | `H`, `W`, `C` | height, width and channels of the images |
# | `kh`, `kw`, `F` | kernel height and width, filters |
# | `H_out`, `W_out` | output height and width |
#
# `d_out` always has the shape of the forward output, `(N, H_out, W_out, F)` for a
# convolution; each gradient you return has the shape of what it is the gradient of.
#
# After each function, run the cell below it: it checks your code and explains what is wrong.

# %%
import numpy as np
from autograder.notebook import Feedback

feedback = Feedback("ex06_backprop", globals())

# %% [markdown]
# ## The forward passes (given)
#
# `conv2d` and `max_pooling2d` below compute what your exercise 1 and 2 functions compute
# (a vectorised version). They are given so that this exercise stands on its own; read
# `padding_amounts`: the backward pass needs the same padding.

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
    if pair is None or min(pair) < 0 or (name != "padding" and min(pair) < 1):
        raise ValueError(f"`{name}` must be a positive int or a pair of them. Received: {name}={value!r}")
    return pair


def padding_amounts(input_size, kernel_size, strides, padding, axis):
    """`(before, after)` zeros along one axis (0: height, 1: width), as `keras.layers.Conv2D`.

    Example:
        >>> padding_amounts(7, 4, 1, "same", 0)  # total 3: the odd one after
        (1, 2)
    """
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = -(-input_size // strides)  # ceil(n / s)
        total = max((out - 1) * strides + kernel_size - input_size, 0)
        return total // 2, total - total // 2
    p = to_pair(padding, "padding")[axis]
    return p, p


def conv2d(images, kernel, bias=None, strides=1, padding="valid"):
    """Cross-correlation, as `keras.layers.Conv2D` (exercise 1's `conv2d`).

    Args:
        images: `(N, H, W, C)`; kernel: `(kh, kw, C, F)`; bias: `(F,)` or None.

    Returns:
        `(N, H_out, W_out, F)`.

    Example:
        >>> conv2d(np.zeros((2, 5, 7, 3)), np.zeros((3, 3, 3, 8))).shape
        (2, 3, 5, 8)
    """
    images, kernel = np.asarray(images, dtype=float), np.asarray(kernel, dtype=float)
    s_h, s_w = to_pair(strides, "strides")
    kh, kw, c, f = kernel.shape
    pad_h = padding_amounts(images.shape[1], kh, s_h, padding, 0)
    pad_w = padding_amounts(images.shape[2], kw, s_w, padding, 1)
    padded = np.pad(images, ((0, 0), pad_h, pad_w, (0, 0)))  # (N, Hp, Wp, C)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))  # (N, ., ., C, kh, kw)
    windows = windows[:, ::s_h, ::s_w]  # (N, H_out, W_out, C, kh, kw)
    out = np.einsum("nijcuv,uvcf->nijf", windows, kernel)  # (N, H_out, W_out, F)
    return out if bias is None else out + np.asarray(bias)


def conv_output_shape(images_shape, kernel_shape, strides, padding):
    """The shape of `conv2d`'s output, `(N, H_out, W_out, F)`.

    Example:
        >>> conv_output_shape((2, 7, 6, 3), (3, 3, 3, 4), 2, "same")
        (2, 4, 3, 4)
    """
    (n, h, w, _), (kh, kw, _, f) = images_shape, kernel_shape
    s_h, s_w = to_pair(strides, "strides")
    pad_h = sum(padding_amounts(h, kh, s_h, padding, 0))
    pad_w = sum(padding_amounts(w, kw, s_w, padding, 1))
    return n, (h + pad_h - kh) // s_h + 1, (w + pad_w - kw) // s_w + 1, f


def pooling_geometry(input_size, pool_size, strides, padding):
    """`(n_out, start)` along one axis, as in exercise 2 (`start < 0`: over the edge)."""
    if padding == "valid":
        return (input_size - pool_size) // strides + 1, 0
    n_out = -(-input_size // strides)
    total = max((n_out - 1) * strides + pool_size - input_size, 0)
    return n_out, -(total // 2)


def max_pooling2d(images, pool_size=2, strides=None, padding="valid"):
    """Max pooling, as `keras.layers.MaxPooling2D` (exercise 2's `max_pooling2d`).

    Example:
        >>> max_pooling2d(np.zeros((2, 7, 6, 3))).shape
        (2, 3, 3, 3)
    """
    images = np.asarray(images)
    p_h, p_w = to_pair(pool_size, "pool_size")
    s_h, s_w = (p_h, p_w) if strides is None else to_pair(strides, "strides")
    n, h, w, c = images.shape
    out_h, start_h = pooling_geometry(h, p_h, s_h, padding)
    out_w, start_w = pooling_geometry(w, p_w, s_w, padding)
    out = np.empty((n, out_h, out_w, c), dtype=images.dtype)
    for i in range(out_h):
        top = start_h + i * s_h
        for j in range(out_w):
            left = start_w + j * s_w
            window = images[:, max(top, 0) : top + p_h, max(left, 0) : left + p_w, :]  # (N, <=ph, <=pw, C)
            out[:, i, j, :] = window.max(axis=(1, 2))
    return out


# %% [markdown]
# ## The chain rule on one output pixel
#
# Take one image, one channel, one filter, stride 1, no padding. One output pixel is
#
# $$out[i, j] = b + \sum_{u, v} x[i + u,\ j + v] \cdot K[u, v]$$
#
# Suppose the loss `L` depends on the outputs, and `d_out[i, j]` $= \partial L / \partial
# out[i, j]$ is known (it comes from the layer above). The chain rule says each input
# receives, from each output it contributed to, `d_out` times the weight it was
# multiplied by:
#
# * $\partial out[i, j] / \partial K[u, v] = x[i + u, j + v]$: **the window itself**, so
#   `d_kernel[u, v] += d_out[i, j] * x[i + u, j + v]`;
# * $\partial out[i, j] / \partial x[i + u, j + v] = K[u, v]$: **the kernel itself**, so
#   `d_x[i + u, j + v] += d_out[i, j] * K[u, v]`: each output *scatters* its gradient
#   back over its window, weighted by the kernel;
# * $\partial out[i, j] / \partial b = 1$, so `d_bias += d_out[i, j]`.
#
# Summed over every output pixel `(i, j)`, that is the whole backward pass. The cell below
# does it for one pixel: a 3×3 kernel over a 4×4 image gives a 2×2 output; the loss is
# `out[1, 0]`, so `d_out` is 1 there and 0 elsewhere.

# %%
x = np.arange(16.0).reshape(1, 4, 4, 1)          # (N=1, H=4, W=4, C=1)
K = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])[:, :, None, None]  # (3, 3, 1, 1): a vertical edge
d_out = np.zeros((1, 2, 2, 1))
d_out[0, 1, 0, 0] = 1.0                           # L = out[1, 0]
d_x = np.zeros_like(x)
d_x[0, 1:4, 0:3, 0] += d_out[0, 1, 0, 0] * K[:, :, 0, 0]   # the kernel, over the window of out[1, 0]
d_K = d_out[0, 1, 0, 0] * x[0, 1:4, 0:3, :, None]          # the window, (3, 3, 1, 1)
print("out[1, 0] =", conv2d(x, K)[0, 1, 0, 0])
print("d_x (the kernel, placed over the window of out[1, 0]):\n", d_x[0, :, :, 0])
print("d_K (the window of out[1, 0]):\n", d_K[:, :, 0, 0])

# %% [markdown]
# ### 1. `conv2d_backward`
#
# Write the full backward pass, for any batch, channels, filters, strides and padding.
#
# 1. Pad the images as the forward pass did (`padding_amounts`), and make a zero array
#    `d_padded` of the padded shape.
# 2. For each output position `(i, j)`, the window starts at `(i * s_h, j * s_w)` in the
#    padded image. With `g = d_out[:, i, j, :]` (`(N, F)`):
#    * `d_kernel[u, v, c, f] += Σ_n window[n, u, v, c] · g[n, f]` — summed over the
#      **batch** too: the same kernel served every image;
#    * `d_padded[:, window] += Σ_f g[n, f] · kernel[u, v, c, f]` — `+=`, because windows
#      overlap when the stride is smaller than the kernel.
# 3. `d_bias[f]` is `d_out` summed over the batch and every position.
# 4. Cut the padding off `d_padded`: zeros added around the image are not inputs, so they
#    have no gradient. `d_images` has the shape of `images`.
#
# (Written for every `d_images` pixel at once, step 2 is a *full* convolution of `d_out`
# with the kernel flipped 180°: the flip you must **not** do in the forward pass appears
# in the backward one.) A loop over `(i, j)` with `np.tensordot` is fine; a loop over the
# `kh × kw` kernel offsets with strided slices is faster.

# %%
def conv2d_backward(d_out, images, kernel, strides=1, padding="valid"):
    """Gradients of a loss through `conv2d(images, kernel, bias, strides, padding)`.

    Args:
        d_out: `(N, H_out, W_out, F)`, the loss's gradient with respect to the output.
        images: `(N, H, W, C)`, the forward pass's input.
        kernel: `(kh, kw, C, F)`.
        strides: int or `(s_h, s_w)`.
        padding: "valid", "same", int or `(p_h, p_w)`, as in the forward pass.

    Returns:
        `(d_images, d_kernel, d_bias)`: `(N, H, W, C)`, `(kh, kw, C, F)` and `(F,)`.

    Example:
        >>> d_i, d_k, d_b = conv2d_backward(np.ones((2, 3, 5, 4)), np.ones((2, 5, 7, 3)), np.ones((3, 3, 3, 4)))
        >>> d_i.shape, d_k.shape, d_b.shape
        ((2, 5, 7, 3), (3, 3, 3, 4), (4,))
    """
    d_out = np.asarray(d_out, dtype=float)
    images = np.asarray(images, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    s_h, s_w = to_pair(strides, "strides")
    expected = conv_output_shape(images.shape, kernel.shape, strides, padding)
    if d_out.shape != expected:
        raise ValueError(
            f"`d_out` must have the shape of the forward output, {expected}. Received: d_out.shape={d_out.shape}"
        )
    ### BEGIN SOLUTION
    n, h, w, c = images.shape
    kh, kw, _, f = kernel.shape
    _, out_h, out_w, _ = d_out.shape
    (top, bottom) = padding_amounts(h, kh, s_h, padding, 0)
    (left, right) = padding_amounts(w, kw, s_w, padding, 1)
    padded = np.pad(images, ((0, 0), (top, bottom), (left, right), (0, 0)))  # (N, Hp, Wp, C)
    d_padded = np.zeros_like(padded)                                          # (N, Hp, Wp, C)
    d_kernel = np.zeros_like(kernel)                                          # (kh, kw, C, F)
    for u in range(kh):
        for v in range(kw):
            # the pixels kernel[u, v] met: one per output position
            rows = slice(u, u + s_h * (out_h - 1) + 1, s_h)
            cols = slice(v, v + s_w * (out_w - 1) + 1, s_w)
            seen = padded[:, rows, cols, :]                                   # (N, H_out, W_out, C)
            d_kernel[u, v] = np.tensordot(seen, d_out, axes=([0, 1, 2], [0, 1, 2]))  # (C, F)
            d_padded[:, rows, cols, :] += d_out @ kernel[u, v].T              # (N, H_out, W_out, C)
    d_bias = d_out.sum(axis=(0, 1, 2))                                        # (F,)
    d_images = d_padded[:, top : top + h, left : left + w, :]                 # (N, H, W, C): padding cut
    return d_images, d_kernel, d_bias
    ### END SOLUTION


# %%
feedback.check("conv2d_backward")

# %% [markdown]
# ### 2. `max_pooling2d_backward`
#
# A max pooling output is one of its window's cells, so its gradient goes to **that cell
# only** (the position of the maximum, `np.argmax` over the window); the other cells of the
# window did not influence the output and get nothing from it. When windows overlap
# (`strides < pool_size`), a cell that is the maximum of several windows receives the sum
# of their gradients: use `+=`. Windows and `padding="same"` are as in exercise 2 (only
# the cells inside the image count).

# %%
def max_pooling2d_backward(d_out, images, pool_size=2, strides=None, padding="valid"):
    """Gradient of a loss through `max_pooling2d(images, pool_size, strides, padding)`.

    Args:
        d_out: `(N, H_out, W_out, C)`, the gradient with respect to the pooled output.
        images: `(N, H, W, C)`, the forward pass's input (without ties in a window).
        pool_size, strides, padding: as `max_pooling2d` (`strides=None`: the pool size).

    Returns:
        `(N, H, W, C)`: each window's gradient at the position of its maximum, summed over
        overlapping windows.

    Example:
        >>> max_pooling2d_backward(np.ones((2, 3, 3, 3)), np.random.rand(2, 7, 6, 3)).shape
        (2, 7, 6, 3)
    """
    d_out = np.asarray(d_out, dtype=float)
    images = np.asarray(images)
    p_h, p_w = to_pair(pool_size, "pool_size")
    s_h, s_w = (p_h, p_w) if strides is None else to_pair(strides, "strides")
    if padding not in ("valid", "same"):
        raise ValueError(f"`padding` must be 'valid' or 'same'. Received: padding={padding!r}")
    n, h, w, c = images.shape
    out_h, start_h = pooling_geometry(h, p_h, s_h, padding)
    out_w, start_w = pooling_geometry(w, p_w, s_w, padding)
    if d_out.shape != (n, out_h, out_w, c):
        raise ValueError(
            f"`d_out` must have the shape of the pooled output, {(n, out_h, out_w, c)}. "
            f"Received: d_out.shape={d_out.shape}"
        )
    ### BEGIN SOLUTION
    d_images = np.zeros(images.shape)
    batch, channel = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")  # (N, C) each
    for i in range(out_h):
        top = max(start_h + i * s_h, 0)
        bottom = min(start_h + i * s_h + p_h, h)
        for j in range(out_w):
            left = max(start_w + j * s_w, 0)
            right = min(start_w + j * s_w + p_w, w)
            window = images[:, top:bottom, left:right, :]                     # (N, <=ph, <=pw, C)
            flat = window.reshape(n, -1, c).argmax(axis=1)                    # (N, C): the maximum's cell
            rows, cols = np.unravel_index(flat, window.shape[1:3])           # (N, C) each
            np.add.at(d_images, (batch, top + rows, left + cols, channel), d_out[:, i, j, :])
    return d_images
    ### END SOLUTION


# %%
feedback.check("max_pooling2d_backward")

# %% [markdown]
# ### 3. `numerical_gradient`
#
# How do you know a backward pass is right? Compare it with the definition of a
# derivative. For each element `x[k]`, nudge it by `±eps` and watch the scalar `f`:
#
# $$\frac{\partial f}{\partial x_k} \approx \frac{f(x + \varepsilon e_k) - f(x - \varepsilon e_k)}{2\varepsilon}$$
#
# This **central** difference is accurate to `O(eps²)`; the one-sided
# `(f(x + eps) - f(x)) / eps` only to `O(eps)`, which is not enough to check a gradient.
# Work on a float copy of `x`, change one element, call `f`, put the element back; the
# caller's `x` must be unchanged afterwards. It costs two calls of `f` per element: fine
# for checking small inputs, far too slow to train a network (backpropagation gives every
# gradient for the cost of about one more forward pass).

# %%
def numerical_gradient(f, x, eps=1e-5):
    """Central differences of a scalar function `f` at `x`.

    Args:
        f: a function of an array shaped like `x`, returning a number.
        x: an array of any shape (not modified).
        eps: the step.

    Returns:
        An array shaped like `x`: `(f(x + eps e_k) - f(x - eps e_k)) / (2 eps)` at each `k`.

    Example:
        >>> numerical_gradient(lambda a: float(np.sum(a ** 2)), np.array([1.0, -2.0])).round(6)
        array([ 2., -4.])
    """
    ### BEGIN SOLUTION
    point = np.array(x, dtype=float)  # a copy: the caller's x is never touched
    grad = np.zeros_like(point)
    for k in np.ndindex(point.shape):
        old = point[k]
        point[k] = old + eps
        up = f(point)
        point[k] = old - eps
        down = f(point)
        point[k] = old
        grad[k] = (up - down) / (2 * eps)
    return grad
    ### END SOLUTION


# %%
feedback.check("numerical_gradient")

# %% [markdown]
# ### The gradient check
#
# Compare your backward passes with finite differences, as CS231n does, by the **relative
# error** `max |a - n| / max(1e-8, |a| + |n|)`: below about `1e-7` the two agree (the
# differences are rounding); around `1e-2` or more, the backward pass is wrong. The loss
# is `sum(out * weights)` with random weights, so that `d_out` is simply `weights`.

# %%
def rel_error(a, b):
    """CS231n's relative error between two arrays."""
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


rng = np.random.default_rng(6)
x = rng.standard_normal((2, 7, 6, 3))             # (N, H, W, C)
K = rng.standard_normal((3, 3, 3, 4))             # (kh, kw, C, F)
weights = rng.standard_normal(conv2d(x, K, strides=2, padding="same").shape)
with feedback.needs("conv2d_backward", "numerical_gradient"):
    d_x, d_K, d_b = conv2d_backward(weights, x, K, strides=2, padding="same")
    n_x = numerical_gradient(lambda a: np.sum(conv2d(a, K, strides=2, padding="same") * weights), x)
    n_K = numerical_gradient(lambda k: np.sum(conv2d(x, k, strides=2, padding="same") * weights), K)
    print(f"conv2d_backward, d_images: relative error {rel_error(d_x, n_x):.2e}")
    print(f"conv2d_backward, d_kernel: relative error {rel_error(d_K, n_K):.2e}")

# %%
with feedback.needs("max_pooling2d_backward", "numerical_gradient"):
    pool_weights = rng.standard_normal(max_pooling2d(x, 3, 2).shape)
    d_p = max_pooling2d_backward(pool_weights, x, 3, 2)
    n_p = numerical_gradient(lambda a: np.sum(max_pooling2d(a, 3, 2) * pool_weights), x)
    print(f"max_pooling2d_backward:    relative error {rel_error(d_p, n_p):.2e}")

# %% [markdown]
# ### 4. `fit_kernel`: learning an edge detector
#
# Everything a CNN layer does when it trains, on one kernel: given images and what a
# *hidden* kernel makes of them (`targets`), find the kernel by gradient descent on the
# mean squared error
#
# $$L(K) = \frac{1}{M} \sum (conv2d(x, K) - t)^2, \qquad \frac{\partial L}{\partial out} = \frac{2}{M}(conv2d(x, K) - t)$$
#
# where `M` is the number of output values. Start from a small random kernel
# (`np.random.default_rng(seed)`, shape `(kh, kw, C, 1)`), then `steps` times: forward
# with `conv2d` ("valid", no bias), `d_out` as above, `d_kernel` from **your**
# `conv2d_backward`, and a step *downhill*: `kernel -= learning_rate * d_kernel`.
# With `steps=0` it returns the starting kernel.

# %%
def fit_kernel(images, targets, kernel_size, steps=200, learning_rate=0.1, seed=0):
    """Learn a kernel by gradient descent on the mean squared error of `conv2d`.

    Args:
        images: `(N, H, W, C)`.
        targets: `(N, H - kh + 1, W - kw + 1, 1)`, what the kernel to find makes of `images`.
        kernel_size: int or `(kh, kw)`.
        steps: gradient descent steps.
        learning_rate: the step size.
        seed: seeds the starting kernel.

    Returns:
        The kernel, `(kh, kw, C, 1)`.

    Example:
        >>> x = np.random.default_rng(0).standard_normal((2, 6, 5, 1))
        >>> fit_kernel(x, conv2d(x, np.ones((3, 3, 1, 1))), 3).round(3)[:, :, 0, 0]
        array([[1., 1., 1.],
               [1., 1., 1.],
               [1., 1., 1.]])
    """
    images = np.asarray(images, dtype=float)
    targets = np.asarray(targets, dtype=float)
    kh, kw = to_pair(kernel_size, "kernel_size")
    expected = (images.shape[0], images.shape[1] - kh + 1, images.shape[2] - kw + 1, 1)
    if targets.shape != expected:
        raise ValueError(
            f"`targets` must be the 'valid' output of a (kh, kw, C, 1) kernel, {expected}. "
            f"Received: targets.shape={targets.shape}"
        )
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    kernel = 0.1 * rng.standard_normal((kh, kw, images.shape[3], 1))  # (kh, kw, C, 1)
    for _ in range(steps):
        error = conv2d(images, kernel) - targets                        # (N, H_out, W_out, 1)
        d_out = 2.0 * error / error.size                                # dL/d(out) of the mean
        _, d_kernel, _ = conv2d_backward(d_out, images, kernel)
        kernel = kernel - learning_rate * d_kernel                      # downhill
    return kernel
    ### END SOLUTION


# %%
feedback.check("fit_kernel")

# %% [markdown]
# ## The learnt kernel next to the true one
#
# Images: random noise and a photograph; targets: what a Sobel (vertical edge) kernel
# makes of them. Your `fit_kernel` has never seen the kernel, only the images and the
# targets. The loss curve is what `fit` prints epoch after epoch in Keras.

# %%
import matplotlib.pyplot as plt
from cnnexercises import datasets

sobel = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])[:, :, None, None]  # (3, 3, 1, 1)
photo = datasets.sample_photo("camera")[::8, ::8].astype(float)             # (64, 64) in [0, 1]
train = np.stack([photo, rng.standard_normal(photo.shape)])[..., None]      # (2, 64, 64, 1)
targets = conv2d(train, sobel)                                             # (2, 62, 62, 1)
with feedback.needs("fit_kernel", "conv2d_backward"):
    losses = [np.mean((conv2d(train, fit_kernel(train, targets, 3, steps=s)) - targets) ** 2) for s in range(0, 201, 20)]
    learnt = fit_kernel(train, targets, 3)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), layout="constrained")
    for ax, k, title in ((axes[0], sobel, "true kernel"), (axes[1], learnt, "learnt kernel")):
        ax.imshow(k[:, :, 0, 0], cmap="RdBu_r", vmin=-2, vmax=2)
        ax.set_title(title)
        ax.set_xticks([]), ax.set_yticks([])
        for (r, c_), value in np.ndenumerate(k[:, :, 0, 0]):
            ax.text(c_, r, f"{value:.2f}", ha="center", va="center", color="white" if abs(value) > 1.2 else "black")
    axes[2].semilogy(range(0, 201, 20), losses, marker="o")
    axes[2].set_xlabel("step")
    axes[2].set_ylabel("mean squared error")
    axes[2].set_title("gradient descent")

# %% [markdown]
# ## All checks
#
# Run this last: it prints every public check of the exercise and your score.

# %%
feedback.summary()
