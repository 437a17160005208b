"""`cnnex nbgrader init` and `cnnex gradescope`: course material for other graders.

    cnnex nbgrader init COURSE_DIR [--exercises ex01 ex02] [--course-id ID] [--force]
    cnnex gradescope EXERCISE [--out autograder.zip]
"""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_nbgrader_init(args) -> int:
    from autograder.nbgrader import init_course

    course = Path(args.course_dir)
    done = init_course(course, args.exercises, args.solutions, args.course_id, args.force)
    for status, path, note in done:
        if status == "skipped":
            print(note)
        else:
            print(f"{status:<9} {path}  ({note})")
    names = [p.parent.name for s, p, _ in done if p.suffix == ".ipynb"]
    print(
        f"\nNext, from {course}:\n"
        f"  nbgrader generate_assignment {names[0]}    # writes release/{names[0]}/\n"
        f"  nbgrader autograde {names[0]}              # grades submitted/<student>/{names[0]}/"
    )
    if any(s.startswith("kept") for s, _, _ in done):
        print("Some files were edited since they were written and were kept; --force overwrites them.")
    return 0


def cmd_gradescope(args) -> int:
    from autograder.gradescope_bundle import build_bundle

    out = Path(args.out)
    files = build_bundle(args.exercise, out, solutions=args.solutions)
    print(f"wrote {out} ({len(files)} files, {out.stat().st_size / 1024:.0f} KiB)")
    print("Upload it as the assignment's autograder (Gradescope: Configure Autograder -> Zip file).")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add `nbgrader` and `gradescope` to `cnnex`."""
    p = subparsers.add_parser("nbgrader", help="build an nbgrader course from the solutions")
    verbs = p.add_subparsers(dest="nbgrader_command", required=True)
    init = verbs.add_parser(
        "init",
        help="write COURSE_DIR/source/<exercise>/<exercise>.ipynb and nbgrader_config.py",
    )
    init.add_argument("course_dir", metavar="COURSE_DIR", help="the nbgrader course root")
    init.add_argument(
        "--exercises", nargs="+", metavar="EXERCISE",
        help="only these (ex01 ex02 ...); default: every exercise that has a solution",
    )
    init.add_argument("--course-id", default="cnnexercises", help="nbgrader course id")
    init.add_argument("--solutions", help="folder of the solution files (default: each exercise's solutions/)")
    init.add_argument("--force", action="store_true", help="overwrite files edited since written")
    init.set_defaults(func=cmd_nbgrader_init)

    p = subparsers.add_parser("gradescope", help="build a Gradescope autograder zip for one exercise")
    p.add_argument("exercise", help="ex01, ex01_convolution, 1 ...")
    p.add_argument("--out", default="autograder.zip", help="the zip to write (default: autograder.zip)")
    p.add_argument("--solutions", help="folder of the solution files (default: the exercise's solutions/)")
    p.set_defaults(func=cmd_gradescope)
