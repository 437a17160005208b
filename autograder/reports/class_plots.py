"""The class report's figures, as PNG `data:` URIs to embed in the page (matplotlib, no pyplot).

Each function takes plain numbers and returns `data:image/png;base64,...`; figures are
drawn on their own Agg canvas, so no backend or global state is touched.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np

FONT = 10
BLUE, GREY, RED = "#1f77b4", "#9aa5b1", "#c62828"


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="tight")  # "constrained" draws 3x slower


def _uri(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _histogram(ax, values: list[float], top: float, color: str = BLUE) -> None:
    """Submissions per score; one bar per point when the scores are whole points."""
    values = np.asarray(values, dtype=float)
    if top <= 40 and np.allclose(values, np.round(values)) and float(top).is_integer():
        edges = np.arange(0, top + 2) - 0.5
    else:
        edges = np.linspace(0, max(top, 1e-9), 11)
    counts, edges = np.histogram(np.clip(values, 0, top), bins=edges)
    ax.bar((edges[:-1] + edges[1:]) / 2, counts, width=np.diff(edges) * 0.9, color=color)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, max(int(counts.max(initial=0)), 1) * 1.15)
    ax.yaxis.get_major_locator().set_params(integer=True)
    if len(edges) - 1 <= 40 and np.allclose(edges + 0.5, np.round(edges + 0.5)):
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(labelsize=FONT - 1)
    ax.spines[["top", "right"]].set_visible(False)


def score_distribution(totals: list[float], max_score: float) -> str:
    """The class's total scores: submissions per score."""
    fig = _figure(7.0, 2.6)
    ax = fig.add_subplot()
    _histogram(ax, totals, max_score)
    ax.set_xlabel(f"score (out of {max_score:g})", fontsize=FONT)
    ax.set_ylabel("submissions", fontsize=FONT)
    if totals:
        mean = float(np.mean(totals))
        ax.axvline(mean, color=RED, linewidth=1.5, linestyle="--")
        ax.text(mean, ax.get_ylim()[1] * 0.97, f" mean {mean:.1f}", color=RED, fontsize=FONT - 1, va="top")
    return _uri(fig)


def function_scores(functions: list[tuple[str, list[float], float]]) -> str:
    """One small histogram per function: `(name, scores, max_score)` each."""
    columns = min(len(functions), 4) or 1
    rows = math.ceil(len(functions) / columns) or 1
    fig = _figure(2.4 * columns, 2.0 * rows)
    for i, (name, scores, top) in enumerate(functions):
        ax = fig.add_subplot(rows, columns, i + 1)
        _histogram(ax, scores, top)
        ax.set_title(name, fontsize=FONT, family="monospace")
        ax.set_xlabel(f"points (of {top:g})", fontsize=FONT - 1)
        if i % columns == 0:
            ax.set_ylabel("submissions", fontsize=FONT - 1)
    return _uri(fig)


def accuracy_vs_params(points: list[tuple[int, float]], accuracy_bar: float | None = None,
                       params_budget: int | None = None) -> str:
    """Held-out accuracy against parameter count, one dot per submission (log scale for parameters)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    fig = _figure(6.0, 3.4)
    ax = fig.add_subplot()
    params = np.array([p for p, _ in points], dtype=float)
    accuracy = np.array([a for _, a in points], dtype=float)
    ax.scatter(np.maximum(params, 1), accuracy * 100, s=28, color=BLUE, alpha=0.75, edgecolors="white", linewidths=0.5)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("parameters (log scale)", fontsize=FONT)
    ax.set_ylabel("held-out accuracy (%)", fontsize=FONT)
    ax.set_ylim(0, 102)
    if accuracy_bar is not None:
        ax.axhline(accuracy_bar * 100, color=RED, linestyle="--", linewidth=1)
        ax.text(ax.get_xlim()[0], accuracy_bar * 100, f" pass mark {accuracy_bar:.0%}", color=RED, fontsize=FONT - 1,
                va="bottom")
    if params_budget is not None:
        ax.axvline(params_budget, color=GREY, linestyle=":", linewidth=1)
        ax.text(params_budget, 2, f" budget {params_budget:,}", color="#555", fontsize=FONT - 1, va="bottom")
    ax.tick_params(labelsize=FONT - 1)
    ax.spines[["top", "right"]].set_visible(False)
    return _uri(fig)


def training_curves(histories: list[dict[str, list[float]]], metrics: list[str]) -> str:
    """Every submission's curve of each metric (thin), with the class median and middle half (band)."""
    fig = _figure(3.6 * len(metrics), 2.8)
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(1, len(metrics), i + 1)
        series = [h[metric] for h in histories if metric in h]
        for values in series:
            ax.plot(np.arange(1, len(values) + 1), values, color=GREY, alpha=0.35, linewidth=0.8)
        epochs = max((len(v) for v in series), default=0)
        if epochs:
            grid = np.full((len(series), epochs), np.nan)
            for row, values in zip(grid, series):
                row[: len(values)] = values
            x = np.arange(1, epochs + 1)
            counted = np.sum(~np.isnan(grid), axis=0) > 0
            low, mid, high = (np.nanpercentile(grid[:, counted], q, axis=0) for q in (25, 50, 75))
            ax.fill_between(x[counted], low, high, color=BLUE, alpha=0.2, linewidth=0)
            ax.plot(x[counted], mid, color=BLUE, linewidth=2, label="median")
            ax.legend(fontsize=FONT - 1, frameon=False)
        ax.set_title(f"{metric} ({len(series)} submissions)", fontsize=FONT)
        ax.set_xlabel("epoch", fontsize=FONT - 1)
        ax.tick_params(labelsize=FONT - 1)
        ax.spines[["top", "right"]].set_visible(False)
    return _uri(fig)
