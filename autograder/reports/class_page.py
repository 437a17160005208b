"""The class report as one self-contained HTML page: no script, no external file, images inline.

Sections: the scores (class and per function), the known mistakes of each function (most
common first, with the hint students saw and two anonymised examples), the checks that
fail without a named mistake (where the hints should grow next), the submissions that
timed out, crashed or broke the rules, and for the Keras exercises accuracy against
parameters and the training curves. Every text that comes from a submission or a file is
escaped.
"""

from __future__ import annotations

import html
import importlib
import re
import statistics

from autograder.reports import class_plots
from autograder.reports.class_report import ClassSummary, FunctionSummary, Mistake

MAJORITY = 0.5
MAX_NAMES = 40

_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 68rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.6rem; margin-bottom: .1rem; } h2 { font-size: 1.25rem; margin-top: 2.4rem; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1.05rem; margin: 1.6rem 0 .4rem; } .muted { color: #59636e; } code { font-size: .92em; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0; } th { text-align: left; font-weight: 600; }
th, td { padding: .35rem .5rem; vertical-align: top; border-top: 1px solid #d8dee4; }
td.n { text-align: right; white-space: nowrap; width: 5.5rem; }
.bar { display: inline-block; height: .6rem; background: #1f77b4; border-radius: 2px; vertical-align: middle; }
.majority td { background: #fff4e5; }
.examples { display: flex; flex-wrap: wrap; gap: .6rem; margin: .3rem 0 .2rem; }
pre { margin: 0; padding: .45rem .6rem; background: #f6f8fa; border-radius: 4px; font-size: 12.5px; line-height: 1.35;
      white-space: pre-wrap; flex: 1 1 28rem; min-width: 0; }
pre .mine { background: #ffebe9; display: block; } pre .ref { background: #dafbe1; color: #116329; display: block; }
pre .who { color: #59636e; font-family: system-ui, sans-serif; }
img { max-width: 100%; height: auto; display: block; margin: .5rem 0; }
.summary { font-size: 1.05rem; } .hint { color: #3d444d; }
nav ul { columns: 2; } .names { font-size: .9rem; }
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _pct(share: float) -> str:
    return f"{share:.0%}"


def _bar(share: float) -> str:
    return f'<span class="bar" style="width:{max(share, 0.0) * 6:.2f}rem"></span>'


def page(summary: ClassSummary) -> str:
    """The whole page for `summary`."""
    title = f"What the class got wrong: {summary.exercise}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
    ]
    if summary.title:
        out.append(f'<p class="muted">{_e(summary.title)}</p>')
    out.append(_overview(summary))
    sections = [
        ("scores", "Scores", _scores(summary)),
        ("mistakes", "Mistakes, function by function", _mistakes(summary)),
        ("unnamed", "Wrong answers no hint explains", _unnamed(summary)),
        ("trouble", "Submissions that did not run to the end", _trouble(summary)),
    ]
    if summary.measurements:
        sections.append(("models", "The models: accuracy, size and training", _models(summary)))
    out.append("<nav><ul>" + "".join(f'<li><a href="#{a}">{_e(h)}</a></li>' for a, h, _ in sections) + "</ul></nav>")
    for anchor, heading, body in sections:
        out.append(f'<h2 id="{anchor}">{_e(heading)}</h2>')
        out.append(body)
    out.append(
        '<p class="muted">Counts are of submissions. Hidden checks are included. Example code is anonymised: '
        "comments and docstrings removed, layout rewritten by Python's <code>ast.unparse</code>; in a diff, "
        "<code>-</code> lines are the reference's and <code>+</code> lines the submission's.</p>"
    )
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _overview(s: ClassSummary) -> str:
    if not s.size:
        return '<p class="summary">No graded submission.</p>'
    full = sum(1 for t in s.totals if t >= s.max_score)
    text = (
        f"<strong>{s.size}</strong> submissions graded; mean score <strong>{statistics.fmean(s.totals):.1f}</strong> "
        f"/ {s.max_score:g}, median {statistics.median(s.totals):g}; {full} with full marks."
    )
    if s.not_graded:
        text += f" {len(s.not_graded)} not graded (see below)."
    return f'<p class="summary">{text}</p>'


def _scores(s: ClassSummary) -> str:
    if not s.size:
        return "<p>Nothing to show.</p>"
    out = [f'<img alt="Histogram of the class\'s total scores" src="{class_plots.score_distribution(s.totals, s.max_score)}">']
    rows = ["<tr><th>function</th><th>points</th><th class=\"n\">mean</th><th class=\"n\">full marks</th>"
            "<th class=\"n\">zero</th></tr>"]
    for f in s.functions:
        full = sum(1 for x in f.scores if x >= f.max_score)
        zero = sum(1 for x in f.scores if x <= 0)
        rows.append(
            f"<tr><td><code>{_e(f.name)}</code></td><td>{f.max_score:g}</td>"
            f'<td class="n">{statistics.fmean(f.scores):.2f}</td><td class="n">{_pct(s.share(full))}</td>'
            f'<td class="n">{_pct(s.share(zero))}</td></tr>'
        )
    out.append("<table>" + "".join(rows) + "</table>")
    figure = class_plots.function_scores([(f.name, f.scores, f.max_score) for f in s.functions])
    out.append(f'<img alt="Histograms of the points per function" src="{figure}">')
    return "\n".join(out)


def _mistakes(s: ClassSummary) -> str:
    out = ['<p class="muted">Each known mistake with the hint students saw, and the most frequent code that made it: '
           '<span style="background:#dafbe1">- lines</span> are the reference\'s, '
           '<span style="background:#ffebe9">+ lines</span> the submission\'s.</p>']
    for f in s.functions:
        out.append(f'<h3><code>{_e(f.name)}</code> <span class="muted">{_function_line(s, f)}</span></h3>')
        if not f.mistakes:
            out.append('<p class="muted">No known mistake was recognised.</p>')
            continue
        out.append('<table><tr><th>mistake and the hint students saw</th><th class="n">submissions</th>'
                   '<th class="n">share</th></tr>')
        for m in f.mistakes:
            out.append(_mistake_row(s, m))
        out.append("</table>")
    return "\n".join(out)


def _function_line(s: ClassSummary, f: FunctionSummary) -> str:
    text = f"mean {statistics.fmean(f.scores):.2f} of {f.max_score:g} points" if f.scores else ""
    stubs = s.not_implemented.get(f.name)
    if stubs:
        text += f"; not implemented in {stubs}"
    return _e(text)


def _mistake_row(s: ClassSummary, m: Mistake) -> str:
    share = s.share(len(m.submissions))
    checks = ", ".join(_e(c) for c in m.checks[:6]) + (" …" if len(m.checks) > 6 else "")
    hint = _code(_e(m.hint)) if m.hint else '<span class="muted">(no hint found for this id in this grader)</span>'
    examples = "".join(_example(text, is_diff, n) for text, is_diff, n in m.examples)
    return (
        f"<tr><td><code>{_e(m.mistake)}</code><br><span class=\"hint\">{hint}</span>"
        f'<br><span class="muted">seen by: {checks}</span>'
        + (f'<div class="examples">{examples}</div>' if examples else "")
        + f'</td><td class="n">{len(m.submissions)}</td><td class="n">{_pct(share)} {_bar(share)}</td></tr>'
    )


def _code(escaped: str) -> str:
    """The `code` and *emphasis* of an escaped hint as <code> and <em>."""
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"<em>\1</em>", escaped)


def _example(text: str, is_diff: bool, count: int) -> str:
    label = f'<span class="who">{count} submission{"s" if count != 1 else ""}:</span>'
    if not is_diff:
        return f"<pre>{label}\n{_e(text)}</pre>"
    lines = []
    for line in text.split("\n"):
        kind = "mine" if line.startswith("+") else "ref" if line.startswith("-") else ""
        lines.append(f'<span class="{kind}">{_e(line)}</span>' if kind else _e(line) + "\n")
    return f"<pre>{label}\n" + "".join(lines) + "</pre>"


def _unnamed(s: ClassSummary) -> str:
    if not s.unnamed:
        return "<p>Every wrong answer matched a known mistake.</p>"
    out = [
        '<p class="muted">Checks failed with a wrong answer that no known mistake reproduces, most first. '
        f"Highlighted: more than {MAJORITY:.0%} of the class. New mutants here would give these students a "
        "precise hint.</p>",
        '<table><tr><th>check</th><th class="n">submissions</th><th class="n">share</th></tr>',
    ]
    for u in s.unnamed:
        share = s.share(u.count)
        hidden = ' <span class="muted">(hidden)</span>' if u.hidden else ""
        css = ' class="majority"' if share > MAJORITY else ""
        out.append(f"<tr{css}><td>{_e(u.check)}{hidden}</td><td class=\"n\">{u.count}</td>"
                   f'<td class="n">{_pct(share)} {_bar(share)}</td></tr>')
    out.append("</table>")
    return "\n".join(out)


def _names(names) -> str:
    names = list(names)
    shown = ", ".join(_e(n) for n in names[:MAX_NAMES])
    return shown + (f" … and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else "")


def _trouble(s: ClassSummary) -> str:
    if not s.trouble and not s.not_graded:
        return "<p>Every submission ran every check to the end.</p>"
    out = ['<table><tr><th>status</th><th class="n">submissions</th><th>which</th></tr>']
    for status, names in s.trouble.items():
        out.append(f'<tr><td>{_e(status)}</td><td class="n">{len(names)}</td><td class="names">{_names(names)}</td></tr>')
    if s.not_graded:
        out.append(f'<tr><td>NOT GRADED</td><td class="n">{len(s.not_graded)}</td>'
                   f'<td class="names">{_names(f"{n} ({e})" for n, e in sorted(s.not_graded.items()))}</td></tr>')
    out.append("</table>")
    out.append('<p class="muted">TIMEOUT, MEMORY and CRASHED: the code hit a limit or killed its process. POLICY: '
               "a library the exercise forbids. ERROR: the code raised, or the file could not be read.</p>")
    return "\n".join(out)


def _models(s: ClassSummary) -> str:
    out = []
    points = [(m["params"], m["accuracy"]) for m in s.measurements.values() if "params" in m and "accuracy" in m]
    if points:
        bar, budget = _constant(s.exercise, "ACCURACY_BAR"), _constant(s.exercise, "PARAMETER_BUDGET")
        accuracies = [a for _, a in points]
        out.append(f"<p>{len(points)} models trained; median held-out accuracy {statistics.median(accuracies):.1%}, "
                   f"median size {statistics.median(p for p, _ in points):,.0f} parameters.</p>")
        out.append(f'<img alt="Held-out accuracy against parameter count, one dot per submission" '
                   f'src="{class_plots.accuracy_vs_params(points, bar, budget)}">')
    histories = [m["history"] for m in s.measurements.values() if m.get("history")]
    if histories:
        metrics = [k for k in ("loss", "accuracy", "val_loss", "val_accuracy") if any(k in h for h in histories)]
        metrics = metrics or sorted({k for h in histories for k in h})[:3]
        out.append(f'<img alt="Training curves of the class: every submission, the median and the middle half" '
                   f'src="{class_plots.training_curves(histories, metrics[:4])}">')
    return "\n".join(out) or "<p>No model was measured.</p>"


def _constant(exercise: str, name: str):
    """A number the exercise's checks module declares (the accuracy bar, the parameter budget), or None."""
    from autograder import exercises

    if exercise not in exercises.available():  # the name comes from a file: import only known modules
        return None
    value = getattr(importlib.import_module(f"autograder.exercises.{exercise}"), name, None)
    return value if isinstance(value, (int, float)) else None
