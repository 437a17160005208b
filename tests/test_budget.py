"""A submission's total grading time is bounded by the budget its exercise declares.

`tests/hostile/budget/sleeps_in_every_function.py` sleeps 0.9 s in every call: under
`--timeout 1` no single call is over the limit, so without a budget the file costs about
one time limit per check. With `--budget 3` it costs about 3 s, and every check after the
budget ran out reports TIMEOUT at once with a message that says so.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from autograder.checks import PASSED, TIMEOUT
from autograder.cli import main
from autograder.grading import Grader, Options

SLEEPER = Path(__file__).resolve().parent / "hostile" / "budget" / "sleeps_in_every_function.py"
SPENT = "this submission's time budget (3 s for all its checks)"
SLACK = 2.0  # seconds for forking the child and loading the file again after a fault


def graded_seconds(budget: float, out: Path) -> tuple[float, list]:
    """Grade the sleeper with a warm zygote; the wall time of that one submission, and its results."""
    grader = Grader("ex01", Options(timeout=1, budget=budget, jobs=1), hide=[], out=out)
    try:
        grader.zygote  # started before the clock: the budget is the submission's, not the grader's start
        start = time.perf_counter()
        report, _ = grader.report(SLEEPER)
        return time.perf_counter() - start, report.results
    finally:
        grader.close()


def test_cnnex_grade_reports_the_checks_past_the_budget_as_timeout_saying_it_was_spent(tmp_path, capsys):
    assert main(["grade", "ex01", str(SLEEPER), "--out", str(tmp_path), "--timeout", "1", "--budget", "3"]) == 0
    doc = json.loads((tmp_path / SLEEPER.stem / "results.json").read_text())
    tests = doc["tests"]
    spent = [t for t in tests if SPENT in t["output"]]
    public_spent = [t for t in spent if "hidden check" not in t["output"]]
    assert len(public_spent) >= 3, [t["output"][:120] for t in tests]
    assert all(t["tags"][1] == TIMEOUT and t["score"] == 0 for t in spent)
    # the check the budget ran out in "was stopped", if it ran out during a call; the later ones, at once:
    assert all(("was stopped: " + SPENT in t["output"]) or ("not run: " + SPENT in t["output"])
               or "hidden check" in t["output"] for t in spent)
    assert any("not run: " + SPENT in t["output"] for t in tests)
    # the checks that ran before the budget ran out were graded normally
    assert tests[0]["name"].startswith("conv_output_size") and any(t["tags"][1] == PASSED for t in tests)
    meta = json.loads((tmp_path / SLEEPER.stem / "grading.json").read_text())
    assert meta["budget"] == 3.0


def test_the_budget_bounds_the_time_one_submission_takes(tmp_path):
    seconds, results = graded_seconds(3, tmp_path)
    assert seconds < 3 + SLACK, seconds
    assert sum(SPENT in r.output for r in results) >= 5


@pytest.mark.slow
def test_without_a_tight_budget_the_same_file_takes_about_one_limit_per_check(tmp_path):
    """The contrast: the time limit per check alone does not bound this file near 3 s."""
    seconds, results = graded_seconds(1000, tmp_path)
    assert seconds > 3 + SLACK, seconds
    assert not any("time budget" in r.output for r in results)
