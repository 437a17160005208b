"""Window geometry along one axis, as Keras reads `kernel_size`, `pool_size`, `strides` and `padding`.

The exercises' plain implementations and mutants share these, so that a mutant differs
from the reference by its one mistake, never by a second reading of the arguments.

Glossary: `n` input size, `k` kernel (or window) size, `s` stride, all along one axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def pair(value: Any) -> tuple[int, int]:
    """`(h, w)` from an int or a pair of ints (Python or NumPy integers; a bool is neither).

    Example:
        >>> pair(3), pair((2, np.int64(1)))
        ((3, 3), (2, 1))

    Raises:
        ValueError: `value` is not an int or a pair of ints.
    """
    if _is_int(value):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        return int(value[0]), int(value[1])
    raise ValueError(f"Expected an int or a pair of ints. Received: value={value!r}")


def triple(value: Any) -> tuple[int, int, int]:
    """`(t, h, w)` from an int or a triple of ints, as `keras.layers.Conv3D` reads `kernel_size`.

    Raises:
        ValueError: `value` is not an int or a triple of ints.
    """
    if _is_int(value):
        return (int(value),) * 3
    if isinstance(value, (tuple, list)) and len(value) == 3 and all(_is_int(v) for v in value):
        return int(value[0]), int(value[1]), int(value[2])
    raise ValueError(f"Expected an int or a triple of ints. Received: value={value!r}")


def same_padding(n: int, k: int, s: int) -> tuple[int, int]:
    """Zeros `(before, after)` for `padding="same"`: `ceil(n / s)` outputs, the odd extra one after."""
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def pads(n: int, k: int, s: int, padding: Any, axis: int) -> tuple[int, int]:
    """Zeros `(before, after)` along `axis` (0 height, 1 width) for "valid", "same", an int or a pair."""
    if isinstance(padding, str) and padding == "valid":
        return 0, 0
    if isinstance(padding, str) and padding == "same":
        return same_padding(n, k, s)
    p = pair(padding)[axis]
    return p, p


def windows(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """`(number of windows, start of the first)` of pooling with "valid" or "same" padding.

    With "same" the first window starts before the image (`start < 0`): its cells outside
    the image are left out, as Keras' pooling does.
    """
    if padding == "valid":
        return (n - k) // s + 1, 0
    return -(-n // s), -same_padding(n, k, s)[0]
