"""Probes for ex07_video: build the student's video classifier, describe it, train it.

They run where the student's code runs (the isolated child under `cnnex grade`) and
return plain data; the checks in `autograder/exercises/ex07_video.py` judge it. They are
shaped like ex04's probes (`describe`, `train_and_predict`) and share its helpers for the
loss, the metrics and the outputs. Held-out labels never come here: `train_and_predict`
receives the test clips only and returns the model's outputs on them and on the same
clips played backwards, which the checks score.

Every probe seeds everything and builds the model inside `distribute.get_strategy().scope()`,
so the same submission always gives the same data and training uses every GPU there is.

Glossary: B batch, K classes, T frames, H/W/C a frame's height, width, channels.
"""

from __future__ import annotations

import numpy as np

from autograder.probes import build_in_scope, student_error
from autograder.probes.ex04_keras_cnn import _describe_loss, _loss_values, _metric_names, _to_numpy

FUNCTION = "build_video_classifier"


def _build(student, input_shape, num_classes, seed):
    """(model, None) or (None, error dict); NotImplementedError propagates."""
    shape = tuple(int(n) for n in input_shape)
    return build_in_scope(FUNCTION, student.build_video_classifier, seed, input_shape=shape,
                          num_classes=int(num_classes))


def describe(student, input_shape, num_classes, x, labels, probs, logits, seed=0):
    """Build `build_video_classifier(input_shape, num_classes)` and describe it.

    Args:
        x: `(B, T, H, W, C)` clips to run through the model.
        labels: `(B,)` ints; `probs`, `logits`: `(B, K)` fixed outputs on which to
            evaluate the compiled loss.

    Returns:
        A dict: `error` (the student's exception) or `is_model`, `type`, `outputs`
        `(B, ...)` or None, `params`, `compiled`, `optimizer`, `metrics`, `loss`
        (`name`, `from_logits`), `loss_values` ("probabilities/integer" -> float or error text).
    """
    import keras

    model, error = _build(student, input_shape, num_classes, seed)
    if error is not None:
        return {"error": error}
    info = {"is_model": isinstance(model, keras.Model), "type": type(model).__name__}
    if not info["is_model"]:
        return info
    try:
        outputs = model(np.asarray(x, dtype=np.float32), training=False)
        info["outputs"] = _to_numpy(outputs)
        info["output_type"] = type(outputs).__name__
    except Exception as err:
        return {**info, "error": student_error(FUNCTION, err, "calling the model")}
    info["params"] = int(model.count_params())
    info["compiled"] = bool(getattr(model, "compiled", False))
    optimizer = getattr(model, "optimizer", None) if info["compiled"] else None
    info["optimizer"] = type(optimizer).__name__ if optimizer is not None else None
    info["metrics"] = _metric_names(model) if info["compiled"] else []
    info["loss"] = _describe_loss(model) if info["compiled"] else {"name": None, "from_logits": None}
    info["loss_values"] = (
        _loss_values(model, np.asarray(probs), np.asarray(logits), labels)
        if info["compiled"] and info["loss"]["name"] is not None
        else {}
    )
    return info


def train_and_predict(student, input_shape, num_classes, x_train, y_train, x_test, epochs, batch_size, seed=0):
    """Build, train with a fixed budget, and return the outputs on the test clips, forwards and backwards.

    Args:
        x_train: `(N, T, H, W, C)`, y_train: `(N,)` ints, x_test: `(M, T, H, W, C)`.
        epochs, batch_size: the training budget (`fit(..., shuffle=True)`).

    Returns:
        A dict: `error` (and `during`) when building, training or predicting raised, else
        `outputs` and `reversed_outputs` `(M, K)` float32 (the second on `x_test[:, ::-1]`)
        and `history` (`fit`'s history: name -> list of floats).
    """
    model, error = _build(student, input_shape, num_classes, seed)
    if error is not None:
        return {"error": error | {"during": "building"}}
    try:
        history = model.fit(
            np.asarray(x_train, dtype=np.float32),
            np.asarray(y_train, dtype=np.int64),
            epochs=int(epochs),
            batch_size=int(batch_size),
            shuffle=True,
            verbose=0,
        )
    except Exception as err:
        return {"error": student_error(FUNCTION, err, "model.fit")}
    clips = np.asarray(x_test, dtype=np.float32)
    try:
        outputs = model.predict(clips, batch_size=256, verbose=0)
        reversed_outputs = model.predict(np.ascontiguousarray(clips[:, ::-1]), batch_size=256, verbose=0)
    except Exception as err:
        return {"error": student_error(FUNCTION, err, "model.predict")}
    history = {
        str(name): [float(v) for v in values]
        for name, values in getattr(history, "history", {}).items()
    }
    return {"outputs": _to_numpy(outputs), "reversed_outputs": _to_numpy(reversed_outputs), "history": history}


PROBES = {"describe": describe, "train_and_predict": train_and_predict}
