"""`cnnex grade`, `cnnex gradebook merge` and `cnnex report`: the instructor's commands."""

from __future__ import annotations

import argparse
from pathlib import Path



def _shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N such as 0/4. Received: {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"expected 0 <= I < N. Received: {text!r}")
    return index, count


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive. Received: {text!r}")
        return value

    return parse


def cmd_grade(args) -> int:
    from autograder import exercises
    from autograder.grading import Options, grade

    name = exercises.resolve(args.exercise)
    options = Options(
        timeout=args.timeout,
        memory_mb=args.memory,
        jobs=args.jobs,
        budget=args.budget,
        shard=args.shard,
        force=args.force,
    )
    summary = grade(name, args.paths, args.out, options)
    graded = summary.graded
    line = f"Graded {len(graded)} submission(s) of {name} in {summary.seconds:.1f} s"
    if graded:
        mean = sum(o.score for o in graded) / len(graded)
        line += f"; mean score {mean:.2f}/{graded[0].max_score:g}"
    if summary.skipped:
        line += f"; {len(summary.skipped)} already graded"
    print(line)
    for o in summary.failed:
        print(f"NOT GRADED {o.name}: {o.error}")
    print(f"Wrote {summary.out / 'gradebook.csv'} and {summary.out}/<submission>/results.json, feedback.html")
    print(f"What the class got wrong: {summary.out / 'report.html'} (data: mistakes.csv, report_data.json)")
    return 1 if summary.failed else 0


def cmd_merge(args) -> int:
    from autograder.reports import class_report, gradebook

    paths = [Path(d) / "gradebook.csv" if Path(d).is_dir() else Path(d) for d in args.dirs]
    checks, rows = gradebook.merge(paths)
    out = Path(args.out)
    target = out / "gradebook.csv" if out.suffix != ".csv" else out
    target.parent.mkdir(parents=True, exist_ok=True)
    gradebook.write(target, checks, rows)
    print(f"Merged {len(rows)} submission(s) from {len(paths)} gradebook(s) into {target}")
    folders = [p.parent for p in paths]
    missing = [str(f) for f in folders if not (f / class_report.MISTAKES).exists()]
    if missing:
        print(f"No class report data in {', '.join(missing)}: report.html not written")
    else:
        page = class_report.merge(folders, target.parent)
        print(f"Merged the class report data into {page.parent} and wrote {page}")
    return 0


def cmd_report(args) -> int:
    from autograder.reports import class_report

    folder = Path(args.dir)
    page = class_report.write_page(folder, *class_report.load(folder))
    print(f"Wrote {page}")
    return 0


def add_commands(sub) -> None:
    """Add `grade` and `gradebook` to `cnnex`'s sub-commands."""
    p = sub.add_parser(
        "grade",
        help="grade a class's submissions in isolated processes (instructors)",
        description="Grade every .py/.ipynb under PATH (files, folders, LMS .zip downloads) with the "
        "public and hidden checks, each submission in a sandboxed process. Writes "
        "OUT/<name>/results.json (Gradescope), OUT/<name>/feedback.html, OUT/gradebook.csv and the class "
        "report OUT/report.html (with its data OUT/mistakes.csv, a row per submission and check). "
        "Run it again to resume: what is already graded is skipped.",
    )
    p.add_argument("exercise", help="ex01, ex01_convolution, 1 ...")
    p.add_argument("paths", nargs="+", metavar="PATH", help="submission files, folders or .zip files")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--jobs", type=_positive(int), metavar="N",
                   help="submissions graded at once (default: the exercise's; the number of CPUs, 1 for Keras exercises)")
    p.add_argument("--shard", type=_shard, metavar="I/N",
                   help="grade only shard I of N (0-based; a hash of the submission's name)")
    p.add_argument("--timeout", type=_positive(float), metavar="S",
                   help="seconds per check (default: the exercise's; 10, 300 for Keras exercises)")
    p.add_argument("--memory", type=_positive(int), metavar="MB",
                   help="memory the student's code may allocate (default: the exercise's; 1024, 4096 for Keras exercises)")
    p.add_argument("--budget", type=_positive(float), metavar="S",
                   help="seconds one submission may take in all; past it its remaining checks report TIMEOUT "
                   "(default: the exercise's; 60, 1200 for Keras exercises)")
    p.add_argument("--force", action="store_true", help="regrade what is already graded")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("gradebook", help="combine gradebooks (of shards)")
    actions = p.add_subparsers(dest="action", required=True)
    m = actions.add_parser("merge", help="merge the gradebook.csv of several output folders")
    m.add_argument("dirs", nargs="+", metavar="DIR", help="output folders of `cnnex grade` (or gradebook.csv files)")
    m.add_argument("--out", required=True, metavar="DIR",
                   help="where to write gradebook.csv (and mistakes.csv, report_data.json, report.html)")
    m.set_defaults(func=cmd_merge)

    p = sub.add_parser(
        "report",
        help="what the class got wrong: write DIR/report.html from a graded folder",
        description="Rebuild DIR/report.html from DIR/mistakes.csv and DIR/report_data.json, as written by "
        "`cnnex grade` (which writes the page itself) or `cnnex gradebook merge`: score distributions, each "
        "function's known mistakes with the hint students saw and anonymised examples, the checks that fail "
        "without a named mistake, timeouts and crashes, and for Keras exercises accuracy, size and training curves.",
    )
    p.add_argument("dir", metavar="DIR", help="an output folder of `cnnex grade` or `cnnex gradebook merge`")
    p.set_defaults(func=cmd_report)
