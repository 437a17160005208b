"""What a trained CNN's layers hold: first-layer filters, and feature maps of one image.

Glossary: kh, kw kernel size; C input channels; F filters; H, W image size.
"""

from __future__ import annotations

import numbers

import numpy as np

from cnnexercises.plotting._figure import NotebookFigure, grid, show_image, shows_itself


def _conv_layers(layer_or_model):
    """Every `keras.layers.Conv2D` in a model, depth-first in order (nested models included)."""
    import keras

    if isinstance(layer_or_model, keras.layers.Conv2D):
        yield layer_or_model
    for layer in getattr(layer_or_model, "layers", []):
        yield from _conv_layers(layer)


def first_conv_kernel(kernel_or_model):
    """The `(kh, kw, C, F)` kernel of an array, a Conv2D layer, or a model's first Conv2D layer.

    Returns:
        `(kernel, name)`: a float32 array and the layer's name (None for an array).
    """
    if isinstance(kernel_or_model, np.ndarray) or isinstance(kernel_or_model, (list, tuple)):
        kernel, name = np.asarray(kernel_or_model, dtype=np.float32), None
    else:
        import keras

        if not isinstance(kernel_or_model, (keras.Model, keras.layers.Layer)):
            raise ValueError(
                "`kernel_or_model` must be a (kernel_h, kernel_w, in_channels, filters) array, a "
                f"Conv2D layer or a Keras model. Received: kernel_or_model={type(kernel_or_model).__name__}"
            )
        layer = next(_conv_layers(kernel_or_model), None)
        if layer is None:
            raise ValueError(
                "The model has no Conv2D layer to take filters from. "
                f"Received: model={getattr(kernel_or_model, 'name', kernel_or_model)!r}"
            )
        kernel, name = np.asarray(layer.kernel.numpy(), dtype=np.float32), layer.name
    if kernel.ndim != 4:
        raise ValueError(
            "A kernel must be (kernel_h, kernel_w, in_channels, filters), as Conv2D.kernel. "
            f"Received: kernel.shape={kernel.shape}"
        )
    return kernel, name


@shows_itself
def filters(kernel_or_model, max_filters=32, channel_order="rgb"):
    """The first convolution layer's filters, one small image each.

    A filter with 3 input channels is drawn in colour (as RGB: a network whose input is
    BGR, like VGG16 after its "caffe" preprocessing, needs `channel_order="bgr"` so that
    a filter that responds to red is drawn red), one with 1 channel in gray;
    with another number of channels the channel mean is drawn. Each filter is scaled to
    its own minimum (black) and maximum (white).

    Args:
        kernel_or_model: a `(kh, kw, C, F)` array (the layout of `Conv2D.kernel`), a
            `keras.layers.Conv2D`, or a Keras model (its first Conv2D layer is used).
        max_filters: draw at most this many filters (the first ones).
        channel_order: "rgb" or "bgr", the order of the input's 3 channels.

    Returns:
        A `matplotlib.figure.Figure` with one axes per filter drawn.

    Example:
        >>> fig = filters(np.random.default_rng(0).normal(size=(5, 5, 3, 6)))
        >>> len(fig.axes)
        6
    """
    if isinstance(max_filters, bool) or not isinstance(max_filters, numbers.Integral) or max_filters < 1:
        raise ValueError(f"`max_filters` must be a positive int. Received: max_filters={max_filters!r}")
    if channel_order not in ("rgb", "bgr"):
        raise ValueError(f"`channel_order` must be 'rgb' or 'bgr'. Received: channel_order={channel_order!r}")
    kernel, name = first_conv_kernel(kernel_or_model)
    kh, kw, channels, count = kernel.shape
    if channels == 3 and channel_order == "bgr":
        kernel = kernel[:, :, ::-1, :]                                     # BGR -> RGB for drawing
    shown = min(count, max_filters)
    fig, axes = grid(shown, cell=(1.0, 1.0), extra_height=0.6, min_width=2.8)
    for f, ax in enumerate(axes):
        w = kernel[..., f]                                                 # (kh, kw, C)
        if channels not in (1, 3):
            w = w.mean(axis=-1, keepdims=True)                             # (kh, kw, 1)
        low, high = float(w.min()), float(w.max())
        w = (w - low) / (high - low) if high > low else np.full_like(w, 0.5)
        show_image(ax, w, title=f"{f}", interpolation="nearest")
    source = f"layer {name!r}" if name else "kernel"
    how = {1: "gray", 3: "RGB" if channel_order == "rgb" else "BGR input drawn as RGB"}.get(channels, f"mean of {channels} channels")
    fig.suptitle(f"{source}: {count} filters {kh}×{kw}×{channels}\n{how}, showing {shown}", fontsize=8)
    return fig


def _feature_layers(model, layers):
    """The layers whose outputs to draw: given ones (names or layers), or every conv/pool layer."""
    import keras

    if layers is None:
        kinds = (
            keras.layers.Conv2D, keras.layers.MaxPooling2D, keras.layers.AveragePooling2D,
            keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D,
        )
        chosen = [layer for layer in model.layers if isinstance(layer, kinds)]
        if not chosen:
            raise ValueError(
                "The model has no Conv2D or pooling layer at its top level; pass `layers=[...]`. "
                f"Received: model={model.name!r}"
            )
        return chosen
    if isinstance(layers, (str, keras.layers.Layer)):
        layers = [layers]
    chosen = []
    for layer in layers:
        if isinstance(layer, str):
            try:
                layer = model.get_layer(layer)
            except ValueError:
                names = [lay.name for lay in model.layers]
                raise ValueError(f"No layer named {layer!r} in the model; it has {names}. Received: layers={layers!r}") from None
        chosen.append(layer)
    return chosen


@shows_itself
def feature_maps(model, image, layers=None, max_maps=8):
    """One image through a CNN: the input, then up to `max_maps` channels of each layer's output.

    Args:
        model: a built Keras model (functional, or Sequential with an `Input`).
        image: `(H, W, C)` or `(1, H, W, C)`, as the model expects it.
        layers: names or layer objects whose outputs to draw; default: every Conv2D and
            pooling layer at the model's top level.
        max_maps: draw at most this many channels per layer (the first ones).

    Returns:
        A `matplotlib.figure.Figure`: the input image first, then one row per layer,
        each channel scaled to its own range, titled with the layer name and output shape.

    Example:
        >>> fig = feature_maps(model, x_test[0], max_maps=4)  # doctest: +SKIP
    """
    import keras

    if isinstance(max_maps, bool) or not isinstance(max_maps, numbers.Integral) or max_maps < 1:
        raise ValueError(f"`max_maps` must be a positive int. Received: max_maps={max_maps!r}")
    image = np.asarray(image, dtype=np.float32)
    batch = image if image.ndim == 4 else image[None]                     # (1, H, W, C)
    if batch.ndim != 4 or batch.shape[0] != 1:
        raise ValueError(
            "`image` must be one image, (height, width, channels) or (1, height, width, channels). "
            f"Received: image.shape={image.shape}"
        )
    chosen = _feature_layers(model, layers)
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            "The model must be built with a known input, e.g. keras.Sequential([keras.Input(shape), ...]). "
            f"Received: model={model.name!r}"
        )
    if len(inputs) != 1:
        raise ValueError(f"`feature_maps` needs a model with one input. Received: {len(inputs)} inputs")
    probe = keras.Model(inputs=inputs[0], outputs=[layer.output for layer in chosen])
    outputs = probe(batch, training=False)
    outputs = [keras.ops.convert_to_numpy(o)[0] for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]

    ncols = max_maps
    rows = 1 + len(chosen)
    fig = NotebookFigure(figsize=(1.3 * ncols, 1.45 * rows + 0.4), layout="constrained")
    show_image(fig.add_subplot(rows, ncols, 1), batch[0], title=f"input {tuple(batch.shape[1:])}")
    for r, (layer, maps) in enumerate(zip(chosen, outputs), start=1):
        if maps.ndim == 2:
            maps = maps[..., None]                                         # (H, W) -> (H, W, 1)
        for c in range(min(maps.shape[-1], max_maps)):
            ax = fig.add_subplot(rows, ncols, r * ncols + c + 1)
            m = maps[..., c]                                               # (H', W')
            low, high = float(m.min()), float(m.max())
            show_image(ax, (m - low) / (high - low) if high > low else np.zeros_like(m), interpolation="nearest")
            if c == 0:
                ax.set_title(f"{layer.name} {tuple(maps.shape)}", fontsize=8, loc="left")
    fig.suptitle(f"feature maps of {model.name!r}", fontsize=9)
    return fig
