# Broken: conv_single_step and conv2d are missing.
# Expected: conv_output_size and zero_pad pass, the others ERROR "not defined": 7/18.
import numpy as np


def conv_output_size(input_size, kernel_size, strides=1, padding="valid"):
    if padding == "same":
        return -(-input_size // strides)
    pad = 0 if padding == "valid" else padding
    return (input_size + 2 * pad - kernel_size) // strides + 1


def _pair(value):
    return (value, value) if np.isscalar(value) else (value[0], value[1])


def _pads(n, k, s, padding, axis):
    if padding == "same":
        total = max((-(-n // s) - 1) * s + k - n, 0)
        return total // 2, total - total // 2
    p = 0 if padding == "valid" else _pair(padding)[axis]
    return p, p


def zero_pad(images, padding):
    p_h, p_w = _pair(padding)
    return np.pad(images, ((0, 0), (p_h, p_h), (p_w, p_w), (0, 0)))
