"""What runs inside Gradescope, for each submission: `python -m autograder.gradescope_run EXERCISE`.

The bundle's `run_autograder` (see `autograder.gradescope_bundle`) calls it. It picks the
file to grade in `$AUTOGRADER_ROOT/submission`, grades it as `cnnex grade` does (the
student's code in a sandboxed child, hidden checks included) and writes the report as
`$AUTOGRADER_ROOT/results/results.json`. A submission without a notebook or `.py` file,
or one the grader cannot grade, still gets a valid results.json: score 0 and a message
that says what to upload or that the instructor can see the details.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from autograder import exercises
from autograder.gradescope_bundle import SKIP_DIRS
from autograder.reports.gradescope import results_json, write_results
from autograder.submissions import MAX_MEMBER_BYTES


def choose_submission(folder: Path, exercise: str) -> tuple[Path | None, list[Path]]:
    """The file to grade in a Gradescope submission folder, and the other candidates.

    Prefers a file whose name names the exercise, then a notebook over a `.py`.
    """
    candidates = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix in (".ipynb", ".py")
        and not set(p.relative_to(folder).parts) & SKIP_DIRS
        and not p.name.startswith(".")
    ) if folder.is_dir() else []
    if not candidates:
        return None, []
    ranked = sorted(
        candidates,
        key=lambda p: (exercises.for_filename(p.name) != exercise, p.suffix != ".ipynb", len(p.parts), p.name),
    )
    return ranked[0], ranked[1:]


def zero_results(exercise: str, message: str) -> dict:
    """A valid results.json worth 0: every check, each with `message`."""
    from autograder.pipeline import unloadable

    report = unloadable(exercises.get(exercise), message, hidden=True)
    return results_json(report.results, output=message)


def grade_submission(exercise: str, root: str | Path) -> dict:
    """Grade the file in `root/submission`; write and return `root/results/results.json`."""
    from autograder.grading import Grader, Options, gradescope_document

    root = Path(root)
    target = root / "results" / "results.json"
    name = exercises.resolve(exercise)
    chosen, others = choose_submission(root / "submission", name)
    if chosen is None:
        doc = zero_results(
            name,
            f"No notebook or .py file in your submission. Upload {name}.ipynb (or {name}.py) "
            "with your functions filled in.",
        )
        write_results(target, doc)
        return doc
    size = chosen.stat().st_size
    if size > MAX_MEMBER_BYTES:
        doc = zero_results(
            name,
            f"{chosen.name} is {size / 2**20:.0f} MB; the autograder reads files up to "
            f"{MAX_MEMBER_BYTES // 2**20} MB. Clear the notebook's outputs (Edit -> Clear Outputs of All "
            "Cells) and upload it again.",
        )
        write_results(target, doc)
        return doc
    with tempfile.TemporaryDirectory(prefix="cnnex-grade-") as tmp:
        grader = None
        try:
            grader = Grader(name, Options(jobs=1), [str((root / "submission").resolve()), str(target.parent)], tmp)
            report, sandbox = grader.contained(chosen)
            doc = gradescope_document(report)
            print(f"graded {chosen.name} in {report.execution_time:.1f} s; sandbox: {'; '.join(sandbox)}")
        except Exception as err:  # the grader itself failed: the instructor's debug view says why
            print(f"not graded: {type(err).__name__}: {err}")
            doc = zero_results(
                name,
                f"The autograder could not grade {chosen.name}. Your instructor can see the details.",
            )
        finally:
            if grader is not None:
                grader.close()
    if others:
        note = f"Graded {chosen.relative_to(root / 'submission')}; also found: " + ", ".join(
            str(p.relative_to(root / "submission")) for p in others
        )
        doc["output"] = (note + "\n" + str(doc.get("output") or "")).strip()
    write_results(target, doc)
    return doc


def main(argv: list[str] | None = None) -> int:
    """`python -m autograder.gradescope_run EXERCISE`: what the bundle's `run_autograder` runs."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m autograder.gradescope_run EXERCISE", file=sys.stderr)
        return 2
    root = Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    doc = grade_submission(args[0], root)
    print(f"{root / 'results' / 'results.json'}: {doc['score']:g}/{doc.get('max_score', 0):g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
