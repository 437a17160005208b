"""Figure scaffolding shared by the plots: a grid of axes on a pyplot-free Figure.

Figures are `NotebookFigure`s (a `matplotlib.figure.Figure`) made without pyplot: nothing
is registered globally and nothing needs closing. A plotting function calls the
figure's `present()`, which shows it at once inside a Jupyter kernel (so a plot that is not the last
expression of its cell appears too); the same figure returned as the cell's last value is
then not shown a second time. Outside Jupyter nothing is shown: `fig.savefig(path)` saves it.
"""

from __future__ import annotations

import functools
import io
import math

import numpy as np
from matplotlib.figure import Figure

from cnnexercises.jupyter import ShownOnce


def png_bytes(fig, dpi=None):
    """The figure rendered as PNG (headless: matplotlib's Agg renderer, whatever the backend)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


class NotebookFigure(ShownOnce, Figure):
    """A Figure that Jupyter shows once per cell, whether or not it is the cell's last value."""

    def _mimebundle(self) -> dict:
        return {"image/png": png_bytes(self), "text/plain": repr(self).replace("NotebookFigure", "Figure", 1)}


def shows_itself(plot):
    """Decorator: the plotting function's figure is shown in Jupyter as soon as it is made."""

    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        return plot(*args, **kwargs).present()

    return wrapper


def grid(n, ncols=None, cell=(1.6, 1.6), extra_height=0.6, min_width=0.0):
    """A Figure with exactly `n` axes laid out in rows of `ncols`; returns `(fig, axes)`."""
    ncols = ncols or max(1, math.ceil(math.sqrt(n)))
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig = NotebookFigure(figsize=(max(cell[0] * ncols, min_width), cell[1] * nrows + extra_height), layout="constrained")
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
