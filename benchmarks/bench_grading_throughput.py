"""Throughput and memory of `cnnex grade` on a class of NumPy-exercise submissions.

Builds a class of ex01 submissions (solutions, untouched stubs and known mistakes, so the
mutant diagnosis runs too), grades it end to end with `cnnex grade ... --jobs N` in a
fresh process (interpreter start, zygotes and workers included) and prints:

- submissions per second, end to end;
- peak memory: of each grading worker's process tree (worker + zygote + child, sampled
  from /proc every 20 ms), of the largest single process (`ru_maxrss` of the waited-for
  descendants), and of the main process;
- whether TensorFlow got loaded by any grading process (it must not, for NumPy exercises).

Targets: >= 2 submissions/s with `--jobs 2` on 2 cores; <= 300 MB per worker.

Usage:
    python benchmarks/bench_grading_throughput.py [--submissions 40] [--jobs 2]
"""

from __future__ import annotations

import argparse
import resource
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
    "mean_step": ("float(np.sum(window * kernel) + np.sum(bias))", "float(np.mean(window * kernel) + bias)"),
}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cnnex-bench-") as tmp:
        folder, out = Path(tmp) / "class", Path(tmp) / "grades"
        folder.mkdir()
        kinds = make_class(folder, args.submissions)
        command = [sys.executable, "-m", "autograder.cli", "grade", "ex01", str(folder), "--out", str(out),
                   "--jobs", str(args.jobs)]
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        sampler = Sampler(proc.pid)
        sampler.start()
        stdout, stderr = proc.communicate()
        elapsed = time.perf_counter() - start
        sampler.stop.set()
        sampler.join()
        if proc.returncode != 0:
            raise SystemExit(f"cnnex grade failed ({proc.returncode}):\n{stdout}\n{stderr}")
        largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        rows = (out / "gradebook.csv").read_text().splitlines()[1:]
    mb = 2**20
    print(f"class: {args.submissions} ex01 submissions ({kinds['solution']} solutions, {kinds['stub']} stubs, "
          f"{kinds['mistake']} with mistakes), graded with --jobs {args.jobs}")
    print(f"gradebook rows: {len(rows)}")
    print(f"end to end (interpreter start included): {elapsed:.2f} s -> {args.submissions / elapsed:.2f} submissions/s")
    print(f"peak RSS per worker (worker + zygote + child): {sampler.peak_worker / mb:.0f} MB")
    print(f"peak RSS of the main process: {sampler.peak_main / mb:.0f} MB")
    print(f"largest single process (ru_maxrss of descendants): {largest / mb:.0f} MB")
    print(f"TensorFlow loaded by a grading process: {'yes' if sampler.tensorflow else 'no'}")
    print(stdout.strip().splitlines()[0])


if __name__ == "__main__":
    main()
