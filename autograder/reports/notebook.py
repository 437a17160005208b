"""Feedback inside a notebook: an HTML table in Jupyter, the same text as the terminal elsewhere.

`FeedbackReport` is the value of a check cell (`feedback.check("conv2d")`,
`feedback.summary()`). In a Jupyter kernel it shows itself as formatted HTML (one row per
check: passed or failed, points, the message with its hint; a picture of expected, got
and where they differ when an array output is wrong); in a script, a terminal or
nbgrader's stdout it prints the plain text of `reports.terminal`. It is a list of the
`Result`s, so code can still inspect them.

Styles are inline (JupyterLab keeps them when the output is re-opened untrusted).
"""

from __future__ import annotations

import base64
import html

from cnnexercises.jupyter import ShownOnce, kernel_shell

from autograder.checks import PASSED, Result
from autograder.reports.terminal import format_report, format_result

_PASS = "color:#1a7f37;font-weight:bold"
_FAIL = "color:#c62828;font-weight:bold"
_CELL = "padding:.3rem .5rem;border-top:1px solid #ddd;vertical-align:top;text-align:left"
_PRE = "white-space:pre-wrap;background:#f6f8fa;padding:.4rem .5rem;margin:.3rem 0 0;border-radius:4px;font-size:90%"
_HINT = "background:#fff8e1;border-left:3px solid #f9a825;padding:.3rem .5rem;margin:.3rem 0 0"


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _message(result: Result) -> str:
    """The failure message: what/expected-vs-got in a box, the hint highlighted below it."""
    lines = result.output.splitlines()
    hint_at = next((i for i, line in enumerate(lines) if line.lstrip().startswith("Hint:")), len(lines))
    body, hint = "\n".join(lines[:hint_at]).rstrip(), " ".join(line.strip() for line in lines[hint_at:])
    parts = [f'<pre style="{_PRE}">{_e(body)}</pre>'] if body else []
    if hint:
        parts.append(f'<div style="{_HINT}">💡 {_e(hint.removeprefix("Hint:").strip())}</div>')
    picture = result.artifacts.get("difference_png")
    if isinstance(picture, bytes) and not result.hidden:
        data = base64.b64encode(picture).decode("ascii")
        parts.append(f'<img alt="expected, got and where they differ" style="max-width:100%;margin-top:.3rem" src="data:image/png;base64,{data}">')
    return "".join(parts)


def _row(result: Result) -> str:
    ok = result.status == PASSED
    mark = f'<span style="{_PASS}">✓</span>' if ok else f'<span style="{_FAIL}">✗</span>'
    status = "" if result.status in (PASSED, "failed") else f' <code style="color:#c62828">{_e(result.status)}</code>'
    note = f' <span style="color:#555">— {_e(result.output)}</span>' if ok and result.output != "passed" else ""
    message = "" if ok else _message(result)
    return (
        f'<tr><td style="{_CELL};width:1.5rem">{mark}</td>'
        f'<td style="{_CELL}">{_e(result.name)}{status}{note}{message}</td>'
        f'<td style="{_CELL};text-align:right;white-space:nowrap">{result.score:g}/{result.max_score:g}</td></tr>'
    )


def feedback_html(title: str, results: list[Result], problems: list[str] = ()) -> str:
    """An HTML fragment: the problems loading the file, then one table row per check, then the score."""
    score = sum(r.score for r in results)
    total = sum(r.max_score for r in results)
    colour = _PASS if results and score == total else _FAIL
    out = ['<div class="cnnex-feedback" style="font-family:system-ui,sans-serif;max-width:60rem">']
    if problems:
        items = "".join(f"<li><pre style=\"{_PRE}\">{_e(p)}</pre></li>" for p in problems)
        out.append(f'<div style="{_HINT}"><strong>Problems while loading your file</strong><ul>{items}</ul></div>')
    out.append('<table style="border-collapse:collapse;width:100%">')
    out += [_row(r) for r in results]
    out.append("</table>")
    out.append(f'<p style="margin:.4rem 0">{_e(title)}: <span style="{colour}">{score:g}/{total:g} points</span></p>')
    out.append("</div>")
    return "".join(out)


class FeedbackReport(ShownOnce, list):
    """The results of a check cell, shown as HTML in Jupyter and as text elsewhere.

    Args:
        title: what the score line names ("conv2d" for one function, the exercise for all).
        results: the check results.
        problems: what went wrong while reading the student's code.
        table: True for the summary table of `reports.terminal.format_report`, False for
            one function's results followed by its score line.
    """

    def __init__(self, title: str, results: list[Result], problems: list[str] = (), table: bool = False):
        super().__init__(results)
        self.title = title
        self.problems = list(problems)
        self.table = table

    def text(self) -> str:
        if self.table:
            return format_report(self.title, list(self), self.problems)
        lines = [f"Problem: {p}" for p in self.problems] + [format_result(r) for r in self]
        got, out_of = sum(r.score for r in self), sum(r.max_score for r in self)
        return "\n".join(lines + [f"{self.title}: {got:g}/{out_of:g} points"])

    def _mimebundle(self) -> dict:
        return {"text/html": feedback_html(self.title, list(self), self.problems), "text/plain": self.text()}

    def _repr_pretty_(self, printer, cycle):  # terminal IPython shows the text, not a list
        printer.text(self.text())

    def show_or_print(self) -> FeedbackReport:
        """Show as HTML in a Jupyter kernel, print the text anywhere else; return self."""
        if kernel_shell() is not None:
            return self.present()
        print(self.text())
        return self
