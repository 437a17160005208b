"""Feedback latency: wall time of `pytest <student file>` with correct work, per NumPy exercise.

Target: <= 1.5 s on a 2-core laptop CPU. Also reports whether TensorFlow got imported
while checking (it must not be for the NumPy exercises).

    python benchmarks/bench_feedback_latency.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder import exercises

ROOT = Path(__file__).resolve().parent.parent
NUMPY_EXERCISES = exercises.recorded()

PROBE = """
import sys
from autograder.runner import check_file
report = check_file({name!r}, {path!r})
print(int(report.score == report.max_score), int("tensorflow" in sys.modules), int("keras" in sys.modules))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'exercise':<20} {'median s':>9} {'min s':>7} {'full marks':>11} {'tensorflow':>11}")
    for name in NUMPY_EXERCISES:
        solution = ROOT / "solutions" / f"{name}.py"
        if not solution.exists():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            student = Path(tmp) / f"{name}.py"  # the student's own file, in their own folder
            shutil.copy(solution, student)
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                run = subprocess.run(
                    [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(student)],
                    cwd=tmp,
                    capture_output=True,
                    text=True,
                )
                times.append(time.perf_counter() - start)
                if run.returncode != 0:
                    print(run.stdout[-2000:])
                    raise SystemExit(f"pytest failed on the solution of {name}")
            probe = subprocess.run(
                [sys.executable, "-c", PROBE.format(name=name, path=str(student))],
                capture_output=True,
                text=True,
                check=True,
            )
            full, tf, keras = probe.stdout.split()
        print(
            f"{name:<20} {statistics.median(times):>9.2f} {min(times):>7.2f} "
            f"{'yes' if full == '1' else 'NO':>11} {'IMPORTED' if tf == '1' or keras == '1' else 'not imported':>11}"
        )


if __name__ == "__main__":
    main()
