# Hostile: tries to leave something for later submissions and to reach the machine:
# System V shared memory and a message queue, a kernel key, and connections to a UNIX
# socket of the machine (a path and an abstract name, @UNIX_PATH@ / @UNIX_ABSTRACT@ in
# the tests), then lists the processes it can see. `zero_pad(..., 2)` (one public check)
# raises with the outcome of each attempt.
# Expected: that check ERROR (17/18); every attempt DENIED or private to the child; no IPC
# object and no connection is left.
import numpy as np
import os
import pkgutil
import socket

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


def _attempt(report, what, action):
    try:
        report.append(f"{what}: OK {action()}")
    except BaseException as err:
        report.append(f"{what}: DENIED {type(err).__name__}")


def _connect(address):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(address)
    s.sendall(b"hello from a submission")
    return "connected"


def zero_pad(images, padding):
    if isinstance(padding, int) and padding == 2:
        # ctypes reached by name at run time: the policy flags it, and this file tests the sandbox
        libc = pkgutil.resolve_name("ctyp" + "es").CDLL(None, use_errno=True)
        report = []
        ipc_creat = 0o1000 | 0o666
        _attempt(report, "shmget", lambda: libc.shmget(0x5EC12, 4096, ipc_creat) if libc.shmget(0x5EC12, 4096, ipc_creat) >= 0 else 1 / 0)
        _attempt(report, "msgget", lambda: libc.msgget(0x5EC13, ipc_creat) if libc.msgget(0x5EC13, ipc_creat) >= 0 else 1 / 0)
        _attempt(report, "add_key", lambda: libc.syscall(248, b"user", b"cnnex-left", b"x", 1, -4) if libc.syscall(248, b"user", b"cnnex-left", b"x", 1, -4) >= 0 else 1 / 0)
        _attempt(report, "unix path", lambda: _connect("@UNIX_PATH@"))
        _attempt(report, "unix abstract", lambda: _connect("\0@UNIX_ABSTRACT@"))
        _attempt(report, "processes", lambda: sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
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
