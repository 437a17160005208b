"""Calibrate ex07's bars: a model that uses time against models that cannot, over seeds.

The grader trains `build_video_classifier(GRADING_SHAPE, 4)` for `EPOCHS` epochs with batch
size `BATCH_SIZE` on `N_TRAIN` generated clips and scores, on `N_TEST` other clips, the
accuracy and, of the clips predicted right, the share whose predicted direction flips when
played backwards,
with one fixed seed. This script runs the same probe with seeds 0..N-1 (each seed draws
new clips and new initial weights) for

    reference       the reference solution (3D convolutions)
    single_frame    a CNN that sees the last frame only (the `single_frame` mutant)
    order_invariant a per-frame CNN pooled over time (the `order_invariant` mutant)

and prints each run, the minimum / mean / maximum per model, and the margins: the lowest
valid result above each bar, the highest invalid one below it.

    python benchmarks/calibrate_ex07_accuracy.py                  # 5 seeds, the three models
    python benchmarks/calibrate_ex07_accuracy.py --seeds 3 --file my_ex07.py
"""

from __future__ import annotations

import argparse
import os
import time
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="how many seeds (0..N-1)")
    parser.add_argument("--file", help="a submission to calibrate instead of the reference")
    parser.add_argument("--only-file", action="store_true", help="skip the two time-blind models")
    args = parser.parse_args()

    import numpy as np

    from autograder.exercises import ex07_video as ex
    from autograder.loading import load
    from autograder.reference import load_reference
    from cnnexercises.datasets import load_moving_shapes

    mutants = {m.name: m.impl for m in ex.EXERCISE.mutants[ex.FUNCTION]}
    models = {
        "reference" if not args.file else args.file: load(args.file) if args.file else load_reference(ex.EXERCISE.name),
        "single_frame": types.SimpleNamespace(build_video_classifier=mutants["single_frame"]),
        "order_invariant": types.SimpleNamespace(build_video_classifier=mutants["order_invariant"]),
    }
    if args.only_file:
        models = dict(list(models.items())[:1])
    frames, size, _, channels = ex.GRADING_SHAPE
    print(
        f"budget: {ex.EPOCHS} epochs, batch size {ex.BATCH_SIZE}, {ex.N_TRAIN} training and {ex.N_TEST} "
        f"held-out clips of {ex.GRADING_SHAPE}; grading seed {ex.SEED}; "
        f"bars: accuracy {ex.ACCURACY_BAR:.2f}, flipped {ex.FLIP_BAR:.2f}"
    )
    results = {name: [] for name in models}
    for seed in range(args.seeds):
        (x_train, y_train), (x_test, y_test) = load_moving_shapes(
            ex.N_TRAIN, ex.N_TEST, frames=frames, image_size=size, channels=channels, seed=seed
        )
        for name, student in models.items():
            start = time.perf_counter()
            info = ex.EXERCISE.probes["train_and_predict"](
                student, input_shape=list(ex.GRADING_SHAPE), num_classes=ex.GRADING_CLASSES,
                x_train=x_train, y_train=y_train, x_test=x_test, epochs=ex.EPOCHS,
                batch_size=ex.BATCH_SIZE, seed=seed,
            )
            if "error" in info:
                print(f"{name} seed {seed}: error {info['error']}")
                return 1
            predicted = info["outputs"].argmax(axis=1)
            backwards = info["reversed_outputs"].argmax(axis=1)
            accuracy = float(np.mean(predicted == y_test))
            flipped = ex.flipped_share(predicted, backwards, y_test)
            results[name].append((accuracy, flipped))
            print(f"{name:>16} seed {seed}: accuracy {accuracy:.3f}  flipped {flipped:.3f}  "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)
    print()
    for name, runs in results.items():
        acc, flip = np.array(runs).T
        print(f"{name:>16}: accuracy min {acc.min():.3f} mean {acc.mean():.3f} max {acc.max():.3f}   "
              f"flipped min {flip.min():.3f} mean {flip.mean():.3f} max {flip.max():.3f}")
    valid = np.array(next(iter(results.values())))
    invalid = np.array([r for name, runs in list(results.items())[1:] for r in runs] or [(np.nan, np.nan)])
    for column, label, bar in ((0, "accuracy", ex.ACCURACY_BAR), (1, "flipped", ex.FLIP_BAR)):
        print(f"{label} bar {bar:.2f}: valid model's minimum {valid[:, column].min() - bar:+.3f} above it, "
              f"time-blind models' maximum {invalid[:, column].max() - bar:+.3f} from it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
