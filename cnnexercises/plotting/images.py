"""`conv_output`: an image, the kernel, and the convolution result side by side."""

from __future__ import annotations

import numpy as np

from cnnexercises.plotting._figure import NotebookFigure, show_image, shows_itself


def _squeeze_image(array, name):
    """`(H, W)` or `(H, W, 3)` from an image with optional batch / single-channel axes."""
    a = np.asarray(array, dtype=np.float32)
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]                                                           # (1, H, W, C) -> (H, W, C)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]                                                      # (H, W, 1) -> (H, W)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] != 3):
        raise ValueError(
            f"`{name}` must be one image: (height, width), (height, width, 1 or 3), or with a "
            f"batch axis of 1. Received: {name}.shape={np.shape(array)}"
        )
    return a


@shows_itself
def conv_output(image, kernel, output, titles=("image", "kernel", "output")):
    """An image, the kernel and the convolution output, side by side.

    The output is drawn with a diverging colormap centred on 0 (blue negative, red
    positive), as edge kernels give signed responses; a kernel of at most 7×7 shows its
    numbers.

    Args:
        image: `(H, W)`, `(H, W, C)` or `(1, H, W, C)`.
        kernel: `(kh, kw)` or `(kh, kw, C, F)` (only `[..., 0, 0]` is drawn when C or F > 1).
        output: `(H', W')`, `(H', W', 1)` or `(1, H', W', 1)`.
        titles: the three panel titles; shapes are appended.

    Returns:
        A `matplotlib.figure.Figure` with three axes (plus the output's colour bar).

    Example:
        >>> image = np.random.default_rng(0).random((20, 30))
        >>> edge = np.array([[1.0, 0.0, -1.0]] * 3)
        >>> fig = conv_output(image, edge, image[1:-1, 1:-1])
        >>> [ax.get_title() for ax in fig.axes[:3]]
        ['image (20, 30)', 'kernel (3, 3)', 'output (18, 28)']
    """
    image_shape, kernel_shape, output_shape = np.shape(image), np.shape(kernel), np.shape(output)
    image = _squeeze_image(image, "image")
    output = _squeeze_image(output, "output")
    if output.ndim != 2:
        raise ValueError(f"`output` must have a single channel. Received: output.shape={output_shape}")
    k = np.asarray(kernel, dtype=np.float32)
    if k.ndim == 4:
        k = k[:, :, 0, 0]                                                  # (kh, kw, C, F) -> (kh, kw)
    if k.ndim != 2:
        raise ValueError(f"`kernel` must be (kernel_h, kernel_w) or (kernel_h, kernel_w, C, F). Received: kernel.shape={kernel_shape}")

    fig = NotebookFigure(figsize=(11, 3.8), layout="constrained")
    ax_image, ax_kernel, ax_output = fig.subplots(1, 3, gridspec_kw={"width_ratios": [4, 1.6, 4]})
    show_image(ax_image, image)
    ax_image.set_title(f"{titles[0]} {tuple(image_shape)}")

    limit = float(np.abs(k).max()) or 1.0
    ax_kernel.imshow(k, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    if k.shape[0] <= 7 and k.shape[1] <= 7:
        for (r, c), value in np.ndenumerate(k):
            ax_kernel.text(c, r, f"{value:g}", ha="center", va="center", fontsize=8)
    ax_kernel.set_xticks([])
    ax_kernel.set_yticks([])
    ax_kernel.set_title(f"{titles[1]} {tuple(kernel_shape)}")

    limit = float(np.abs(output).max()) or 1.0
    drawn = ax_output.imshow(output, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax_output.set_xticks([])
    ax_output.set_yticks([])
    ax_output.set_title(f"{titles[2]} {tuple(output_shape)}")
    fig.colorbar(drawn, ax=ax_output, shrink=0.8)
    return fig
