"""Grading a class: real `nbgrader autograde` against `cnnex grade --jobs 2`, same submissions.

N notebooks of one exercise (a third the reference answers, a third untouched, a third
with the last function left unfinished) are graded by both, in the same run, on the same
machine. Prints each wall time, the ratio and whether the scores agree.

    python benchmarks/bench_vs_nbgrader.py [--n 10] [--exercise ex01] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from autograder import exercises
from autograder.nbgrader import init_course

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers_nbgrader import fill_solutions  # noqa: E402 - test scaffolding: a student who answered


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):  # `cnnex grade` may exit 1 when some submission lost points
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10, help="submissions (default 10)")
    parser.add_argument("--exercise", default="ex01")
    parser.add_argument("--jobs", type=int, default=2, help="cnnex grade --jobs (default 2)")
    args = parser.parse_args()
    name = exercises.resolve(args.exercise)
    ex = exercises.get(name)

    with tempfile.TemporaryDirectory(prefix="bench-nbgrader-") as tmp:
        course = Path(tmp) / "course"
        init_course(course, [name])
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", name], cwd=course,
                       check=True, capture_output=True)
        release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
        source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
        answered = [c.metadata["nbgrader"]["grade_id"] for c in source.cells if c.metadata["nbgrader"]["solution"]]
        kinds = {
            "reference": fill_solutions(release, source),
            "untouched": release,
            "one_mistake": fill_solutions(release, source, unanswered=answered[-1:]),
        }
        loose = Path(tmp) / "submissions"
        loose.mkdir()
        students = {}
        for i in range(args.n):
            kind = list(kinds)[i % 3]
            student = f"student{i:02d}"
            students[student] = kind
            folder = course / "submitted" / student / name
            folder.mkdir(parents=True)
            nbformat.write(kinds[kind], folder / f"{name}.ipynb")
            nbformat.write(kinds[kind], loose / f"{student}.ipynb")

        nbgrader_s = timed([sys.executable, "-m", "nbgrader", "autograde", name], course)
        out = Path(tmp) / "graded"
        files = [str(p) for p in sorted(loose.glob("*.ipynb"))]
        cnnex_s = timed([sys.executable, "-m", "autograder.cli", "grade", name, *files,
                         "--out", str(out), "--jobs", str(args.jobs)], Path(tmp))

        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "cnnexercises") as gb:
            by_nbgrader = {s: gb.find_submission(name, s).score for s in students}
        by_cnnex = {}
        for path in out.rglob("results.json"):
            student = next((s for s in students if s in str(path.relative_to(out))), None)
            if student:
                by_cnnex[student] = json.loads(path.read_text())["score"]

    agree = sum(by_cnnex.get(s) == by_nbgrader[s] for s in students)
    kinds_text = "reference / untouched / last function unfinished"
    print(f"{args.n} submissions of {name} ({ex.max_score():g} points; {kinds_text})")
    print(f"{'grader':<34} {'wall s':>8} {'s/submission':>13}")
    print(f"{'nbgrader autograde':<34} {nbgrader_s:>8.1f} {nbgrader_s / args.n:>13.2f}")
    print(f"{f'cnnex grade --jobs {args.jobs}':<34} {cnnex_s:>8.1f} {cnnex_s / args.n:>13.2f}")
    print(f"ratio nbgrader / cnnex grade: {nbgrader_s / cnnex_s:.2f}")
    print(f"scores agree on {agree}/{args.n} submissions")
    for student, kind in students.items():
        if by_cnnex.get(student) != by_nbgrader[student]:
            print(f"  {student} ({kind}): nbgrader {by_nbgrader[student]:g}, cnnex {by_cnnex.get(student)}")


if __name__ == "__main__":
    main()
