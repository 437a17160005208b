# Hostile: tries to read the reference solution, the hidden checks, the repository's
# history, other submissions, the output folder and the grader's process, and looks for
# grader modules in its own memory. `zero_pad(..., 2)` (one public check) raises with a
# report of what it could read.
# Expected: that check ERROR with every attempt DENIED (17/18).
# @REPO@, @OUT@ and @SUBMISSIONS@ are replaced by real paths in the tests.
import numpy as np
import os


class Look:
    import pkgutil  # reached through pkgutil so that the policy lets it run and the sandbox is tested

    try:
        checks = pkgutil.resolve_name("autograder.exercises.ex01_convolution")
        found = "OK " + str(len(checks.EXERCISE.checks))
    except BaseException as err:
        found = "DENIED " + type(err).__name__
    modules = pkgutil.resolve_name("s" + "ys")

    loaded = [m for m in modules.modules if m.startswith(("autograder.exercises", "autograder.reference", "solutions"))]
    with open("import.txt", "w") as f:
        f.write(f"import hidden checks: {found}\ngrader modules in memory: {('OK ' + str(loaded)) if loaded else 'DENIED'}\n")


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
        report = [open("import.txt").read()]
        targets = [
            "@REPO@/solutions/ex01_convolution.py",
            "@REPO@/autograder/exercises/ex01_convolution.py",
            "@REPO@/.git/HEAD",
            "@SUBMISSIONS@/honest.py",
            "@OUT@/honest/results.json",
            f"/proc/{os.getppid()}/environ",
            f"/proc/{os.getppid()}/mem",
            f"/proc/{os.getppid()}/cwd/solutions/ex01_convolution.py",
        ]
        for path in targets:
            try:
                with open(path, "rb") as f:
                    report.append(f"read {path}: OK {f.read(20)!r}")
            except BaseException as err:
                report.append(f"read {path}: DENIED {type(err).__name__}")
        for folder in ["@REPO@", "@REPO@/solutions", "@SUBMISSIONS@", "@OUT@"]:
            try:
                report.append(f"list {folder}: OK {sorted(os.listdir(folder))[:5]}")
            except BaseException as err:
                report.append(f"list {folder}: DENIED {type(err).__name__}")
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
