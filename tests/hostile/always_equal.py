# Hostile: returns objects that claim to equal anything: a class whose __eq__ is always
# True, int/float/ndarray subclasses with the same trick, an object with __array__.
# Expected: 0/18. Only plain values cross the boundary, compared by the grader.
import numpy as np


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return 0

    def __array__(self, dtype=None, copy=None):
        return np.zeros(0)

    def __float__(self):
        return 0.0


class EqualInt(int):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = int.__hash__


class EqualFloat(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = float.__hash__


class EqualArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    def __ne__(self, other):
        return np.zeros(np.shape(other), dtype=bool)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(0)


def conv_output_size(input_size, kernel_size, strides=1, padding="valid"):
    return EqualInt(0)


def zero_pad(images, padding):
    return AlwaysEqual()


def conv_single_step(window, kernel, bias=0.0):
    return EqualFloat(-1.0)


def conv2d(images, kernel, bias=None, strides=1, padding="valid"):
    return np.zeros((1, 2, 3, 4)).view(EqualArray)
