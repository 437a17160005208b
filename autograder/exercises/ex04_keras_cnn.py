"""Checks for ex04_keras_cnn: a CNN built, compiled and trained with Keras.

Everything that touches the live model runs in the probes (`autograder/probes/
ex04_keras_cnn.py`), which return plain data; the checks here judge that data and
never import Keras, so they run unchanged in the grader's trusted parent process.

Decisions (documented for students in the notebook):
- Labels are integer class ids, as `cnnexercises.datasets` returns them, so the loss must
  take integer labels (`sparse_categorical_crossentropy`).
- Both output conventions are accepted when the loss agrees: probabilities (softmax)
  with `from_logits=False`, or logits with `from_logits=True`. This is decided by
  behaviour: the model's outputs are probabilities when every row is non-negative and
  sums to 1, and the compiled loss is evaluated on fixed outputs and compared with the
  cross-entropy the grader computes (`autograder.keras_verdicts`).
- "Convolution and downsampling": at least one 2D convolution, and the feature maps
  shrink somewhere: a pooling layer (max, average or global) or a convolution with a
  stride above 1. `Conv2D(activation="relu")` and `Conv2D` + `ReLU` are the same here.
- Training: the grader trains `build_cnn((28, 28, 1), 10)` for `EPOCHS` epochs with
  batch size `BATCH_SIZE` on the 1,347 training images of scikit-learn's digits,
  upsampled to 28x28 like MNIST, and scores the accuracy on the 450 held-out images
  itself. The bar `ACCURACY_BAR` asks that the network learns, not that it is tuned:
  over ten seeds the reference reaches 0.92-0.98 (mean 0.96, std 0.018) and an
  all-convolutional network (strided convolutions + global average pooling, valid but
  slower to train) 0.78-0.91 (mean 0.85); chance is 0.10
  (`benchmarks/calibrate_ex04_accuracy.py`).
"""

from __future__ import annotations

import functools

import numpy as np

from autograder.checks import CheckFailed, Exercise
from autograder.keras_verdicts import check_compiled, check_loss, describe_classifier
from autograder.probes import probes_for
from autograder.resources import KERAS

EXERCISE = Exercise(
    "ex04_keras_cnn",
    "A CNN in Keras: build, compile and train it on digits",
    ["build_cnn"],
    resources=KERAS,
)
EXERCISE.probes.update(probes_for(EXERCISE.name))

GRADING_SHAPE = (28, 28, 1)
GRADING_CLASSES = 10
EPOCHS = 5
BATCH_SIZE = 32
SEED = 0
ACCURACY_BAR = 0.70
PARAMETER_BUDGET = 500_000


# --------------------------------------------------------------------------- mutants
# Known-wrong `build_cnn`s. Their hints are what the checks below say when the student's
# model behaves the same way; tests run each one as a student and expect its hint.


def _stack(keras, input_shape, units, activation="softmax", conv=True):
    layers = keras.layers
    body = [layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(2)] if conv else []
    return keras.Sequential(
        [keras.Input(shape=input_shape), *body, layers.Flatten(), layers.Dense(32, activation="relu"),
         layers.Dense(units, activation=activation)]
    )


@EXERCISE.mutant(
    "build_cnn",
    "your model has no convolution: it flattens the pixels into a dense network, which "
    "learns every position separately. Put `Conv2D` layers (each followed by pooling) "
    "before `Flatten`.",
)
def dense_only(input_shape=(28, 28, 1), num_classes=10):
    import keras

    model = _stack(keras, input_shape, num_classes, conv=False)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@EXERCISE.mutant(
    "build_cnn",
    "your last layer already applies softmax, but the loss has `from_logits=True`, so "
    "softmax is applied twice. Either keep the softmax and use `from_logits=False` (the "
    "default of 'sparse_categorical_crossentropy'), or drop the softmax (logits) and keep "
    "`from_logits=True`.",
)
def softmax_with_from_logits(input_shape=(28, 28, 1), num_classes=10):
    import keras

    model = _stack(keras, input_shape, num_classes)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


@EXERCISE.mutant(
    "build_cnn",
    "your last layer outputs logits (no softmax), but the loss expects probabilities. "
    "Either add `activation='softmax'` to the last Dense layer, or use "
    "`keras.losses.SparseCategoricalCrossentropy(from_logits=True)`.",
)
def logits_without_from_logits(input_shape=(28, 28, 1), num_classes=10):
    import keras

    model = _stack(keras, input_shape, num_classes, activation=None)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@EXERCISE.mutant(
    "build_cnn",
    "your loss expects one-hot labels, but the labels are integer class ids (0, 1, 2, ...) "
    "as `cnnexercises.datasets` returns them. Use 'sparse_categorical_crossentropy', "
    "which takes integer labels.",
)
def categorical_with_integer_labels(input_shape=(28, 28, 1), num_classes=10):
    import keras

    model = _stack(keras, input_shape, num_classes)
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@EXERCISE.mutant(
    "build_cnn",
    "your model is not compiled. Call `model.compile(optimizer=..., "
    "loss='sparse_categorical_crossentropy', metrics=['accuracy'])` before returning it.",
)
def not_compiled(input_shape=(28, 28, 1), num_classes=10):
    import keras

    return _stack(keras, input_shape, num_classes)


@EXERCISE.mutant(
    "build_cnn",
    "your output layer has 10 units whatever `num_classes` is. Give the last Dense layer "
    "`num_classes` units (use the argument, not a number).",
)
def ten_output_units(input_shape=(28, 28, 1), num_classes=10):
    import keras

    model = _stack(keras, input_shape, 10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@EXERCISE.mutant(
    "build_cnn",
    "your model never downsamples: without pooling the feature maps keep the full image "
    "size, so Flatten produces a huge vector. Add `MaxPooling2D(2)` after convolutions "
    "(or give a convolution `strides=2`).",
)
def no_downsampling(input_shape=(28, 28, 1), num_classes=10):
    import keras

    layers = keras.layers
    model = keras.Sequential(
        [keras.Input(shape=input_shape), layers.Conv2D(32, 3, activation="relu", padding="same"),
         layers.Conv2D(32, 3, activation="relu", padding="same"), layers.Flatten(),
         layers.Dense(num_classes, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@EXERCISE.mutant(
    "build_cnn",
    "you compiled without `metrics=['accuracy']`: `fit` and `evaluate` then report the "
    "loss only. Pass `metrics=['accuracy']` to `compile`.",
)
def no_accuracy_metric(input_shape=(28, 28, 1), num_classes=10):
    import keras

    model = _stack(keras, input_shape, num_classes)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


# --------------------------------------------------------------------------- helpers


def _signature(input_shape, num_classes) -> str:
    return f"build_cnn(input_shape={tuple(input_shape)}, num_classes={num_classes})"


def _describe(ctx, input_shape=GRADING_SHAPE, num_classes=GRADING_CLASSES, batch=6) -> dict:
    return describe_classifier(ctx, "build_cnn", _signature(input_shape, num_classes), input_shape, num_classes,
                               batch, SEED)


@functools.lru_cache(maxsize=1)
def grading_data():
    """The digits the grader trains and tests on: `cnnexercises.datasets.load_digits_28x28()`.

    Students load the same images in the notebook, so the graded run can be reproduced.

    Returns:
        `((x_train, y_train), (x_test, y_test))`, `x_*` float32 `(N, 28, 28, 1)` in [0, 1].
    """
    from cnnexercises.datasets import load_digits_28x28

    return load_digits_28x28()


# --------------------------------------------------------------------------- checks


@EXERCISE.check("build_cnn: returns a compiled keras.Model with the accuracy metric", points=1)
def _(ctx):
    check_compiled(ctx, _describe(ctx), _signature(GRADING_SHAPE, GRADING_CLASSES))


def _output_shape(ctx, input_shape, num_classes, batch):
    info = _describe(ctx, input_shape, num_classes, batch)
    what = f"{_signature(input_shape, num_classes)} on inputs {(batch, *input_shape)}"
    outputs = info.get("outputs")
    expected = (batch, num_classes)
    if outputs is None:
        raise CheckFailed(what, f"expected one array (batch, classes), got {info.get('output_type')}",
                          "the model must have a single output: the class scores.")
    if tuple(outputs.shape) != expected:
        got = tuple(outputs.shape)
        hint = ""
        if len(got) == 2 and got[1] != num_classes:
            hint = ctx.diagnosis("ten_output_units") if got[1] == 10 else (
                "give the last Dense layer `num_classes` units."
            )
        elif len(got) > 2:
            hint = "flatten the feature maps (`Flatten` or `GlobalAveragePooling2D`) before the Dense layers."
        raise CheckFailed(
            what,
            f"output shape: expected (batch={batch}, classes={num_classes}), got {got}",
            hint or "start the model with `keras.Input(shape=input_shape)` and end it with "
            "`Dense(num_classes)`.",
        )
    if not np.all(np.isfinite(outputs)):
        raise CheckFailed(what, "the outputs contain NaN or infinity", "")


@EXERCISE.check("build_cnn: output is (batch, num_classes) for input_shape=(36, 32, 3), num_classes=7", points=1)
def _(ctx):
    _output_shape(ctx, (36, 32, 3), 7, 5)


@EXERCISE.check("build_cnn: follows its input_shape and num_classes arguments (another shape)", points=1, hidden=True)
def _(ctx):
    _output_shape(ctx, (28, 20, 1), 4, 3)


@EXERCISE.check("build_cnn: the loss matches the output layer and integer labels", points=2)
def _(ctx):
    info = _describe(ctx, (36, 32, 3), 7)
    check_loss(ctx, info, f"{_signature((36, 32, 3), 7)}: loss {info['loss']['name']!r} on the model's outputs")


def _require_convolution(ctx, what: str) -> None:
    """A network without any convolution earns none of the points for size and training.

    Those points are for a CNN: a dense network on the pixels can learn the centred
    digits, but it is not the exercise, so it keeps at most half of the points.
    """
    if not any(layer["kind"] == "conv" for layer in _describe(ctx)["layers"]):
        raise CheckFailed(
            what,
            "your model has no convolution: this check counts only for a CNN",
            ctx.diagnosis("dense_only"),
        )


@EXERCISE.check("build_cnn: has convolution and downsampling (pooling or strides)", points=1)
def _(ctx):
    info = _describe(ctx)
    layers = info["layers"]
    what = f"{_signature(GRADING_SHAPE, GRADING_CLASSES)} layers"
    summary = ", ".join(layer["class"] for layer in layers) or "none"
    convs = [layer for layer in layers if layer["kind"] == "conv"]
    if not convs:
        raise CheckFailed(f"{what} include a 2D convolution", f"layers: {summary}", ctx.diagnosis("dense_only"))
    downsamples = [
        layer
        for layer in layers
        if layer["kind"] in ("pool", "global_pool") or (layer["kind"] == "conv" and max(layer["strides"] or [1]) > 1)
    ]
    if not downsamples:
        raise CheckFailed(
            f"{what} include a downsampling step (pooling, or a convolution with strides > 1)",
            f"layers: {summary}",
            ctx.diagnosis("no_downsampling"),
        )


@EXERCISE.check(f"build_cnn: at most {PARAMETER_BUDGET:,} parameters for 28x28x1 inputs and 10 classes", points=1)
def _(ctx):
    _require_convolution(ctx, f"{_signature(GRADING_SHAPE, GRADING_CLASSES)}.count_params() <= {PARAMETER_BUDGET:,}")
    info = _describe(ctx)
    params = info["params"]
    ctx.attach("params", params)
    if params > PARAMETER_BUDGET:
        hint = (
            "most parameters usually sit in the first Dense layer after Flatten: add pooling "
            "(or a convolution with strides=2) so that the feature maps are smaller, use fewer "
            "units, or use GlobalAveragePooling2D instead of Flatten."
        )
        if not any(layer["kind"] in ("pool", "global_pool") for layer in info["layers"]):
            hint = ctx.diagnosis("no_downsampling")
        raise CheckFailed(
            f"{_signature(GRADING_SHAPE, GRADING_CLASSES)}.count_params() <= {PARAMETER_BUDGET:,}",
            f"got {params:,} parameters",
            hint,
        )


@EXERCISE.check(
    f"build_cnn: trained {EPOCHS} epochs on 28x28 digits, held-out accuracy >= {ACCURACY_BAR:.0%}",
    points=3,
)
def _(ctx):
    ctx.require("build_cnn")
    _require_convolution(ctx, f"{_signature(GRADING_SHAPE, GRADING_CLASSES)} trained for {EPOCHS} epochs")
    (x_train, y_train), (x_test, y_test) = grading_data()
    info = ctx.run_probe(
        "train_and_predict",
        input_shape=list(GRADING_SHAPE),
        num_classes=GRADING_CLASSES,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        epochs=EPOCHS,
        batch_size=BATCH_SIZE,
        seed=SEED,
    )
    what = (
        f"{_signature(GRADING_SHAPE, GRADING_CLASSES)} trained for {EPOCHS} epochs "
        f"(batch size {BATCH_SIZE}) on {len(x_train)} digits"
    )
    ctx.fail_on_error(
        info,
        what,
        "the other checks of `build_cnn` say what to fix first (a loss that does not take "
        "integer labels fails here).",
    )
    history = info.get("history") or {}
    ctx.attach("history", history)
    outputs = info.get("outputs")
    if outputs is None or outputs.shape != (len(x_test), GRADING_CLASSES):
        got = None if outputs is None else tuple(outputs.shape)
        raise CheckFailed(what, f"predictions: expected ({len(x_test)}, {GRADING_CLASSES}), got {got}",
                          "fix the output shape first.")
    if not np.all(np.isfinite(outputs)):
        raise CheckFailed(what, "the predictions contain NaN: training diverged",
                          "lower the learning rate, and check that the loss matches the output layer.")
    accuracy = float(np.mean(outputs.argmax(axis=1) == y_test))
    ctx.attach("accuracy", accuracy)
    if accuracy < ACCURACY_BAR:
        last = {k: round(v[-1], 4) for k, v in history.items() if v}
        raise CheckFailed(
            what,
            f"accuracy on {len(x_test)} held-out digits: {accuracy:.1%}, needs >= {ACCURACY_BAR:.0%}\n"
            f"last epoch: {last}",
            "check that the loss matches the output layer (see the loss check), use the Adam "
            "optimizer with its default learning rate, and give the network a few convolutions "
            "with ReLU and pooling followed by one or two Dense layers.",
        )
    return f"held-out accuracy {accuracy:.1%} (needs >= {ACCURACY_BAR:.0%})"
