# Hostile: returns NumPy arrays of dtype object (holding objects that equal anything) and
# a structured array, hoping the grader unpickles or compares them element by element.
# Expected: 0/18. Object and structured arrays never cross the boundary.
import numpy as np


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __float__(self):
        return 0.0


def _objects(shape):
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        out[index] = AlwaysEqual()
    return out


def conv_output_size(input_size, kernel_size, strides=1, padding="valid"):
    return np.array(AlwaysEqual(), dtype=object)


def zero_pad(images, padding):
    p = padding if isinstance(padding, int) else max(padding)
    n, h, w, c = images.shape
    return _objects((n, h + 2 * p, w + 2 * p, c))


def conv_single_step(window, kernel, bias=0.0):
    return np.zeros(1, dtype=[("value", "f8"), ("other", "O")])


def conv2d(images, kernel, bias=None, strides=1, padding="valid"):
    n, h, w, _ = images.shape
    return _objects((n, h, w, kernel.shape[-1]))
