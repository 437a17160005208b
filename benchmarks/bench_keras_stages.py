"""Where the time of grading one Keras submission goes, stage by stage.

Two views of the same submission (the exercise's solution by default):

1. `cnnex grade`'s path (`Grader.report`, isolated, hidden checks included), timed from the
   grader's side: starting the zygote (interpreter + TensorFlow/Keras import), the
   student's children (fork + loading the file), the builds (student's code + saving the
   `.keras` file), the measuring children and each measurement, ending children, and
   each check's own time. Graded `--repeat` times with one zygote (the first run pays
   nothing more than the later ones: the zygote starts before).
2. The staged probes' pieces in one process, each timed alone: `import tensorflow`,
   building and saving the model, loading it with `safe_mode=True`, describing it, and
   training it (time per epoch) and predicting, as the measuring child does.

    python benchmarks/bench_keras_stages.py
    python benchmarks/bench_keras_stages.py --exercise ex05 --repeat 1
    python benchmarks/bench_keras_stages.py --file my_submission.py
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PIECES = r"""
import os, sys, tempfile, time
t0 = time.perf_counter()
import tensorflow
import keras
import numpy as np
t1 = time.perf_counter()
print(f"import tensorflow + keras          {t1 - t0:6.2f} s")
from autograder import exercises
from autograder.loading import load
exercise = exercises.get(sys.argv[1])
student = load(sys.argv[2])
module = __import__(f"autograder.exercises.{exercise.name}", fromlist=["x"])
probes = exercise.probes
if "train_and_predict" not in probes or not hasattr(module, "GRADING_SHAPE"):
    print("(no training probe with GRADING_SHAPE here)")
    sys.exit(0)
shape, classes = list(module.GRADING_SHAPE), module.GRADING_CLASSES
stage = probes["train_and_predict"].stage
s = time.perf_counter()
built = stage.build(student, input_shape=shape, num_classes=classes, seed=0)
model = built["models"]["model"]
b = time.perf_counter()
path = os.path.join(tempfile.mkdtemp(), "m.keras")
model.save(path)
v = time.perf_counter()
loaded = keras.saving.load_model(path, safe_mode=True)
l = time.perf_counter()
print(f"build the student's model          {b - s:6.2f} s")
print(f"save it (.keras, {os.path.getsize(path) / 2**20:.1f} MB)            {v - b:6.2f} s")
print(f"load it with safe_mode=True        {l - v:6.2f} s")
(x_train, y_train), (x_test, y_test) = module.grading_data()
epochs = []
class Epochs(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        epochs.append(time.perf_counter())
fit = keras.Model.fit
def timed_fit(self, *args, **kwargs):
    kwargs["callbacks"] = [Epochs()]
    return fit(self, *args, **kwargs)
keras.Model.fit = timed_fit
start = time.perf_counter()
out = stage.measure({"models": {"model": loaded}, "type": "Sequential"}, input_shape=shape, num_classes=classes,
                    x_train=x_train, y_train=y_train, x_test=x_test, epochs=module.EPOCHS,
                    batch_size=module.BATCH_SIZE, seed=0)
end = time.perf_counter()
marks = [start] + epochs
print(f"train_and_predict measure          {end - start:6.2f} s: {len(x_train)} images x {module.EPOCHS} epochs")
print("    epochs: " + ", ".join(f"{b - a:.2f}" for a, b in zip(marks, marks[1:])) + " s; "
      f"clone + compile before, predict after: {end - start - (marks[-1] - marks[0]):.2f} s")
print(f"    held-out accuracy {float(np.mean(out['outputs'].argmax(1) == y_test)):.3f}")
"""


def grader_stages(exercise: str, path: Path, repeat: int) -> None:
    """Time `Grader.report` on `path` from the grader's side, by wrapping the isolation's methods."""
    from autograder import grading
    from autograder.isolation import measuring, proxy, zygote

    seconds: dict[str, float] = collections.defaultdict(float)
    counts: collections.Counter = collections.Counter()

    def wrap(owner, name: str, label: str) -> None:
        function = getattr(owner, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[label] += time.perf_counter() - start
                counts[label] += 1

        setattr(owner, name, timed)

    wrap(zygote.Zygote, "spawn", "fork a child (zygote.spawn)")
    wrap(zygote.Zygote, "finish", "end a child and all it started (zygote.finish)")
    wrap(proxy.IsolatedStudent, "_start", "student's child: fork + load the file")
    wrap(proxy.IsolatedStudent, "_answer", "student's child: calls and builds (+ save)")
    wrap(measuring.Measurer, "measure", "measuring child: send, load model, measure")
    wrap(proxy.IsolatedStudent, "run_probe", "probes in all (build + measure)")
    with tempfile.TemporaryDirectory() as out:
        grader = grading.Grader(exercise, grading.Options(), [], out)
        start = time.perf_counter()
        grader.zygote  # noqa: B018 - starts it
        print(f"start the zygote (interpreter + imports, once per grading process): {time.perf_counter() - start:.2f} s")
        try:
            for run in range(repeat):
                seconds.clear()
                counts.clear()
                start = time.perf_counter()
                report, _ = grader.report(path)
                total = time.perf_counter() - start
                print(f"run {run + 1}: {total:.2f} s, score {report.score:g}/{report.max_score:g}, "
                      f"load average {os.getloadavg()[0]:.2f}")
                for label in sorted(seconds, key=seconds.get, reverse=True):
                    print(f"    {seconds[label]:6.2f} s  x{counts[label]:<3} {label}")
                for result in report.results:
                    print(f"    {result.seconds:6.2f} s  check: {result.name[:90]}")
        finally:
            grader.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", default="ex04")
    parser.add_argument("--file", type=Path, help="the submission (default: the solution)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    from autograder import exercises
    from autograder.reference import solution_path

    exercise = exercises.get(args.exercise)
    path = args.file or solution_path(exercise.name)
    print(f"{exercise.name}: {path}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print("--- cnnex grade's path, from the grader's side")
    grader_stages(exercise.name, path, args.repeat)
    print("--- the staged probes' pieces, in one process")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", PIECES, exercise.name, str(path)], env=env, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
