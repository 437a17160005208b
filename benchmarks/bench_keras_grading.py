"""Wall time of grading one ex04, ex05 and ex07 submission (the reference solutions), in-process.

Targets: ex04 and ex07 <= 20 s (training included), ex05 <= 60 s, on a 2-core CPU. Each exercise is
graded in a fresh Python process (`autograder.runner.check_file(..., hidden=True)`), so the
figure includes importing the backend, as a first `cnnex check` would; the time of the
grading call alone is printed beside it.

    python benchmarks/bench_keras_grading.py
    KERAS_BACKEND=jax python benchmarks/bench_keras_grading.py
    python benchmarks/bench_keras_grading.py --repeat 3 --exercises ex07_video
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"ex04_keras_cnn": 20.0, "ex05_vgg16_finetune": 60.0, "ex07_video": 20.0}

CHILD = """
import json, sys, time
start = time.perf_counter()
from autograder.runner import check_file
import keras
imported = time.perf_counter()
report = check_file(sys.argv[1], sys.argv[2], hidden=True)
done = time.perf_counter()
print("RESULT " + json.dumps({
    "backend": keras.backend.backend(),
    "score": report.score,
    "max_score": report.max_score,
    "import_s": imported - start,
    "grading_s": done - imported,
    "checks": {r.name: round(r.seconds, 2) for r in report.results},
}))
"""


def grade_once(exercise: str) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    path = ROOT / "solutions" / f"{exercise}.py"
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, exercise, str(path)], capture_output=True, text=True,
                         env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode or not lines:
        raise SystemExit(f"grading {exercise} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return {"wall_s": wall, **json.loads(lines[-1][len("RESULT "):])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="grade each exercise this many times")
    parser.add_argument("--checks", action="store_true", help="also print the time of every check")
    parser.add_argument("--exercises", default=",".join(TARGETS), help="comma-separated (default: all three)")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"KERAS_BACKEND={os.environ.get('KERAS_BACKEND', 'tensorflow (default)')}")
    for exercise in args.exercises.split(","):
        target = TARGETS[exercise]
        for run in range(args.repeat):
            r = grade_once(exercise)
            verdict = "within" if r["wall_s"] <= target else "OVER"
            print(
                f"{exercise:<22} run {run + 1}: {r['wall_s']:5.1f} s wall "
                f"(import {r['import_s']:.1f} s + grading {r['grading_s']:.1f} s), "
                f"score {r['score']:g}/{r['max_score']:g}, backend {r['backend']}, "
                f"target {target:.0f} s: {verdict}"
            )
            if args.checks:
                for name, seconds in r["checks"].items():
                    print(f"    {seconds:6.2f} s  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
