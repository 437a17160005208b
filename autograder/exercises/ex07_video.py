"""Checks for ex07_video: the parameters of a Conv3D, and a video classifier that must use time.

Everything that touches the live model runs in the probes (`autograder/probes/
ex07_video.py`), which return plain data; the checks here judge that data and never
import Keras. They are built like ex04's (describe, then train and predict) and share the
engine's verdicts on a compiled classifier (`autograder.keras_verdicts`).

Decisions (documented for students in the notebook):
- `conv3d_params` is compared with the formula `kt * kh * kw * C * F + F`, which the
  tests check against `keras.layers.Conv3D(...).count_params()`.
- The clips are `cnnexercises.datasets.load_moving_shapes`: a shape moving left, right, up
  or down that wraps around the edges, so that no single frame says anything about the
  direction and only the order of the frames does.
- Training: the grader trains `build_video_classifier(GRADING_SHAPE, 4)` for `EPOCHS`
  epochs with batch size `BATCH_SIZE` on `N_TRAIN` clips it generates (small clips, so that
  grading one submission stays within seconds on a CPU) and scores the accuracy on
  `N_TEST` other clips itself. Over seeds 0-4 the reference (two Conv3D, global max
  pooling) reaches 1.00, a per-frame CNN read in order by a Conv1D 0.97-1.00 (seeds 0-2),
  while a model that sees one frame reaches 0.24-0.28 and a per-frame CNN pooled over time
  (every frame, no order) 0.32-0.33 (`benchmarks/calibrate_ex07_accuracy.py`). Slow
  learners stay low under this budget: Conv3D + global *average* pooling + Adam(1e-3)
  0.63-0.88, a per-frame CNN + GRU 0.23-0.74 (seeds 0-2). `ACCURACY_BAR` (0.55) sits
  0.22 above the best time-blind run, and above what any model blind to the order can
  reach at all: a clip played backwards is a clip of the opposite direction with the same
  frames, so without the order only the axis can be known, 0.50 at most.
- Time reversal: played backwards, a "left" clip is a "right" clip (and "up" a "down").
  A model that uses the order of time flips its answer for most clips; one that only
  sees motion blur, or frames as a set, answers the same. `FLIP_BAR` is, of the held-out
  clips predicted right, the share whose prediction must flip: 1.00 for the reference,
  0.00 for frames pooled without order, 0.06-0.33 for one frame (chance is 0.25).
"""

from __future__ import annotations

import functools

import numpy as np

from autograder.checks import CheckFailed, Exercise
from autograder.geometry import triple
from autograder.keras_verdicts import check_compiled, check_loss, describe_classifier
from autograder.probes import probes_for
from autograder.resources import KERAS

EXERCISE = Exercise(
    "ex07_video",
    "Video: Conv3D parameters, and a classifier of motion direction that uses time",
    ["conv3d_params", "build_video_classifier"],
    numpy_only=["conv3d_params"],
    resources=KERAS,
)
EXERCISE.probes.update(probes_for(EXERCISE.name))

GRADING_SHAPE = (6, 16, 16, 1)
GRADING_CLASSES = 4
N_TRAIN = 1024
N_TEST = 400
EPOCHS = 3
BATCH_SIZE = 32
SEED = 0
ACCURACY_BAR = 0.55
FLIP_BAR = 0.45
OPPOSITE = np.array([1, 0, 3, 2])  # left <-> right, up <-> down
FUNCTION = "build_video_classifier"


# --------------------------------------------------------------------------- conv3d_params


def _conv3d_count(kernel_size, input_channels, filters, use_bias=True, bias=True, time=True, channels=True,
                  int_squared=False):
    kt, kh, kw = triple(kernel_size)
    if int_squared and not isinstance(kernel_size, (tuple, list)):
        kt = 1
    weights = (kt if time else 1) * kh * kw * (input_channels if channels else 1) * filters
    return int(weights + (filters if (use_bias if bias is True else bias) else 0))


_PARAM_MUTANTS = {
    "no_time_axis": (
        "your count leaves out the time axis of the kernel: a Conv3D kernel is `(kt, kh, kw, C)` per "
        "filter, `kt * kh * kw * C * F` weights.",
        {"time": False},
    ),
    "int_kernel_squared": (
        "with an int `kernel_size=k` you counted a `k × k` kernel. For Conv3D an int means `(k, k, k)`: "
        "`k ** 3` positions per channel.",
        {"int_squared": True},
    ),
    "channels_missing": (
        "your count leaves out the input channels: each filter has one `kt × kh × kw` kernel *per "
        "input channel*.",
        {"channels": False},
    ),
    "bias_always": (
        "with `use_bias=False` there is no bias: add `F` only when `use_bias` is True.",
        {"bias": True, "use_bias": True},
    ),
    "bias_never": (
        "you forgot the biases: one per filter, `+ F` when `use_bias` is True.",
        {"bias": False},
    ),
}


def _param_mutant(flags):
    def impl(kernel_size, input_channels, filters, use_bias=True):
        return _conv3d_count(kernel_size, input_channels, filters, **{"use_bias": use_bias, **flags})

    return impl


for _name, (_hint, _flags) in _PARAM_MUTANTS.items():
    EXERCISE.mutant("conv3d_params", _hint, name=_name)(_param_mutant(_flags))


def _counts(ctx, cases):
    """Compare every case with the formula; name the mutant that reproduces *all* the student's answers."""
    formula = "return an int: `kt * kh * kw * C * F`, plus `F` biases when `use_bias`."
    ctx.exact_each("conv3d_params", [(args, {}) for args in cases], int_hint=formula, hint=formula,
                   oracle=_conv3d_count)


@EXERCISE.check("conv3d_params: a cubic kernel, one bias per filter", points=1)
def _(ctx):
    _counts(ctx, [(3, 1, 8), (3, 16, 32), (5, 3, 4)])


@EXERCISE.check("conv3d_params: kernel as a triple (kt, kh, kw), use_bias=False", points=1)
def _(ctx):
    _counts(ctx, [((2, 3, 5), 4, 7), ((2, 3, 5), 4, 7, False), ((1, 3, 3), 6, 2, False)])


@EXERCISE.check("conv3d_params: a sweep of kernels, channels and filters", points=1, hidden=True)
def _(ctx):
    _counts(ctx, [(k, c, f, b) for k in (1, 2, (3, 1, 1), (1, 5, 3)) for c in (1, 3) for f in (2, 16) for b in (True, False)])


# --------------------------------------------------------------------------- build_video_classifier mutants
# Known-wrong classifiers. Their hints are what the checks below say when the student's
# model behaves the same way; tests run each one as a student and expect its hint.


def _compile(model, loss="sparse_categorical_crossentropy", metrics=("accuracy",)):
    model.compile(optimizer="adam", loss=loss, metrics=list(metrics))
    return model


def _conv3d_model(keras, input_shape, units, activation="softmax"):
    layers = keras.layers
    return keras.Sequential(
        [keras.Input(shape=input_shape), layers.Conv3D(8, 3, padding="same", activation="relu"),
         layers.MaxPooling3D((1, 2, 2)), layers.Conv3D(16, 3, padding="same", activation="relu"),
         layers.GlobalMaxPooling3D(), layers.Dense(units, activation=activation)]
    )


@EXERCISE.mutant(
    FUNCTION,
    "your model looks at one frame only, and a single frame says nothing about where the shape "
    "is going. Let the first layers see several frames at once: `Conv3D` with a kernel that spans "
    "time (e.g. `(3, 3, 3)`), or a per-frame CNN followed by a layer that reads the frames in order.",
)
def single_frame(input_shape=(8, 32, 32, 1), num_classes=4):
    import keras

    layers = keras.layers
    t, h, w, c = input_shape
    return _compile(keras.Sequential(
        [keras.Input(shape=input_shape), layers.Cropping3D(((t - 1, 0), (0, 0), (0, 0))), layers.Reshape((h, w, c)),
         layers.Conv2D(16, 3, padding="same", activation="relu"), layers.GlobalMaxPooling2D(),
         layers.Dense(num_classes, activation="softmax")]
    ))


@EXERCISE.mutant(
    FUNCTION,
    "your model treats the frames as a set: it answers the same whether the clip plays forwards or "
    "backwards (pooling over time throws the order away), so it cannot tell left from right. Keep "
    "the order: `Conv3D` kernels that span several frames, or a recurrent / 1D-convolution layer "
    "over the per-frame features *before* any pooling over time.",
)
def order_invariant(input_shape=(8, 32, 32, 1), num_classes=4):
    import keras

    layers = keras.layers
    return _compile(keras.Sequential(
        [keras.Input(shape=input_shape), layers.TimeDistributed(layers.Conv2D(16, 3, padding="same", activation="relu")),
         layers.GlobalMaxPooling3D(), layers.Dense(num_classes, activation="softmax")]
    ))


@EXERCISE.mutant(
    FUNCTION,
    "your model is not compiled. Call `model.compile(optimizer=..., "
    "loss='sparse_categorical_crossentropy', metrics=['accuracy'])` before returning it.",
)
def not_compiled(input_shape=(8, 32, 32, 1), num_classes=4):
    import keras

    return _conv3d_model(keras, input_shape, num_classes)


@EXERCISE.mutant(
    FUNCTION,
    "your output layer has 4 units whatever `num_classes` is. Give the last Dense layer "
    "`num_classes` units (use the argument, not a number).",
)
def fixed_output_units(input_shape=(8, 32, 32, 1), num_classes=4):
    import keras

    return _compile(_conv3d_model(keras, input_shape, 4))


@EXERCISE.mutant(
    FUNCTION,
    "your last layer already applies softmax, but the loss has `from_logits=True`, so softmax is "
    "applied twice. Keep the softmax with `from_logits=False` (the default of "
    "'sparse_categorical_crossentropy'), or output logits and keep `from_logits=True`.",
)
def softmax_with_from_logits(input_shape=(8, 32, 32, 1), num_classes=4):
    import keras

    model = _conv3d_model(keras, input_shape, num_classes)
    return _compile(model, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))


@EXERCISE.mutant(
    FUNCTION,
    "your last layer outputs logits (no softmax), but the loss expects probabilities. Add "
    "`activation='softmax'` to the last Dense layer, or use "
    "`keras.losses.SparseCategoricalCrossentropy(from_logits=True)`.",
)
def logits_without_from_logits(input_shape=(8, 32, 32, 1), num_classes=4):
    import keras

    return _compile(_conv3d_model(keras, input_shape, num_classes, activation=None))


@EXERCISE.mutant(
    FUNCTION,
    "you compiled without `metrics=['accuracy']`: `fit` and `evaluate` then report the loss "
    "only. Pass `metrics=['accuracy']` to `compile`.",
)
def no_accuracy_metric(input_shape=(8, 32, 32, 1), num_classes=4):
    import keras

    return _compile(_conv3d_model(keras, input_shape, num_classes), metrics=())


# --------------------------------------------------------------------------- helpers


def _signature(input_shape, num_classes) -> str:
    return f"{FUNCTION}(input_shape={tuple(input_shape)}, num_classes={num_classes})"


def _describe(ctx, input_shape=GRADING_SHAPE, num_classes=GRADING_CLASSES, batch=4) -> dict:
    info = describe_classifier(ctx, FUNCTION, _signature(input_shape, num_classes), input_shape, num_classes,
                               batch, SEED)
    if (tuple(input_shape), num_classes) == (GRADING_SHAPE, GRADING_CLASSES) and isinstance(info.get("params"), int):
        ctx.attach("params", info["params"])  # for the class report's accuracy-against-size plot
    return info


@functools.lru_cache(maxsize=1)
def grading_data():
    """The clips the grader trains and tests on: `((x_train, y_train), (x_test, y_test))`."""
    from cnnexercises.datasets import load_moving_shapes

    frames, size, _, channels = GRADING_SHAPE
    return load_moving_shapes(N_TRAIN, N_TEST, frames=frames, image_size=size, channels=channels, seed=SEED)


def _train(ctx) -> dict:
    (x_train, y_train), (x_test, _) = grading_data()
    return ctx.run_probe(
        "train_and_predict", input_shape=list(GRADING_SHAPE), num_classes=GRADING_CLASSES,
        x_train=x_train, y_train=y_train, x_test=x_test, epochs=EPOCHS, batch_size=BATCH_SIZE, seed=SEED,
    )


def _trained(ctx) -> dict:
    ctx.require(FUNCTION)
    info = ctx.memo("train_and_predict", lambda: _train(ctx))  # one training serves the two checks that need it
    what = (
        f"{_signature(GRADING_SHAPE, GRADING_CLASSES)} trained for {EPOCHS} epochs "
        f"(batch size {BATCH_SIZE}) on {N_TRAIN} clips"
    )
    ctx.fail_on_error(info, what, "the other checks of `build_video_classifier` say what to fix first.")
    ctx.attach("history", info.get("history") or {})
    for key in ("outputs", "reversed_outputs"):
        outputs = info.get(key)
        if outputs is None or outputs.shape != (N_TEST, GRADING_CLASSES):
            got = None if outputs is None else tuple(outputs.shape)
            raise CheckFailed(what, f"predictions: expected ({N_TEST}, {GRADING_CLASSES}), got {got}",
                              "fix the output shape first.")
        if not np.all(np.isfinite(outputs)):
            raise CheckFailed(what, "the predictions contain NaN: training diverged",
                              "lower the learning rate, and check that the loss matches the output layer.")
    return {**info, "what": what}


def flipped_share(predicted, reversed_predicted, labels) -> float:
    """Of the clips predicted right forwards, the share whose prediction backwards is the opposite direction."""
    right = predicted == labels
    return float(np.mean(reversed_predicted[right] == OPPOSITE[predicted[right]])) if right.any() else 0.0


def _order_hint(ctx, predicted, reversed_predicted, accuracy=None) -> str:
    if np.mean(predicted == reversed_predicted) >= 0.9:
        return ctx.diagnosis("order_invariant")
    if accuracy is not None and accuracy < 0.4:
        return ctx.diagnosis("single_frame")
    return ""


# --------------------------------------------------------------------------- build_video_classifier checks


@EXERCISE.check("build_video_classifier: returns a compiled keras.Model with the accuracy metric", points=1)
def _(ctx):
    check_compiled(ctx, _describe(ctx), _signature(GRADING_SHAPE, GRADING_CLASSES))


def _output_shape(ctx, input_shape, num_classes, batch):
    info = _describe(ctx, input_shape, num_classes, batch)
    what = f"{_signature(input_shape, num_classes)} on clips {(batch, *input_shape)}"
    outputs = info.get("outputs")
    if outputs is None:
        raise CheckFailed(what, f"expected one array (batch, classes), got {info.get('output_type')}",
                          "the model must have a single output: the class scores.")
    got = tuple(outputs.shape)
    if got != (batch, num_classes):
        if len(got) == 2 and got[1] == 4 != num_classes:
            hint = ctx.diagnosis("fixed_output_units")
        elif len(got) > 2:
            hint = ("pool or flatten the time and space axes (`GlobalMaxPooling3D`, `Flatten`, or a recurrent "
                    "layer without `return_sequences`) before the last Dense layer.")
        else:
            hint = "start with `keras.Input(shape=input_shape)` and end with `Dense(num_classes)`."
        raise CheckFailed(what, f"output shape: expected (batch={batch}, classes={num_classes}), got {got}", hint)
    if not np.all(np.isfinite(outputs)):
        raise CheckFailed(what, "the outputs contain NaN or infinity")


@EXERCISE.check("build_video_classifier: output is (batch, num_classes) for input_shape=(5, 20, 24, 3), num_classes=6",
                points=1)
def _(ctx):
    _output_shape(ctx, (5, 20, 24, 3), 6, 3)


@EXERCISE.check("build_video_classifier: follows its input_shape and num_classes arguments (another shape)",
                points=1, hidden=True)
def _(ctx):
    _output_shape(ctx, (10, 16, 12, 1), 3, 2)


@EXERCISE.check("build_video_classifier: the loss matches the output layer and integer labels", points=1)
def _(ctx):
    info = _describe(ctx)
    what = f"{_signature(GRADING_SHAPE, GRADING_CLASSES)}: loss {info['loss']['name']!r} on the model's outputs"
    check_loss(ctx, info, what)


@EXERCISE.check(
    f"build_video_classifier: trained {EPOCHS} epochs on moving shapes, held-out accuracy >= {ACCURACY_BAR:.0%}",
    points=3,
)
def _(ctx):
    info = _trained(ctx)
    _, (_, y_test) = grading_data()
    predicted = info["outputs"].argmax(axis=1)
    accuracy = float(np.mean(predicted == y_test))
    ctx.attach("accuracy", accuracy)
    if accuracy < ACCURACY_BAR:
        last = {k: round(v[-1], 4) for k, v in (info.get("history") or {}).items() if v}
        hint = _order_hint(ctx, predicted, info["reversed_outputs"].argmax(axis=1), accuracy) or (
            "check that the loss matches the output layer, use Adam with a learning rate around 1e-3 "
            "to 3e-3, and start with `Conv3D` layers whose kernels span 3 frames.")
        raise CheckFailed(
            info["what"],
            f"accuracy on {N_TEST} held-out clips: {accuracy:.1%}, needs >= {ACCURACY_BAR:.0%} "
            f"(chance: 25%)\nlast epoch: {last}",
            hint,
        )
    return f"held-out accuracy {accuracy:.1%} (needs >= {ACCURACY_BAR:.0%})"


@EXERCISE.check(
    f"build_video_classifier: played backwards, at least {FLIP_BAR:.0%} of the clips it gets right flip direction",
    points=2,
)
def _(ctx):
    info = _trained(ctx)
    _, (_, y_test) = grading_data()
    predicted = info["outputs"].argmax(axis=1)
    backwards = info["reversed_outputs"].argmax(axis=1)
    flipped = flipped_share(predicted, backwards, y_test)
    if flipped < FLIP_BAR:
        raise CheckFailed(
            f"{info['what']}: the predicted direction of a clip played backwards is the opposite one",
            f"{flipped:.1%} of the {int(np.sum(predicted == y_test))} held-out clips predicted right flip "
            f"(left <-> right, up <-> down), needs >= {FLIP_BAR:.0%}; "
            f"{np.mean(backwards == predicted):.1%} of all {N_TEST} clips keep the same answer",
            _order_hint(ctx, predicted, backwards) or "the model must use the order of the frames, not only "
            "which pixels changed: see the accuracy check.",
        )
    return f"{flipped:.1%} of the clips predicted right flip direction when played backwards"
