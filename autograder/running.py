"""Running an exercise's checks on a student: each check's outcome becomes a `Result`.

The engine adapts the student once (`student.as_student`), tells it when each check
begins (`Student.begin_check`: an isolated proxy restarts its time budget there), and
turns whatever a check raises into a status, a message and points; it never raises.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Iterable

from autograder.context import Context
from autograder.outcomes import ERROR, NOT_IMPLEMENTED, PASSED, POLICY, CheckFailed, Result, Unavailable
from autograder.student import as_student

if TYPE_CHECKING:
    from autograder.checks import Check, Exercise

def run_check(exercise: Exercise, check: Check, student: Any, reference: Any) -> Result:
    """Run one check and turn its outcome into a `Result`; never raises.

    Args:
        student: a `Student`, or any object whose attributes are the student's functions.
    """
    start = time.perf_counter()
    student = as_student(student, exercise)
    ctx = Context(exercise, check, student, reference)
    status, output, mistake = ERROR, "", ""
    try:
        student.begin_check(check)
        note = check.body(ctx)  # a body may return a line to show when it passes
    except CheckFailed as failure:
        status, mistake = failure.status, failure.mistake(check.function)
        output = failure.message() if not check.hidden else _hidden_message(check, failure)
    except Unavailable as gone:
        status = gone.status
        # what a dead child said may quote a hidden check's inputs: hidden checks give the status only
        output = f"{check.name}: {gone.message}" if not check.hidden else f"{check.name}: {gone.status} (hidden check)"
    except Exception as err:  # a bug in the check, never the student's fault to see a traceback
        status = ERROR
        output = f"{check.name}: the grader could not run this check"
        if not check.hidden:
            output += f" ({type(err).__name__}: {err})"
    else:
        status = PASSED
        output = note if isinstance(note, str) and not check.hidden else (check.success or "passed")
    score = check.points if status == PASSED else 0.0
    return Result(
        name=check.name,
        function=check.function,
        score=score,
        max_score=check.points,
        status=status,
        output=output,
        hidden=check.hidden,
        seconds=time.perf_counter() - start,
        artifacts=ctx.artifacts,
        mistake=mistake,
    )


def _hidden_message(check: Check, failure: CheckFailed) -> str:
    """A hidden check reports its outcome and hint, never its inputs or expected values."""
    text = f"{check.name}: failed (hidden check; its inputs are not shown)"
    if failure.status == NOT_IMPLEMENTED:
        text = failure.what
    if failure.hint:
        text += "\n  Hint: " + failure.hint
    return text


def run_checks(
    exercise: Exercise,
    student: Any,
    reference: Any,
    hidden: bool = False,
    functions: Iterable[str] | None = None,
    policy: dict[str, str] | None = None,
) -> list[Result]:
    """Run an exercise's checks.

    Args:
        hidden: include hidden checks (instructor grading).
        functions: only the checks of these functions.
        policy: function name -> reason, for functions that broke the NumPy-only
            rule; their checks score 0 with status POLICY and are not run.
    """
    policy = policy or {}
    student = as_student(student, exercise)  # once: the memo and the budget are the submission's
    results = []
    for check in exercise.checks_for(functions, hidden):
        if check.function in policy:
            results.append(
                Result(
                    check.name,
                    check.function,
                    0.0,
                    check.points,
                    POLICY,
                    policy[check.function],
                    check.hidden,
                )
            )
            continue
        results.append(run_check(exercise, check, student, reference))
    return results
