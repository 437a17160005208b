"""Cost of one submission under `cnnex grade`, alone and in a batch, as a multiple of `import tensorflow`.

For each exercise (ex01, ex04, ex05 by default) and each checkout (this one, and with
`--compare CHECKOUT` another one, e.g. main's code as it was before a change), prints:

- alone: one submission graded by `cnnex grade EXERCISE FOLDER --jobs 1` in a fresh
  process, end to end (interpreter start, zygote start, grading, gradebook);
- batch: `N` distinct submissions (the solution and edits of it that change the
  architecture or the code, so that no cache can make a copy free) graded with
  `--jobs 2`, end to end; the cost of one submission is the wall time divided by `N`;
- each as a ratio to `python -c "import tensorflow"`, timed in the same run, before and
  after each exercise's gradings (the median of those runs is the unit);
- the load average (`os.getloadavg()`) when each figure was measured.

Checkouts are graded alternately so that other load on the machine hits both alike. Isolation
and hidden checks are included, as `cnnex grade` always does.

Targets (issue 9): in a `--jobs 2` batch on 2 cores an ex04 submission costs <= 0.5 x the
import, an ex05 submission <= 0.75 x; a single submission graded alone <= 1.5 x.

Usage:
    git archive main | tar -x -C /tmp/before     # a frozen copy of the code before the change
    python benchmarks/bench_keras_batch.py --compare /tmp/before
    python benchmarks/bench_keras_batch.py --exercises ex04 --batch 6 --repeat 2
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"ex04": 0.5, "ex05": 0.75}  # batch cost per submission, in imports of TensorFlow
ALONE_TARGET = 1.5

# Edits of each solution's text that keep it correct but change what it builds or runs:
# a batch of distinct submissions. (old, new) pairs; the first variant is the solution itself.
VARIANTS = {
    "ex01": [
        ("weights = kernel.reshape(", "weights = kernel[::-1, ::-1].reshape("),  # flipped kernel (a mistake)
        ("out = out + np.asarray(bias)", "pass"),  # bias missing (a mistake)
        ("return -(-input_size // strides)", "return input_size // strides"),  # "same" floors (a mistake)
        ("(pad_h, pad_h), (pad_w, pad_w)", "(pad_w, pad_w), (pad_h, pad_h)"),  # paddings swapped (a mistake)
        ("float(np.sum(window * kernel) + bias)", "float(np.mean(window * kernel) + bias)"),  # mean (a mistake)
    ],
    "ex04": [
        ("layers.Conv2D(32, 3,", "layers.Conv2D(24, 3,"),
        ("layers.Dense(64, activation=\"relu\")", "layers.Dense(48, activation=\"relu\")"),
        ("layers.Conv2D(64, 3,", "layers.Conv2D(48, 3,"),
        ("learning_rate=1e-3", "learning_rate=2e-3"),
        ("layers.Conv2D(32, 3,", "layers.Conv2D(16, 3,"),
    ],
    "ex05": [
        ("layers.Dropout(0.2)", "layers.Dropout(0.3)"),
        ("layers.Dropout(0.2)(x)", "x"),
        ("learning_rate=1e-3", "learning_rate=5e-4"),
        ("layers.GlobalAveragePooling2D()(x)", "layers.GlobalMaxPooling2D()(x)"),
        ("layers.Dropout(0.2)", "layers.Dropout(0.1)"),
    ],
}


def make_class(folder: Path, exercise: str, n: int) -> None:
    """`n` distinct submissions of `exercise`: the solution, then its variants (cycled, stacked)."""
    text = next((ROOT / "solutions").glob(f"{exercise}_*.py")).read_text()
    folder.mkdir(parents=True)
    variants = VARIANTS[exercise]
    for old, _ in variants:
        if old not in text:
            raise SystemExit(f"the {exercise} solution changed: {old!r} is not in it")
    for i in range(n):
        edited = text
        for k in range(i):  # submission i applies variants 0..i-1: no two alike
            old, new = variants[k % len(variants)]
            edited = edited.replace(old, new, 1) if old in edited else edited + f"\n# variant {k}\n"
        (folder / f"s{i:02d}.py").write_text(edited)


def tensorflow_import_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=True)
    return time.perf_counter() - start


def grade(folder: Path, out: Path, exercise: str, jobs: int, checkout: Path) -> tuple[float, float, str]:
    """`cnnex grade` with the code of `checkout` in a fresh process: (wall s, load average, summary)."""
    command = [sys.executable, "-m", "autograder.cli", "grade", exercise, str(folder), "--out", str(out),
               "--jobs", str(jobs), "--force"]
    env = {**os.environ, "PYTHONPATH": str(checkout), "TF_CPP_MIN_LOG_LEVEL": "3"}
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, cwd=checkout, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"cnnex grade failed ({proc.returncode}) with {checkout}:\n{proc.stdout}\n{proc.stderr}")
    with open(out / "gradebook.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    totals = " ".join(f"{r.get('total') or '-'}/{r.get('max_score') or '-'}" for r in rows)
    return wall, (load + os.getloadavg()[0]) / 2, f"scores {totals}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercises", default="ex01,ex04,ex05", help="comma-separated short names")
    parser.add_argument("--batch", type=int, default=4, help="distinct submissions per batch (default 4)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="runs per checkout, alternated (best kept)")
    parser.add_argument("--compare", type=Path, metavar="CHECKOUT", help="also grade with this checkout's code")
    args = parser.parse_args()
    checkouts = {"this checkout": ROOT}
    if args.compare:
        checkouts[f"{args.compare}"] = args.compare.resolve()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; batch of {args.batch} distinct submissions, "
          f"--jobs {args.jobs}; load average at start {os.getloadavg()[0]:.2f}")
    imports: list[float] = []
    table = []
    with tempfile.TemporaryDirectory(prefix="cnnex-bench-") as tmp:
        for exercise in args.exercises.split(","):
            alone, batch = Path(tmp) / exercise / "alone", Path(tmp) / exercise / "batch"
            make_class(batch, exercise, args.batch)
            alone.mkdir()
            shutil.copy(batch / "s01.py", alone / "s01.py")
            imports.append(tensorflow_import_seconds())
            for name, checkout in checkouts.items():
                best = {}
                for run in range(args.repeat):  # alternated between checkouts by the outer loops
                    for kind, folder, jobs in (("alone", alone, 1), ("batch", batch, args.jobs)):
                        out = Path(tmp) / f"out-{exercise}-{kind}-{run}-{abs(hash(name))}"
                        wall, load, summary = grade(folder, out, exercise, jobs, checkout)
                        per = wall / len(list(folder.iterdir()))
                        if kind not in best or per < best[kind][0]:
                            best[kind] = (per, wall, load, summary)
                table.append((exercise, name, best))
            imports.append(tensorflow_import_seconds())
    unit = statistics.median(imports)
    print(f'python -c "import tensorflow": {unit:.2f} s (median of {len(imports)}: '
          + ", ".join(f"{t:.2f}" for t in imports) + ")")
    for exercise, name, best in table:
        for kind in ("alone", "batch"):
            per, wall, load, summary = best[kind]
            target = ALONE_TARGET if kind == "alone" else TARGETS.get(exercise)
            verdict = "" if target is None else f" (target <= {target:g} x: {'met' if per / unit <= target else 'NOT met'})"
            print(f"{exercise} {kind:5} [{name}]: {per:6.2f} s per submission = {per / unit:5.2f} x import"
                  f"{verdict}; {wall:.1f} s wall, load {load:.2f}; {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
