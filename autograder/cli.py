"""`cnnex`: students check their work; instructors grade a class, build nbgrader courses and Gradescope bundles; maintainers release."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder import exercises, grading_cli, instructor_cli, kernel_cli
from autograder.errors import GraderError

ROOT = Path(__file__).resolve().parent.parent


def cmd_list(args) -> int:
    for name in exercises.available():
        ex = exercises.get(name)
        public = ex.max_score(hidden=False)
        print(f"{name:<22} {ex.title}  ({public:g} public + {ex.max_score() - public:g} hidden points)")
    return 0


def default_path(exercise: str) -> Path:
    """The student's file when none is given: ./ex01_convolution.ipynb, .py, then assignments/."""
    for folder in (Path.cwd(), Path.cwd() / "assignments"):
        for suffix in (".ipynb", ".py"):
            candidate = folder / f"{exercise}{suffix}"
            if candidate.exists():
                return candidate
    raise GraderError(
        f"No {exercise}.ipynb or {exercise}.py here or in ./assignments. "
        f"Give the path: cnnex check {exercise} PATH"
    )


def cmd_check(args) -> int:
    from autograder.reports.gradescope import results_json, write_results
    from autograder.reports.terminal import format_report
    from autograder.runner import check_file

    name = exercises.resolve(args.exercise)
    path = Path(args.path) if args.path else default_path(name)
    report = check_file(name, path)
    print(f"Checking {path} against {name}\n")
    print(format_report(name, report.results, report.problems))
    if args.json:
        write_results(args.json, results_json(report.results, report.execution_time))
        print(f"\nWrote {args.json}")
    return 0 if report.score == report.max_score else 1


def checkout_root(start: Path) -> Path:
    """The repository checkout `start` is in (it holds `solutions/` and `pyproject.toml`).

    Falls back to the checkout the package was installed from, so `cnnex release` works
    from any folder of a checkout and always regenerates that checkout.
    """
    for folder in (start, *start.parents):
        if (folder / "solutions").is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    return ROOT


def cmd_release(args) -> int:
    from autograder.release import check_release, expected_folder, release

    root = checkout_root(Path.cwd().resolve())
    solutions = Path(args.solutions) if args.solutions else root / "solutions"
    assignments = Path(args.out) if args.out else solutions.parent / "assignments"
    expected = Path(args.expected) if args.expected else expected_folder(solutions)
    print(f"solutions: {solutions}\nassignments: {assignments}\nrecorded answers: {expected}")
    if args.check:
        problems = check_release(solutions, assignments, expected)
        for p in problems:
            print(p)
        if problems:
            print("Run `cnnex release` to regenerate the student copies.")
            return 1
        print(f"{assignments} is in sync with {solutions}")
        return 0
    for path in release(solutions, assignments, expected):
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnnex", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list the exercises and their points")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("check", help="check your work on one exercise (public checks)")
    p.add_argument("exercise", help="ex01, ex01_convolution, 1 ...")
    p.add_argument("path", nargs="?", help="your .ipynb or .py (default: ./EXERCISE.ipynb)")
    p.add_argument("--json", metavar="FILE", help="also write Gradescope results.json")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "release",
        help="generate assignments/ from solutions/ (and the recorded public answers in autograder/expected/)",
    )
    p.add_argument("--solutions", help="default: solutions/ of the checkout the current folder is in")
    p.add_argument("--out", help="where the student copies go (default: assignments/ beside solutions/)")
    p.add_argument(
        "--expected", help="where the recorded answers go (default: autograder/expected/ beside solutions/)"
    )
    p.add_argument("--check", action="store_true", help="only report drift, write nothing")
    p.set_defaults(func=cmd_release)

    grading_cli.add_commands(sub)
    instructor_cli.add_commands(sub)
    kernel_cli.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except GraderError as err:
        print(f"cnnex: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
