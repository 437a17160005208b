"""Throughput and memory of `cnnex grade` on a class of submissions.

For ex01, builds a class of submissions (solutions, untouched stubs and known mistakes, so
the mutant diagnosis runs too); for ex04/ex05, a class of copies of the solution. Grades it
end to end with `cnnex grade ... --jobs N` in a fresh process (interpreter start, zygotes
and workers included) and prints:

- submissions per second, end to end;
- peak memory: of each grading worker's process tree (worker + zygote + child, sampled
  from /proc every 20 ms), of the largest single process (`ru_maxrss` of the waited-for
  descendants), and of the main process;
- whether TensorFlow got loaded by any grading process (it must not, for NumPy exercises);
- for the Keras exercises, the cost of one submission (wall time / submissions) as a
  fraction of one `python -c "import tensorflow"` timed in the same run.

`--compare CHECKOUT` grades the same class with the code of another checkout too (the same
interpreter, `PYTHONPATH=CHECKOUT`), alternating runs, so the cost of a change is measured
side by side: for example the defences of a branch against `main`
(`git worktree add --detach /tmp/base main`).

Targets: >= 2 submissions/s with `--jobs 2` on 2 cores; <= 300 MB per worker.

Usage:
    python benchmarks/bench_grading_throughput.py [--submissions 40] [--jobs 2]
    python benchmarks/bench_grading_throughput.py --exercise ex04 --submissions 4 --compare /tmp/base
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "ex01_convolution.py"
STUB = ROOT / "assignments" / "ex01_convolution.ipynb"
MISTAKES = {  # edits of the solution's text, each a known mistake
    "flipped": ("weights = kernel.reshape(", "weights = kernel[::-1, ::-1].reshape("),
    "no_bias": ("out = out + np.asarray(bias)", "pass"),
    "same_floor": ("return -(-input_size // strides)", "return input_size // strides"),
    "pad_swapped": ("(pad_h, pad_h), (pad_w, pad_w)", "(pad_w, pad_w), (pad_h, pad_h)"),
    "mean_step": ("float(np.sum(window * kernel) + bias)", "float(np.mean(window * kernel) + bias)"),
}


def make_keras_class(folder: Path, exercise: str, n: int) -> dict[str, int]:
    """`n` copies of the exercise's solution."""
    solution = next((ROOT / "solutions").glob(f"{exercise}_*.py"))
    for i in range(n):
        shutil.copy(solution, folder / f"s{i:03d}.py")
    return {"solution": n, "stub": 0, "mistake": 0}


def tensorflow_import_seconds(repeat: int = 3) -> float:
    """The median wall time of `python -c "import tensorflow"`."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def make_class(folder: Path, n: int) -> dict[str, int]:
    """`n` submissions: 30% solutions, 20% stubs, 50% mistakes (cycled)."""
    text = SOLUTION.read_text()
    kinds = {"solution": 0, "stub": 0, "mistake": 0}
    for i in range(n):
        r = i % 10
        if r < 3:
            shutil.copy(SOLUTION, folder / f"s{i:03d}.py")
            kinds["solution"] += 1
        elif r < 5:
            shutil.copy(STUB, folder / f"s{i:03d}.ipynb")
            kinds["stub"] += 1
        else:
            old, new = list(MISTAKES.values())[i % len(MISTAKES)]
            if old not in text:
                raise SystemExit(f"the solution changed: cannot make the mistake {old!r}")
            (folder / f"s{i:03d}.py").write_text(text.replace(old, new))
            kinds["mistake"] += 1
    return kinds


def _tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _has_tensorflow(pid: int) -> bool:
    try:
        return "tensorflow" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


class Sampler(threading.Thread):
    """Samples the process tree of the grading command: RSS per worker tree, TensorFlow or not."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_worker = 0
        self.peak_main = 0
        self.tensorflow = False
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak_main = max(self.peak_main, _rss(self.pid))
            for worker in _tree(self.pid)[1:]:
                tree = _tree(worker)
                self.peak_worker = max(self.peak_worker, sum(_rss(p) for p in tree))
                self.tensorflow = self.tensorflow or any(_has_tensorflow(p) for p in tree)
            time.sleep(0.02)


def grade_class(folder: Path, out: Path, exercise: str, jobs: int, checkout: Path) -> dict:
    """Grade `folder` with the code of `checkout` in a fresh process; wall time and memory."""
    command = [sys.executable, "-m", "autograder.cli", "grade", exercise, str(folder), "--out", str(out),
               "--jobs", str(jobs), "--force"]
    env = {**os.environ, "PYTHONPATH": str(checkout), "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=checkout, env=env)
    sampler = Sampler(proc.pid)
    sampler.start()
    stdout, stderr = proc.communicate()
    elapsed = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"cnnex grade failed ({proc.returncode}):\n{stdout}\n{stderr}")
    rows = (out / "gradebook.csv").read_text().splitlines()[1:]
    return {"elapsed": elapsed, "rows": len(rows), "sampler": sampler, "summary": stdout.strip().splitlines()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    from autograder import exercises  # the Keras exercises, from the registry

    keras_exercises = [n.split("_")[0] for n in exercises.available() if "keras" in exercises.get(n).resources.preload]
    parser.add_argument("--exercise", default="ex01", choices=["ex01", *keras_exercises])
    parser.add_argument("--submissions", type=int, help="class size (default 40 for ex01, 4 for Keras)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--compare", type=Path, metavar="CHECKOUT", help="also grade with this checkout's code")
    parser.add_argument("--repeat", type=int, default=1, help="runs per checkout (alternated)")
    args = parser.parse_args()
    keras = args.exercise in keras_exercises
    n = args.submissions or (4 if keras else 40)
    checkouts = {"this checkout": ROOT}
    if args.compare:
        checkouts[f"{args.compare}"] = args.compare.resolve()
    with tempfile.TemporaryDirectory(prefix="cnnex-bench-") as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        kinds = make_keras_class(folder, args.exercise, n) if keras else make_class(folder, n)
        runs: dict[str, list[dict]] = {name: [] for name in checkouts}
        for _ in range(args.repeat):
            for name, checkout in checkouts.items():  # alternated, so machine load hits both alike
                runs[name].append(grade_class(folder, Path(tmp) / f"grades-{len(runs[name])}-{hash(name)}",
                                              args.exercise, args.jobs, checkout))
        tf_import = tensorflow_import_seconds() if keras else None
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    mb = 2**20
    print(f"class: {n} {args.exercise} submissions ({kinds['solution']} solutions, {kinds['stub']} stubs, "
          f"{kinds['mistake']} with mistakes), graded with --jobs {args.jobs}")
    if tf_import is not None:
        print(f'python -c "import tensorflow": {tf_import:.2f} s (median of 3, same run)')
    for name, results in runs.items():
        best = min(results, key=lambda r: r["elapsed"])
        sampler = best["sampler"]
        print(f"--- {name} (best of {len(results)}: " + ", ".join(f"{r['elapsed']:.1f}" for r in results) + " s)")
        print(f"gradebook rows: {best['rows']}")
        print(f"end to end (interpreter start included): {best['elapsed']:.2f} s -> "
              f"{n / best['elapsed']:.2f} submissions/s")
        if tf_import is not None:
            per = best["elapsed"] / n
            print(f"one submission: {per:.2f} s = {per / tf_import:.2f} x one `import tensorflow`")
        print(f"peak RSS per worker (worker + zygote + child): {sampler.peak_worker / mb:.0f} MB")
        print(f"peak RSS of the main process: {sampler.peak_main / mb:.0f} MB")
        print(f"TensorFlow loaded by a grading process: {'yes' if sampler.tensorflow else 'no'}")
        print(best["summary"])
    print(f"largest single process (ru_maxrss of descendants, all runs): {largest / mb:.0f} MB")


if __name__ == "__main__":
    main()
