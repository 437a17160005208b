# Hostile: while the file is loaded, rewrites the grader's code in its own process (the
# comparison helpers, Context, run_check, the protocol's encoder) so that every check
# would pass, then answers every function with nonsense.
# Expected: 0/18. The checks run in the grader's process, which the patches never reach.
import numpy as np


class Patch:
    import autograder.checks as checks

    checks.compare_arrays = lambda *args, **kwargs: None
    checks.matches = lambda *args, **kwargs: True
    checks.Context.compare = lambda self, *args, **kwargs: None
    checks.Context.expect = lambda self, *args, **kwargs: None
    checks.run_check = lambda exercise, check, *args: checks.Result(
        check.name, check.function, check.points, check.points, "passed", "passed"
    )
    checks.PASSED = "failed"


def conv_output_size(input_size, kernel_size, strides=1, padding="valid"):
    return -1


def zero_pad(images, padding):
    return images[:1, :1]


def conv_single_step(window, kernel, bias=0.0):
    return -12345.0


def conv2d(images, kernel, bias=None, strides=1, padding="valid"):
    return np.zeros((1, 1, 1, 1))
