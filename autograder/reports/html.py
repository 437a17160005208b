"""Feedback as a self-contained HTML page (no scripts, no external files).

One section per function with each check's outcome, points and message (what was
checked, expected vs got, hint). Hidden checks show only what the check engine lets
through (outcome and hint). A training history attached by a public check
(`result.artifacts["history"]`, a dict of lists such as Keras' `History.history`) is
drawn as inline SVG.
"""

from __future__ import annotations

import html

from autograder.checks import PASSED, Result
from autograder.reports import safe

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.score { font-size: 1.2rem; } .muted { color: #666; }
table { border-collapse: collapse; width: 100%; } td { padding: .35rem .5rem; vertical-align: top; border-top: 1px solid #ddd; }
td.mark { width: 1.5rem; font-weight: bold; } td.points { width: 4rem; text-align: right; white-space: nowrap; }
.passed { color: #1a7f37; } .failed { color: #c62828; }
.status { font-size: .8rem; border: 1px solid #c62828; border-radius: 3px; padding: 0 .25rem; margin-left: .4rem; }
pre { white-space: pre-wrap; background: #f6f8fa; padding: .5rem; margin: .35rem 0 0; border-radius: 4px; }
.problems { background: #fff4e5; padding: .5rem 1rem; border-radius: 4px; }
svg { margin: .5rem 1rem 0 0; }
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def history_svg(history: dict, width: int = 420, height: int = 220) -> str:
    """Training curves as inline SVG: one chart for the losses, one for the other metrics.

    Args:
        history: metric name -> list of numbers per epoch (`History.history`).

    Returns:
        The SVG markup (empty when there is nothing numeric to draw).
    """
    series = {name: points for name, points in safe.history(history).items() if points}
    charts = [
        {k: v for k, v in series.items() if "loss" in k},
        {k: v for k, v in series.items() if "loss" not in k},
    ]
    return "".join(_chart(c, width, height) for c in charts if c)


def _chart(series: dict[str, list[float]], width: int, height: int) -> str:
    left, right, top, bottom = 48, 12, 12, 40
    lo = min(min(v) for v in series.values())
    hi = max(max(v) for v in series.values())
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    epochs = max(len(v) for v in series.values())
    sx = (width - left - right) / max(epochs - 1, 1)
    sy = (height - top - bottom) / (hi - lo)

    def xy(i, v):
        return f"{left + i * sx:.1f},{top + (hi - v) * sy:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{_e(", ".join(series))} per epoch">',
        f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" '
        'fill="none" stroke="#bbb"/>',
        f'<text x="{left - 4}" y="{top + 4}" font-size="11" text-anchor="end">{hi:.3g}</text>',
        f'<text x="{left - 4}" y="{height - bottom}" font-size="11" text-anchor="end">{lo:.3g}</text>',
        f'<text x="{width / 2:.0f}" y="{height - 22}" font-size="11" text-anchor="middle">epoch (1–{epochs})</text>',
    ]
    for n, (name, values) in enumerate(series.items()):
        color = _COLORS[n % len(_COLORS)]
        if len(values) == 1:
            x, y = xy(0, values[0]).split(",")
            parts.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{color}"/>')
        else:
            points = " ".join(xy(i, v) for i, v in enumerate(values))
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        lx = left + n * 100
        parts.append(f'<rect x="{lx}" y="{height - 12}" width="10" height="3" fill="{color}"/>')
        parts.append(f'<text x="{lx + 14}" y="{height - 8}" font-size="11">{_e(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def feedback_page(title: str, submission: str, results: list[Result], problems: list[str] = ()) -> str:
    """The whole feedback page of one submission.

    Args:
        title: the exercise ("ex01_convolution — Convolution from scratch").
        submission: the submission's name.
        results: its check results (hidden ones included).
        problems: what went wrong while loading the file.
    """
    score = sum(r.score for r in results)
    total = sum(r.max_score for r in results)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(submission)}: {score:g}/{total:g}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">Feedback for <strong>{_e(submission)}</strong></p>',
        f'<p class="score">Score: <strong>{score:g}</strong> / {total:g}</p>',
    ]
    if problems:
        out.append('<div class="problems"><p><strong>Problems while loading your file</strong></p><ul>')
        out += [f"<li><pre>{_e(p)}</pre></li>" for p in problems]
        out.append("</ul></div>")
    functions: list[str] = []
    for r in results:
        if r.function not in functions:
            functions.append(r.function)
    for function in functions:
        mine = [r for r in results if r.function == function]
        got = sum(r.score for r in mine)
        out.append(f"<h2><code>{_e(function)}</code> <span class=\"muted\">{got:g}/{sum(r.max_score for r in mine):g}</span></h2>")
        out.append("<table>")
        for r in mine:
            out.append(_row(r))
        out.append("</table>")
        for r in mine:
            if not r.hidden and isinstance(r.artifacts.get("history"), dict):
                svg = history_svg(r.artifacts["history"])
                if svg:
                    out.append(f"<p>Training curves ({_e(r.name)}):</p>{svg}")
    out.append('<p class="muted">Hidden checks show their outcome and hint, never their inputs.</p>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _row(r: Result) -> str:
    ok = r.status == PASSED
    mark = "✓" if ok else "✗"
    status = "" if r.status in (PASSED, "failed") else f'<span class="status">{_e(r.status)}</span>'
    hidden = ' <span class="muted">(hidden)</span>' if r.hidden else ""
    message = "" if ok else f"<pre>{_e(r.output)}</pre>"
    return (
        f'<tr><td class="mark {"passed" if ok else "failed"}">{mark}</td>'
        f"<td>{_e(r.name)}{hidden}{status}{message}</td>"
        f'<td class="points">{r.score:g}/{r.max_score:g}</td></tr>'
    )
