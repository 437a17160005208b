# Hostile: every function sleeps just under the time limit per check (`--timeout 1`) on every
# call, then answers correctly. A check that calls a function once passes after 0.9 s, so the
# time limit per check alone lets the file cost about one limit per check; the submission's
# time budget (`--budget`) bounds the whole: past it, the remaining checks report TIMEOUT at
# once. Graded by tests/test_budget.py, not by the hostile batch (which skips folders).
import time

import numpy as np

PAUSE = 0.9  # just under `--timeout 1`


def conv_output_size(input_size, kernel_size, strides=1, padding="valid"):
    time.sleep(PAUSE)
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
    time.sleep(PAUSE)
    p_h, p_w = _pair(padding)
    return np.pad(images, ((0, 0), (p_h, p_h), (p_w, p_w), (0, 0)))


def conv_single_step(window, kernel, bias=0.0):
    time.sleep(PAUSE)
    return float(np.sum(window * kernel) + np.sum(bias))


def conv2d(images, kernel, bias=None, strides=1, padding="valid"):
    time.sleep(PAUSE)
    s_h, s_w = _pair(strides)
    kh, kw, _, f = kernel.shape
    top, bottom = _pads(images.shape[1], kh, s_h, padding, 0)
    left, right = _pads(images.shape[2], kw, s_w, padding, 1)
    x = np.pad(images, ((0, 0), (top, bottom), (left, right), (0, 0)))
    out_h = (x.shape[1] - kh) // s_h + 1
    out_w = (x.shape[2] - kw) // s_w + 1
    out = np.zeros((x.shape[0], out_h, out_w, f))
    for u in range(kh):
        for v in range(kw):
            out += x[:, u : u + s_h * out_h : s_h, v : v + s_w * out_w : s_w, :] @ kernel[u, v]
    return out if bias is None else out + bias
