"""Reference `conv2d` (NumPy) against `tf.nn.conv2d`, same process, same inputs.

Shapes: images (64, 32, 32, 16), kernel (3, 3, 16, 32), stride 1, "same" and "valid".
Target: the reference at most 2x slower than TensorFlow (ratio <= 2.0).

    python benchmarks/bench_conv2d_vs_tf.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402 - after the TF log level

from autograder.reference import load_reference  # noqa: E402


def timings(fns, repeat):
    """Run the functions in turn, `repeat` rounds, so load changes hit both alike."""
    for fn in fns:
        fn()  # warm-up
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out in zip(fns, times):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    import tensorflow as tf

    conv2d = load_reference("ex01_convolution").conv2d
    rng = np.random.default_rng(0)
    images = rng.standard_normal((64, 32, 32, 16)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 16, 32)).astype(np.float32)
    x, k = tf.constant(images), tf.constant(kernel)
    print(f"threads: TF intra-op {tf.config.threading.get_intra_op_parallelism_threads() or 'default'}, cores {os.cpu_count()}")
    print(f"{'padding':<8} {'numpy min ms':>13} {'tf min ms':>10} {'ratio (min)':>12} {'ratio (median)':>15}")
    for padding in ("same", "valid"):
        got = conv2d(images, kernel, padding=padding)
        want = tf.nn.conv2d(x, k, strides=1, padding=padding.upper()).numpy()
        assert np.allclose(got, want, atol=1e-3), "reference and TensorFlow disagree"
        ours, theirs = timings(
            [
                lambda: conv2d(images, kernel, padding=padding),
                lambda: tf.nn.conv2d(x, k, strides=1, padding=padding.upper()).numpy(),
            ],
            args.repeat,
        )
        print(
            f"{padding:<8} {min(ours) * 1e3:>13.1f} {min(theirs) * 1e3:>10.1f} "
            f"{min(ours) / min(theirs):>12.2f} {statistics.median(ours) / statistics.median(theirs):>15.2f}"
        )

if __name__ == "__main__":
    main()
