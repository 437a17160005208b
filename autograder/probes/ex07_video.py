"""Probes for ex07_video: build the student's video classifier, describe it, train it.

They return plain data; the checks in `autograder/exercises/ex07_video.py` judge it. They are
ex04's probes (`autograder/probes/ex04_keras_cnn.py`) on a clip classifier: staged, so
under `cnnex grade` the student's process only builds and saves the model and a process
that never ran the submission measures it (outputs, compile settings, the loss on fixed
outputs, training from fresh weights). Held-out labels never come here: `train_and_predict`
receives the test clips only and returns the model's outputs on them and on the same clips
played backwards, which the checks score.

Every probe seeds everything and builds (and trains) the model inside
`distribute.get_strategy().scope()`, so the same submission always gives the same data and
training uses every GPU there is.

Glossary: B batch, K classes, T frames, H/W/C a frame's height, width, channels.
"""

from __future__ import annotations

import numpy as np

from autograder.probes import build_in_scope, staged
from autograder.probes import ex04_keras_cnn as cnn

FUNCTION = "build_video_classifier"


def _named(info: dict) -> dict:
    """ex04's measurements, with errors attributed to this exercise's function."""
    if isinstance(info.get("error"), dict):
        info["error"] = {**info["error"], "function": FUNCTION}
    return info


def build(student, input_shape, num_classes, seed=0):
    """Build `build_video_classifier(input_shape, num_classes)`: `{"models": {"model": m}, ...}`, or the error."""
    import keras

    shape = tuple(int(n) for n in input_shape)
    model, error = build_in_scope(FUNCTION, student.build_video_classifier, seed, input_shape=shape,
                                  num_classes=int(num_classes))
    if error is not None:
        return {"error": error}
    if not isinstance(model, keras.Model):
        return {"is_model": False, "type": type(model).__name__}
    return {"models": {"model": model}, "type": type(model).__name__}


def describe(built, input_shape, num_classes, x, labels, probs, logits, seed=0):
    """ex04's `describe` on the built model: outputs on the clips `x` `(B, T, H, W, C)`, parameters
    from the weights, compile settings and the compiled loss on fixed outputs."""
    return _named(cnn.describe(built, input_shape, num_classes, x, labels, probs, logits, seed))


def train_and_predict(built, input_shape, num_classes, x_train, y_train, x_test, epochs, batch_size, seed=0):
    """Train the built architecture from fresh weights (ex04's `train_and_predict`) and return its
    outputs on the test clips, forwards and played backwards.

    Args:
        x_train: `(N, T, H, W, C)`, y_train: `(N,)` ints, x_test: `(M, T, H, W, C)`.
        epochs, batch_size: the training budget.

    Returns:
        A dict: `error` (and `during`), else `outputs` and `reversed_outputs` `(M, K)` float32
        (the second on `x_test[:, ::-1]`) and `history`.
    """
    clips = np.asarray(x_test, dtype=np.float32)
    both = np.concatenate([clips, clips[:, ::-1]])  # (2M, T, H, W, C): forwards, then backwards
    info = _named(cnn.train_and_predict(built, input_shape, num_classes, x_train, y_train, both, epochs,
                                        batch_size, seed))
    outputs = info.pop("outputs", None)
    if outputs is not None and outputs.ndim >= 1 and len(outputs) == 2 * len(clips):
        info["outputs"], info["reversed_outputs"] = outputs[: len(clips)], outputs[len(clips):]
    elif "error" not in info:
        info["outputs"] = info["reversed_outputs"] = outputs
    return info


BUILD_PARAMS = ("input_shape", "num_classes", "seed")
PROBES = {
    "describe": staged(build, describe, BUILD_PARAMS, keeps_model=True),
    "train_and_predict": staged(build, train_and_predict, BUILD_PARAMS),
}
