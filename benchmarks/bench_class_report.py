"""What the class report adds to `cnnex grade`, on a batch of 300 ex01 submissions.

Builds a class (solutions, untouched stubs and known mistakes, as
`bench_grading_throughput.py` does), grades it end to end with `cnnex grade --jobs N` in
a fresh process, then times, each in a fresh process, the two things the report adds to
that run:

- per submission: anonymising the student's functions from the file the sandboxed child
  parses anyway (`snippets.function_sources`), and keeping those with a named mistake
  in `grading.json` (`class_report.submission_record`); timed one after the other here,
  where `cnnex grade` spreads it over its `--jobs` workers and their children;
- at the end: gathering `mistakes.csv` and `report_data.json` and drawing `report.html`
  (`class_report.finish`, matplotlib's import included).

Prints the grading time, the report's time and their ratio. Target: the report adds at
most 5 % to the grading time.

Usage:
    python benchmarks/bench_class_report.py [--submissions 300] [--jobs 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_grading_throughput import make_class

ROOT = Path(__file__).resolve().parent.parent

PER_SUBMISSION = """
import ast, json, sys, time
from pathlib import Path
from autograder import exercises
from autograder.checks import Result
from autograder.loading import definitions, read_units
from autograder.reports import class_report
from autograder.reports.snippets import function_sources

folder, out = Path(sys.argv[1]), Path(sys.argv[2])
ex = exercises.get("ex01")
inputs = []
for path in sorted(folder.iterdir()):
    doc = json.loads((out / path.stem / "results.json").read_text())
    results = [Result(t["name"], t["tags"][0], t["score"], t["max_score"], t["tags"][1], t["output"],
                      mistake=t["mistake"] or "") for t in doc["tests"]]
    parsed = [(u.label, ast.parse(u.source)) for u in read_units(path)]  # the child parses it for the policy
    trees = list(zip([label for label, _ in parsed], definitions([tree for _, tree in parsed])))
    inputs.append((trees, results))
start = time.perf_counter()
for trees, results in inputs:
    record = class_report.submission_record(results, function_sources(trees, ex.functions))
    json.dumps({class_report.RECORD: record})  # written with grading.json, which is written anyway
print(time.perf_counter() - start)
"""

AT_THE_END = """
import sys, time
start = time.perf_counter()
from pathlib import Path
from autograder.reports import class_report
out = Path(sys.argv[1])
names = sorted(p.name for p in out.iterdir() if p.is_dir())
class_report.finish(out, "ex01_convolution", names, {})
print(time.perf_counter() - start)
"""


def _seconds(script: str, *args: str) -> float:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=ROOT, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cnnex-bench-") as tmp:
        folder, out = Path(tmp) / "class", Path(tmp) / "grades"
        folder.mkdir()
        kinds = make_class(folder, args.submissions)
        command = [sys.executable, "-m", "autograder.cli", "grade", "ex01", str(folder), "--out", str(out),
                   "--jobs", str(args.jobs)]
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
        grading = time.perf_counter() - start
        records = _seconds(PER_SUBMISSION, str(folder), str(out))
        finish = _seconds(AT_THE_END, str(out))
        page = (out / "report.html").stat().st_size
    report = records + finish
    print(f"class: {args.submissions} ex01 submissions ({kinds['solution']} solutions, {kinds['stub']} stubs, "
          f"{kinds['mistake']} with mistakes), graded with --jobs {args.jobs}")
    print(f"cnnex grade end to end (report included): {grading:.2f} s")
    print(f"report, per submission (anonymised functions, one after the other), all {args.submissions}: {records:.3f} s")
    print(f"report, at the end (mistakes.csv, report_data.json, report.html; matplotlib import included): {finish:.3f} s")
    print(f"report.html: {page / 1024:.0f} KiB")
    print(f"the report's share of the grading time: {report:.2f} s of {grading:.2f} s = {report / grading:.1%} "
          f"({report / max(grading - report, 1e-9):.1%} on top of grading without it; target <= 5 %)")


if __name__ == "__main__":
    main()
