"""How checks show what they called and what came back: signatures, shapes with axis names."""

from __future__ import annotations

from typing import Any

import numpy as np

def describe(value: Any) -> str:
    """A short description of an argument for the "what was checked" line."""
    if isinstance(value, np.ndarray):
        return f"array {tuple(value.shape)}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"{type(value).__name__} of {len(value)}"
    return repr(value)


def signature(function: str, args: tuple, kwargs: dict, names: tuple[str, ...] = ()) -> str:
    """`conv2d(images (2, 7, 6, 3), kernel (3, 3, 3, 4), padding='same')`: arrays by name and shape."""
    parts = []
    for i, a in enumerate(args):
        if i < len(names) and isinstance(a, np.ndarray):
            parts.append(f"{names[i]} {tuple(a.shape)}")
        else:
            parts.append(describe(a))
    parts += [f"{k}={describe(v)}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


def format_shape(shape: tuple, axes: tuple[str, ...] | None) -> str:
    if axes and len(axes) == len(shape):
        return "(" + ", ".join(f"{a}={n}" for a, n in zip(axes, shape)) + ")"
    return str(tuple(shape))


# what usually makes one axis of an output come out the wrong size
_SIZE_CAUSE = (
    "the output size comes from the kernel (or window) size, the padding and the strides: "
    "`(n + 2p - k) // s + 1`, or `ceil(n / s)` for 'same'"
)
_AXIS_CAUSES = {
    "batch": "every image of the batch needs its own output: loop over (or broadcast along) axis 0",
    "height": _SIZE_CAUSE,
    "width": _SIZE_CAUSE,
    "out_height": _SIZE_CAUSE,
    "out_width": _SIZE_CAUSE,
    "channels": "pooling and padding keep the input's channels; a convolution has one per filter",
    "filters": "one output channel per filter: the kernel's last axis",
}


def shape_diagnosis(got: tuple, expected: tuple, axes: tuple[str, ...] | None) -> str:
    """Which axis is off, and its likely cause: "\n  height is 7, expected 5: ...", or ""."""
    if len(got) != len(expected):
        named = f" ({', '.join(axes)})" if axes and len(axes) == len(expected) else ""
        return f"\n  {len(got)} axes, expected {len(expected)}{named}"
    names = axes if axes and len(axes) == len(expected) else [f"axis {i}" for i in range(len(expected))]
    lines, told = [], set()
    for name, g, e in zip(names, got, expected):
        if g != e:
            cause = _AXIS_CAUSES.get(name)
            lines.append(f"\n  {name} is {g}, expected {e}" + (f": {cause}" if cause and cause not in told else ""))
            told.add(cause)
    if sorted(got) == sorted(expected) and len(lines) > 1:
        lines.append("\n  the same sizes in another order: are two axes swapped (a transpose, or H and W mixed up)?")
    return "".join(lines)


def fmt(x: Any) -> str:
    """A number as messages show it: floats to 6 significant digits, NumPy scalars as Python ones."""
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.6g}"
    return repr(x.item() if isinstance(x, np.generic) else x)


