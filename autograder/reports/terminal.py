"""Feedback as text, for the terminal, pytest and notebook cells."""

from __future__ import annotations

from autograder.checks import PASSED, Result

MARKS = {PASSED: "✓"}


def format_result(result: Result) -> str:
    """`✓ name  (2/2)` or `✗ name  (0/2)` followed by the indented message."""
    mark = MARKS.get(result.status, "✗")
    head = f"{mark} {result.name}  ({result.score:g}/{result.max_score:g})"
    if result.passed:
        return head + (f"  {result.output}" if result.output != "passed" else "")
    status = "" if result.status == "failed" else f" [{result.status}]"
    body = "\n".join("    " + line for line in result.output.splitlines())
    return f"{head}{status}\n{body}"


def score_line(exercise: str, results: list[Result]) -> str:
    score = sum(r.score for r in results)
    total = sum(r.max_score for r in results)
    return f"{exercise}: {score:g}/{total:g} points"


def format_report(exercise: str, results: list[Result], problems: list[str] = ()) -> str:
    """A readable table of results, grouped by function, ending with the score line."""
    lines = []
    if problems:
        lines.append("Problems while loading your file:")
        lines += [f"  - {p}" for p in problems]
        lines.append("")
    width = max((len(r.name) for r in results), default=0)
    current = None
    for r in results:
        if r.function != current:
            current = r.function
            got = sum(x.score for x in results if x.function == current)
            out_of = sum(x.max_score for x in results if x.function == current)
            lines.append(f"{current}  {got:g}/{out_of:g}")
        mark = MARKS.get(r.status, "✗")
        note = f"  {r.output}" if r.passed and r.output != "passed" else ""
        lines.append(f"  {mark} {r.name.ljust(width)}  {r.score:g}/{r.max_score:g}{note}")
        if not r.passed and r.output.strip() not in problems:  # a file-level problem is listed once, above
            lines += ["      " + line for line in r.output.splitlines()]
    lines.append("")
    lines.append(score_line(exercise, results))
    return "\n".join(lines)
