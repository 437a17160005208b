"""Peak memory (max RSS) of checking one NumPy exercise, public and hidden checks, in a fresh process.

Target: <= 300 MB.

    python benchmarks/bench_check_memory.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from autograder import exercises

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import resource, sys
from autograder.runner import check_file
report = check_file({name!r}, {path!r}, hidden=True)
assert report.score == report.max_score, report
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, int("tensorflow" in sys.modules))
"""


def main() -> None:
    print(f"{'exercise':<20} {'peak RSS MB':>12} {'tensorflow':>12}")
    for name in exercises.recorded():
        path = ROOT / "solutions" / f"{name}.py"
        if not path.exists():
            continue
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(name=name, path=str(path))],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        print(f"{name:<20} {float(out[0]):>12.1f} {'IMPORTED' if out[1] == '1' else 'not imported':>12}")


if __name__ == "__main__":
    main()
