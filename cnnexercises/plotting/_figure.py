"""Figure scaffolding shared by the plots: a grid of axes on a pyplot-free Figure.

Figures are `matplotlib.figure.Figure` objects made without pyplot: nothing is
registered globally, nothing needs closing, and Jupyter displays a returned Figure.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure


def grid(n, ncols=None, cell=(1.6, 1.6), extra_height=0.6, min_width=0.0):
    """A Figure with exactly `n` axes laid out in rows of `ncols`; returns `(fig, axes)`."""
    ncols = ncols or max(1, math.ceil(math.sqrt(n)))
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(max(cell[0] * ncols, min_width), cell[1] * nrows + extra_height), layout="constrained")
    axes = [fig.add_subplot(nrows, ncols, i + 1) for i in range(n)]
    return fig, axes


def displayable(image):
    """`(H, W)` or `(H, W, 3)` floats in [0, 1] for `imshow`, from an image of any range.

    `(H, W, 1)` becomes `(H, W)`; values outside [0, 1] are rescaled by the image's own
    minimum and maximum (a constant image becomes zeros).
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]                                  # (H, W, 1) -> (H, W)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] != 3):
        raise ValueError(
            "An image must be (height, width), (height, width, 1) or (height, width, 3). "
            f"Received: image.shape={image.shape}"
        )
    low, high = float(image.min()), float(image.max())
    if low < 0 or high > 1:
        image = (image - low) / (high - low) if high > low else np.zeros_like(image)
    return image


def show_image(ax, image, title=None, **kwargs):
    """`imshow` a single image without ticks; gray colormap for one channel."""
    image = displayable(image)
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title, fontsize=8)
