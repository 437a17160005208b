"""Calibrate ex04's accuracy bar: the reference `build_cnn` under the grading budget, over seeds.

The grader trains `build_cnn((28, 28, 1), 10)` for `EPOCHS` epochs with batch size
`BATCH_SIZE` on the upsampled digits and scores held-out accuracy with one fixed seed.
This script runs the same probe with seeds 0..N-1 and prints the accuracy of each, their
minimum, mean and maximum, and the margin between the minimum and `ACCURACY_BAR`.

    python benchmarks/calibrate_ex04_accuracy.py                 # the reference, 10 seeds
    python benchmarks/calibrate_ex04_accuracy.py --seeds 5 --file my_ex04.py
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="how many seeds (0..N-1)")
    parser.add_argument("--file", help="a submission to calibrate instead of the reference")
    args = parser.parse_args()

    import numpy as np

    from autograder.exercises import ex04_keras_cnn as ex
    from autograder.loading import load
    from autograder.reference import load_reference

    student = load(args.file) if args.file else load_reference(ex.EXERCISE.name)
    (x_train, y_train), (x_test, y_test) = ex.grading_data()
    print(
        f"budget: {ex.EPOCHS} epochs, batch size {ex.BATCH_SIZE}, {len(x_train)} training and "
        f"{len(x_test)} held-out digits of {ex.GRADING_SHAPE}; grading seed {ex.SEED}"
    )
    accuracies = []
    for seed in range(args.seeds):
        start = time.perf_counter()
        info = ex.EXERCISE.probes["train_and_predict"](
            student,
            input_shape=list(ex.GRADING_SHAPE),
            num_classes=ex.GRADING_CLASSES,
            x_train=x_train,
            y_train=y_train,
            x_test=x_test,
            epochs=ex.EPOCHS,
            batch_size=ex.BATCH_SIZE,
            seed=seed,
        )
        if "error" in info:
            print(f"seed {seed}: error {info['error']}")
            return 1
        accuracy = float(np.mean(info["outputs"].argmax(axis=1) == y_test))
        accuracies.append(accuracy)
        print(f"seed {seed}: accuracy {accuracy:.4f}  ({time.perf_counter() - start:.1f} s)", flush=True)
    low, mean, high = min(accuracies), float(np.mean(accuracies)), max(accuracies)
    print(f"min {low:.4f}  mean {mean:.4f}  max {high:.4f}  std {float(np.std(accuracies)):.4f}")
    print(f"bar {ex.ACCURACY_BAR:.2f}: margin below the minimum {low - ex.ACCURACY_BAR:+.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
