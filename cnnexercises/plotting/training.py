"""How training went and what the model gets wrong: curves, confusion matrix, predictions.

Glossary: N examples, K classes.
"""

from __future__ import annotations

import numbers

import numpy as np

from cnnexercises.plotting._figure import NotebookFigure, grid, show_image, shows_itself


def _history_dict(history):
    values = getattr(history, "history", history)
    if not isinstance(values, dict) or not values:
        raise ValueError(
            "`history` must be the History that `fit` returns or its `.history` dict, not empty. "
            f"Received: history={history!r}"
        )
    return {k: [float(v) for v in vs] for k, vs in values.items()}


@shows_itself
def training_curves(history):
    """Loss and metrics per epoch, training and validation, one axes per quantity.

    Args:
        history: the `keras.callbacks.History` that `model.fit` returns, or its `.history`
            dict, e.g. `{"loss": [...], "accuracy": [...], "val_loss": [...], "val_accuracy": [...]}`.

    Returns:
        A `matplotlib.figure.Figure` with one axes per quantity ("loss" first, then
        "accuracy" and any other metric), each with a "train" line and, when recorded,
        a "validation" line.

    Example:
        >>> fig = training_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7],
        ...                        "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]})
        >>> [ax.get_title() for ax in fig.axes]
        ['loss', 'accuracy']
    """
    values = _history_dict(history)
    names = [k for k in values if not k.startswith("val_")]
    names += [k[4:] for k in values if k.startswith("val_") and k[4:] not in values]  # validation only
    names.sort(key=lambda k: (k != "loss", k))
    fig, axes = grid(len(names), ncols=min(len(names), 3), cell=(3.6, 2.8))
    for ax, name in zip(axes, names):
        for key, label, style in ((name, "train", "-o"), (f"val_{name}", "validation", "--s")):
            if key in values:
                epochs = np.arange(1, len(values[key]) + 1)
                ax.plot(epochs, values[key], style, markersize=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def _labels(y, name):
    """Integer labels `(N,)` from labels `(N,)`, one-hot or probabilities `(N, K)`."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1), y                                     # (N, K) -> (N,)
    y = y.reshape(-1)
    if y.size and (not np.all(np.isfinite(y)) or np.any(y < 0) or np.any(y != np.round(y))):
        raise ValueError(f"`{name}` must hold class indices >= 0 or one row of scores per example. Received: {name}={y[:5]!r}...")
    return y.astype(np.int64), None


def confusion_counts(y_true, y_pred, num_classes=None):
    """`counts[t, p]`: how many examples of true class `t` were predicted as class `p`.

    Args:
        y_true: `(N,)` class indices or `(N, K)` one-hot.
        y_pred: `(N,)` class indices or `(N, K)` scores (argmax taken).
        num_classes: `K`; default: one more than the largest label seen.

    Returns:
        int64 `(K, K)`; row sums are the class counts of `y_true`.

    Example:
        >>> confusion_counts([0, 1, 1, 2], [0, 2, 1, 2]).tolist()
        [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    """
    true, _ = _labels(y_true, "y_true")
    pred, _ = _labels(y_pred, "y_pred")
    if true.shape != pred.shape:
        raise ValueError(
            "`y_true` and `y_pred` must have one label per example each. "
            f"Received: y_true has {true.shape[0]}, y_pred has {pred.shape[0]}"
        )
    k = num_classes if num_classes is not None else int(max(true.max(initial=-1), pred.max(initial=-1))) + 1
    if true.size and max(true.max(), pred.max()) >= k:
        raise ValueError(f"Labels must be below num_classes. Received: num_classes={k}, largest label={max(true.max(), pred.max())}")
    counts = np.zeros((k, k), dtype=np.int64)                              # (K, K)
    np.add.at(counts, (true, pred), 1)
    return counts


@shows_itself
def confusion_matrix(y_true, y_pred, class_names=None):
    """The confusion matrix as a heat map with the count in every cell.

    Rows are true classes, columns predicted classes; the title gives the accuracy.

    Args:
        y_true: `(N,)` class indices or `(N, K)` one-hot.
        y_pred: `(N,)` class indices or `(N, K)` scores (argmax taken).
        class_names: `K` names for the axes; default "0", "1", ...

    Returns:
        A `matplotlib.figure.Figure` with one axes (plus its colour bar).

    Example:
        >>> fig = confusion_matrix([0, 1, 1], [0, 1, 0], class_names=["cat", "dog"])
        >>> fig.axes[0].get_title()
        'accuracy 0.667 (2 of 3)'
    """
    num_classes = len(class_names) if class_names is not None else None
    counts = confusion_counts(y_true, y_pred, num_classes)
    k = counts.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    total, right = int(counts.sum()), int(np.trace(counts))
    size = max(3.2, 0.45 * k + 2)
    fig = NotebookFigure(figsize=(size + 0.8, size), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8)
    threshold = counts.max() / 2 if counts.size else 0
    for t in range(k):
        for p in range(k):
            ax.text(p, t, str(counts[t, p]), ha="center", va="center", fontsize=8,
                    color="white" if counts[t, p] > threshold else "black")
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names), default=0) > 3 else 0, ha="right" if max(map(len, names), default=0) > 3 else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"accuracy {right / total:.3f} ({right} of {total})" if total else "no examples")
    return fig


@shows_itself
def predictions(images, y_true, y_pred, class_names=None, n=16, wrong_first=False):
    """A grid of images titled "predicted (true)"; wrong predictions in red with a red frame.

    Args:
        images: `(N, H, W)` or `(N, H, W, C)` with C 1 or 3; any value range.
        y_true: `(N,)` class indices or `(N, K)` one-hot.
        y_pred: `(N,)` class indices or `(N, K)` scores; with scores, the title adds the
            predicted class's score.
        class_names: names for the titles; default the indices.
        n: how many images to draw (the first `n`).
        wrong_first: draw the wrong predictions first.

    Returns:
        A `matplotlib.figure.Figure` with one axes per image drawn.

    Example:
        >>> fig = predictions(np.zeros((3, 8, 8)), [0, 1, 1], [0, 1, 0], n=3)
        >>> [ax.get_title() for ax in fig.axes]
        ['0 (0)', '1 (1)', '✗ 0 (1)']
    """
    images = np.asarray(images)
    true, _ = _labels(y_true, "y_true")
    pred, scores = _labels(y_pred, "y_pred")
    if not (len(images) == len(true) == len(pred)):
        raise ValueError(
            "`images`, `y_true` and `y_pred` must have one entry per example. "
            f"Received: {len(images)} images, {len(true)} true labels, {len(pred)} predictions"
        )
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1 or len(images) == 0:
        raise ValueError(f"`n` must be a positive int and there must be images. Received: n={n!r}, len(images)={len(images)}")
    order = np.arange(len(images))
    if wrong_first:
        order = np.concatenate([order[true != pred], order[true == pred]])
    order = order[:n]
    name = (lambda i: str(class_names[i])) if class_names is not None else str
    fig, axes = grid(len(order), cell=(1.5, 1.6))
    wrong = 0
    for ax, i in zip(axes, order):
        title = f"{name(pred[i])} ({name(true[i])})"
        if scores is not None:
            title = f"{name(pred[i])} {scores[i, pred[i]]:.2f} ({name(true[i])})"
        ok = pred[i] == true[i]
        show_image(ax, images[i], title=title if ok else f"✗ {title}")
        if not ok:
            wrong += 1
            ax.title.set_color("red")
            for spine in ax.spines.values():
                spine.set_edgecolor("red")
                spine.set_linewidth(2.5)
    fig.suptitle(f"predicted (true): {wrong} of {len(order)} wrong", fontsize=9)
    return fig
