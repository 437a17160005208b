"""`kernel_sweep`: frames of a kernel sliding over a padded input, and the output it fills.

Glossary: H, W input size; kh, kw kernel size; sh, sw strides; (top, bottom), (left, right)
zero padding; Hp = top + H + bottom, Wp = left + W + right; oh, ow output size.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from matplotlib.patches import Rectangle

from cnnexercises.plotting._figure import grid, shows_itself

PAD_VALUE = 0.0
INPUT_VALUE = 1.0  # the cell value drawn for the input when no image is given


def _pair(value, name):
    """An int or a pair of ints -> `(int, int)`, each at least 1."""
    pair = (value, value) if isinstance(value, numbers.Integral) else tuple(value) if isinstance(value, (tuple, list)) else None
    if (
        pair is None
        or len(pair) != 2
        or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in pair)
    ):
        raise ValueError(f"`{name}` must be a positive int or a pair of positive ints. Received: {name}={value!r}")
    return int(pair[0]), int(pair[1])


def _padding(padding, size, kernel, strides):
    """Zero padding per side, `((top, bottom), (left, right))`, as Keras pads."""
    if isinstance(padding, str) and padding.lower() == "valid":
        return (0, 0), (0, 0)
    if isinstance(padding, str) and padding.lower() == "same":
        sides = []
        for n, k, s in zip(size, kernel, strides):
            out = math.ceil(n / s)
            total = max((out - 1) * s + k - n, 0)
            sides.append((total // 2, total - total // 2))  # the odd extra row/column at bottom/right
        return tuple(sides)
    pair = (padding, padding) if isinstance(padding, numbers.Integral) else tuple(padding) if isinstance(padding, (tuple, list)) else None
    if (
        pair is None
        or isinstance(padding, bool)
        or len(pair) != 2
        or not all(isinstance(p, numbers.Integral) and not isinstance(p, bool) and p >= 0 for p in pair)
    ):
        raise ValueError(
            "`padding` must be 'valid', 'same', an int or a pair of ints >= 0. "
            f"Received: padding={padding!r}"
        )
    return (int(pair[0]), int(pair[0])), (int(pair[1]), int(pair[1]))


def output_size(size, kernel, strides, pads):
    """`(oh, ow)`: `out = (n + pad_before + pad_after - k) // s + 1` on each axis."""
    return tuple((n + sum(p) - k) // s + 1 for n, k, s, p in zip(size, kernel, strides, pads))


def _formula(axis, n, k, s, pads, out, padding):
    padded = f"{n} + {sum(pads)}" if sum(pads) else f"{n}"
    text = f"out_{axis} = ({padded} − {k}) // {s} + 1 = {out}"
    if isinstance(padding, str) and padding.lower() == "same":
        text += f" = ceil({n} / {s})"
    return text


def _frame_positions(oh, ow, max_frames):
    """Output cells `(i, j)` to draw, in raster order: all, or `max_frames` evenly spread."""
    count = oh * ow
    if count <= max_frames:
        picks = np.arange(count)
    else:
        picks = np.unique(np.linspace(0, count - 1, max_frames).round().astype(int))
    return [(int(p) // ow, int(p) % ow, int(p)) for p in picks]


@shows_itself
def kernel_sweep(input_size=None, kernel_size=3, strides=1, padding="valid", max_frames=9, image=None):
    """Frames of a kernel sliding over a zero-padded input, each next to the output grid.

    Each frame shows the padded input (padding cells marked 0, the input inside a dashed
    border), the kernel's window at one output position (red), and the output grid with
    the cell that window computes (red) and the cells computed before it (shaded). The
    window moves by `strides`; the title gives the output size by the formula.

    Args:
        input_size: `H` or `(H, W)`; may be None when `image` is given.
        kernel_size: `kh` or `(kh, kw)`.
        strides: `s` or `(sh, sw)`.
        padding: "valid", "same" (Keras: output `ceil(n / s)`, the odd extra row/column at
            bottom/right), an int or `(pad_h, pad_w)` zeros per side.
        max_frames: at most this many frames, spread evenly over the output positions
            (the first and last always included).
        image: optional `(H, W)` array drawn in the input cells instead of a flat colour.

    Returns:
        A `matplotlib.figure.Figure` with one axes per frame.

    Raises:
        ValueError: on a bad argument, or a kernel larger than the padded input.

    Example:
        >>> fig = kernel_sweep(input_size=(7, 7), kernel_size=3, strides=2, padding=1)
        >>> len(fig.axes), fig.texts[0].get_text().splitlines()[0]
        (9, 'kernel 3×3, strides 2×2, padding 1×1 on a 7×7 input: output 4×4')
    """
    if image is not None:
        image = np.asarray(image, dtype=np.float32)
        if image.ndim != 2:
            raise ValueError(f"`image` must be a 2-D array (height, width). Received: image.shape={image.shape}")
        if input_size is not None and _pair(input_size, "input_size") != image.shape:
            raise ValueError(
                f"`input_size` must match `image.shape` (or be None). "
                f"Received: input_size={input_size!r}, image.shape={image.shape}"
            )
        input_size = image.shape
    if input_size is None:
        raise ValueError("Pass `input_size` or `image`. Received: input_size=None, image=None")
    size = _pair(input_size, "input_size")
    kernel = _pair(kernel_size, "kernel_size")
    stride = _pair(strides, "strides")
    if isinstance(max_frames, bool) or not isinstance(max_frames, numbers.Integral) or max_frames < 1:
        raise ValueError(f"`max_frames` must be a positive int. Received: max_frames={max_frames!r}")
    pads = _padding(padding, size, kernel, stride)
    (top, bottom), (left, right) = pads
    hp, wp = size[0] + top + bottom, size[1] + left + right
    if kernel[0] > hp or kernel[1] > wp:
        raise ValueError(
            f"The kernel is larger than the padded input ({hp}×{wp}). "
            f"Received: kernel_size={kernel_size!r}, input_size={input_size!r}, padding={padding!r}"
        )
    oh, ow = output_size(size, kernel, stride, pads)

    cells = np.full((hp, wp), PAD_VALUE, dtype=np.float32)                          # (Hp, Wp)
    cells[top:top + size[0], left:left + size[1]] = INPUT_VALUE if image is None else image
    if image is None:
        cmap, vmin, vmax = "Blues", 0.0, 3.0     # padding white, input light blue
    else:
        cmap, vmin, vmax = "gray", min(0.0, float(image.min())), max(float(image.max()), 1e-6)

    frames = _frame_positions(oh, ow, max_frames)
    fig, axes = grid(len(frames), ncols=min(3, len(frames)), cell=(0.32 * (wp + ow + 2.5), 0.32 * max(hp, oh) + 0.5))
    if isinstance(padding, str):
        pad_text = "valid" if padding.lower() == "valid" else f"same (top {top}, bottom {bottom}, left {left}, right {right})"
    else:
        pad_text = f"{top}×{left}"
    fig.suptitle(
        f"kernel {kernel[0]}×{kernel[1]}, strides {stride[0]}×{stride[1]}, padding {pad_text} "
        f"on a {size[0]}×{size[1]} input: output {oh}×{ow}\n"
        f"{_formula('h', size[0], kernel[0], stride[0], pads[0], oh, padding)};   "
        f"{_formula('w', size[1], kernel[1], stride[1], pads[1], ow, padding)}",
        fontsize=9,
    )
    ox, oy = wp + 1.5, (hp - oh) / 2 if hp > oh else 0.0  # where the output grid sits
    for ax, (i, j, order) in zip(axes, frames):
        ax.imshow(cells, cmap=cmap, vmin=vmin, vmax=vmax, extent=(0, wp, hp, 0), interpolation="nearest")
        done = (np.arange(oh * ow) < order).reshape(oh, ow).astype(np.float32)   # (oh, ow)
        done[i, j] = 2.0
        ax.imshow(done, cmap="Oranges", vmin=0, vmax=3, extent=(ox, ox + ow, oy + oh, oy), interpolation="nearest")
        for x0, x1, y0, y1, rows, cols in ((0, wp, 0, hp, hp, wp), (ox, ox + ow, oy, oy + oh, oh, ow)):
            ax.vlines(np.linspace(x0, x1, cols + 1), y0, y1, color="0.6", linewidth=0.5)
            ax.hlines(np.linspace(y0, y1, rows + 1), x0, x1, color="0.6", linewidth=0.5)
        if top or bottom or left or right:
            ax.add_patch(Rectangle((left, top), size[1], size[0], fill=False, linestyle="--", linewidth=1, edgecolor="0.3", label="input"))
            if hp * wp <= 400:
                for r, c in zip(*np.nonzero(np.pad(np.zeros(size, bool), pads, constant_values=True))):
                    ax.text(c + 0.5, r + 0.5, "0", ha="center", va="center", fontsize=6, color="0.5")
        r0, c0 = i * stride[0], j * stride[1]                                       # window corner (padded coords)
        ax.add_patch(Rectangle((c0, r0), kernel[1], kernel[0], fill=False, linewidth=2, edgecolor="red", label="kernel"))
        ax.add_patch(Rectangle((ox + j, oy + i), 1, 1, fill=False, linewidth=2, edgecolor="red", label="output cell"))
        ax.annotate(
            "", xy=(ox + j + 0.5, oy + i + 0.5), xytext=(c0 + kernel[1] / 2, r0 + kernel[0] / 2),
            arrowprops=dict(arrowstyle="->", color="red", alpha=0.5),
        )
        rows = f"{r0 - top}..{r0 - top + kernel[0] - 1}"
        cols = f"{c0 - left}..{c0 - left + kernel[1] - 1}"
        ax.set_title(f"out[{i}, {j}] ← rows {rows}, cols {cols}", fontsize=7)
        ax.set_xlim(-0.2, ox + ow + 0.2)
        ax.set_ylim(max(hp, oy + oh) + 0.2, -0.2)
        ax.set_aspect("equal")
        ax.axis("off")
    return fig
