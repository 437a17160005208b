"""Checks for ex05_vgg16_finetune: VGG16 preprocessing, a frozen base, fine-tuning block 5.

`vgg16_preprocess` is a NumPy function and is compared element-wise with "caffe"
preprocessing written out here (RGB -> BGR, minus the ImageNet mean; the tests prove it
equals `keras.applications.vgg16.preprocess_input`). The Keras models are looked at
through probes (`autograder/probes/ex05_vgg16_finetune.py`) that return plain data, so
this module never imports Keras and runs unchanged in the grader's trusted parent.

Behaviour, not identifiers: "frozen" means bit-identical after one training step,
"trainable" means changed by it; "preprocesses once" means that the "vgg16" sub-model
receives exactly `vgg16_preprocess(x)` when the model is called on raw pixels `x`.

Fixtures: `weights=None` (nothing to download) and 40x32 RGB images (VGG16 needs at
least 32x32; the sides differ so that a transposed image fails), 5 classes, a batch of
4. Several checks judge different facts of one probe run; the run is shared between
them (`_probe`), so grading builds and trains each kind of model once.
"""

from __future__ import annotations

import numpy as np

from autograder.checks import ERROR, CheckFailed, Exercise, matches
from autograder.probes import probes_for
from autograder.resources import KERAS

EXERCISE = Exercise(
    "ex05_vgg16_finetune",
    "Transfer learning: VGG16 preprocessing, a frozen base, fine-tuning block 5",
    ["vgg16_preprocess", "build_vgg16_classifier", "unfreeze_top_block"],
    numpy_only=["vgg16_preprocess"],
    resources=KERAS,
)
EXERCISE.probes.update(probes_for(EXERCISE.name))

MEAN_BGR = np.array([103.939, 116.779, 123.68])
MEAN_RGB = MEAN_BGR[::-1]
BASE_PARAMS = 14_714_688  # VGG16(include_top=False): 13 convolutions (exercise 3 counts them)
INPUT_SHAPE = (40, 32, 3)
NUM_CLASSES = 5
BATCH = 4
SEED = 0
FINE_TUNE_RATE = 3e-5  # not the default, so a learning rate written into the code shows
DEFAULT_RATE = 1e-5

NHWC = ("batch", "height", "width", "channels")


def caffe(images: np.ndarray) -> np.ndarray:
    """The oracle: `keras.applications.vgg16.preprocess_input` ("caffe" mode), in float64."""
    x = np.asarray(images, dtype=np.float64)
    return x[..., ::-1] - MEAN_BGR  # (..., H, W, 3) BGR, centred


# --------------------------------------------------------------------------- mutants: vgg16_preprocess

_SCALED = (
    "you scaled the pixels. VGG16 was trained on raw 0-255 pixels (Keras' 'caffe' mode): "
    "only reverse the channels and subtract the mean, no division by 255 or 127.5."
)
_RGB_KEPT = (
    "you kept the RGB order. VGG16 expects BGR: reverse the last axis "
    "(`images[..., ::-1]`) before subtracting the mean [103.939, 116.779, 123.68]."
)
_BLOCK5_FROZEN = (
    "make the layers of block 5 trainable: after `base.trainable = True`, set "
    "`layer.trainable = layer.name.startswith('block5')` for each `layer` in `base.layers`."
)
_IN_PLACE = (
    "Work on a copy (`x = x.copy()`, `np.pad`, or build a new array) instead of writing into the input."
)


@EXERCISE.mutant("vgg16_preprocess", _SCALED)
def scaled_to_unit(images):
    x = np.asarray(images, dtype=np.float64) / 255.0
    return x[..., ::-1] - MEAN_BGR / 255.0


@EXERCISE.mutant("vgg16_preprocess", _SCALED)
def scaled_before_mean(images):
    x = np.asarray(images, dtype=np.float64) / 255.0
    return x[..., ::-1] - MEAN_BGR


@EXERCISE.mutant("vgg16_preprocess", _SCALED)
def scaled_after_mean(images):
    return caffe(images) / 255.0


@EXERCISE.mutant("vgg16_preprocess", _SCALED + " (This is the 'tf' mode of other networks.)")
def tf_mode(images):
    return np.asarray(images, dtype=np.float64) / 127.5 - 1.0


@EXERCISE.mutant("vgg16_preprocess", _RGB_KEPT)
def rgb_kept(images):
    return np.asarray(images, dtype=np.float64) - MEAN_BGR


@EXERCISE.mutant("vgg16_preprocess", _RGB_KEPT)
def rgb_kept_rgb_mean(images):
    return np.asarray(images, dtype=np.float64) - MEAN_RGB


@EXERCISE.mutant(
    "vgg16_preprocess",
    "you reversed the channels but subtracted the mean in RGB order. After the flip the "
    "channels are B, G, R: subtract [103.939, 116.779, 123.68] in that order.",
)
def mean_in_rgb_order(images):
    return np.asarray(images, dtype=np.float64)[..., ::-1] - MEAN_RGB


@EXERCISE.mutant("vgg16_preprocess", "you forgot to subtract the ImageNet mean [103.939, 116.779, 123.68].")
def mean_missing(images):
    return np.asarray(images, dtype=np.float64)[..., ::-1]


@EXERCISE.mutant("vgg16_preprocess", _IN_PLACE)
def in_place(images):
    images[...] = images[..., ::-1] - MEAN_BGR.astype(images.dtype)
    return images


# --------------------------------------------------------------------------- mutants: the models
# Known-wrong `build_vgg16_classifier` / `unfreeze_top_block`; tests run each as a student.


def _classifier(num_classes, input_shape, weights, freeze=True, preprocess="caffe"):
    import keras

    base = keras.applications.VGG16(include_top=False, weights=weights, input_shape=tuple(input_shape))
    base.trainable = not freeze
    inputs = keras.Input(shape=tuple(input_shape))
    x = inputs
    if preprocess in ("caffe", "twice"):
        x = keras.applications.vgg16.preprocess_input(x)
    if preprocess == "twice":
        x = keras.applications.vgg16.preprocess_input(x)
    if preprocess == "scaled":
        x = keras.ops.flip(x / 255.0, axis=-1) - MEAN_BGR.astype("float32") / 255.0
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@EXERCISE.mutant(
    "build_vgg16_classifier",
    "VGG16 is not frozen: its weights moved during training. Set `base.trainable = False` "
    "before building the model on top of it (and compile after that).",
)
def base_not_frozen(num_classes, input_shape=(224, 224, 3), weights="imagenet"):
    return _classifier(num_classes, input_shape, weights, freeze=False)


@EXERCISE.mutant(
    "build_vgg16_classifier",
    "the model feeds the raw pixels to VGG16 without preprocessing. The model takes raw RGB "
    "0-255 images, so apply `keras.applications.vgg16.preprocess_input` to the input tensor "
    "inside the model, before the base.",
)
def preprocessing_missing(num_classes, input_shape=(224, 224, 3), weights="imagenet"):
    return _classifier(num_classes, input_shape, weights, preprocess=None)


@EXERCISE.mutant(
    "build_vgg16_classifier",
    "the model preprocesses twice (the channels are flipped back and the mean is subtracted "
    "twice). Apply `preprocess_input` once, inside the model, and feed the model raw pixels.",
)
def preprocessing_twice(num_classes, input_shape=(224, 224, 3), weights="imagenet"):
    return _classifier(num_classes, input_shape, weights, preprocess="twice")


@EXERCISE.mutant("build_vgg16_classifier", _SCALED)
def preprocessing_scaled(num_classes, input_shape=(224, 224, 3), weights="imagenet"):
    return _classifier(num_classes, input_shape, weights, preprocess="scaled")


def _recompile(model, learning_rate):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=model.loss, metrics=["accuracy"])


@EXERCISE.mutant(
    "unfreeze_top_block",
    "block 5 did not train: you changed `trainable` but did not compile again. Keras fixes "
    "the list of weights an optimizer updates when it builds the training step; call "
    "`model.compile(...)` after changing `trainable`.",
)
def not_recompiled(model, learning_rate=1e-5):
    base = model.get_layer("vgg16")
    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name.startswith("block5")
    return model


@EXERCISE.mutant(
    "unfreeze_top_block",
    "you unfroze all of VGG16: blocks 1-4 moved too. After `base.trainable = True`, set "
    "`layer.trainable = False` for every layer of the base whose name does not start with 'block5'.",
)
def everything_unfrozen(model, learning_rate=1e-5):
    model.get_layer("vgg16").trainable = True
    _recompile(model, learning_rate)
    return model


@EXERCISE.mutant(
    "unfreeze_top_block",
    "the optimizer does not use the `learning_rate` argument. Recompile with "
    "`optimizer=keras.optimizers.Adam(learning_rate=learning_rate)` (a string such as "
    "'adam' means the default rate, 1e-3, which wrecks the pretrained features).",
)
def learning_rate_ignored(model, learning_rate=1e-5):
    base = model.get_layer("vgg16")
    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name.startswith("block5")
    model.compile(optimizer="adam", loss=model.loss, metrics=["accuracy"])
    return model


# --------------------------------------------------------------------------- helpers


def _fixtures():
    """Raw RGB images `(B, H, W, 3)` in [0, 255] and labels `(B,)` (the same for every check)."""
    rng = np.random.default_rng(2024)
    x = rng.uniform(0.0, 255.0, size=(BATCH, *INPUT_SHAPE)).astype(np.float32)
    labels = (np.arange(BATCH) % NUM_CLASSES).astype(np.int64)
    return x, labels


def _probe(ctx, name: str, **params):
    """Run a probe once per submission and parameters (`ctx.memo`); later checks reuse its data."""

    def run():
        x, labels = _fixtures()
        extra = {"labels": labels} if name != "base_input" else {}
        return ctx.run_probe(name, num_classes=NUM_CLASSES, input_shape=list(INPUT_SHAPE), x=x, seed=SEED,
                             **extra, **params)

    return ctx.memo((name, tuple(sorted(params.items()))), run)


_BUILD = f"build_vgg16_classifier({NUM_CLASSES}, input_shape={INPUT_SHAPE}, weights=None)"


def _model_info(ctx, info: dict, what: str) -> dict:
    """Fail unless the probe saw a compiled keras.Model holding the "vgg16" sub-model."""
    ctx.fail_on_error(info, what, word="while")
    if not info.get("is_model"):
        raise CheckFailed(what, f"expected a keras.Model, got {info.get('type')}", "return the model.")
    if not info.get("base_found") or not info.get("base_is_model", True):
        raise CheckFailed(
            what,
            f"no sub-model named 'vgg16' among the layers {info.get('layer_names')}",
            "use VGG16 as one layer of your model: `base = load_vgg16(input_shape, weights)` then "
            "`x = base(x)`. Don't copy its layers one by one, and keep its name 'vgg16'.",
        )
    return info


def _build_info(ctx) -> dict:
    ctx.require("build_vgg16_classifier")
    return _model_info(ctx, _probe(ctx, "after_build"), _BUILD)


def _unfreeze_info(ctx, learning_rate) -> dict:
    """The probe's data for `unfreeze_top_block` on a frozen VGG16 classifier the probe builds
    itself (so these checks do not depend on the student's `build_vgg16_classifier`)."""
    ctx.require("unfreeze_top_block")
    argument = "" if learning_rate is None else f", learning_rate={learning_rate:g}"
    what = f"unfreeze_top_block(model{argument}) on a frozen VGG16 classifier {INPUT_SHAPE}"
    info = _probe(ctx, "after_unfreeze", learning_rate=learning_rate)
    ctx.fail_on_error(info, what, word="while")
    if info.get("returned") != info.get("type"):
        raise CheckFailed(
            what,
            f"expected the model back, got {info.get('returned')}",
            "end with `return model`.",
        )
    return _model_info(ctx, info, what)


def _names(info: dict, where) -> list[str]:
    w = info["weights"]
    return [n for n, p, t in zip(w["names"], w["parts"], where) if t]


def _listing(names: list[str], limit: int = 4) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _step(info: dict, what: str, hint: str = "") -> list[bool]:
    step = info["step"]
    if "error" in step:
        raise CheckFailed(f"{what}: one training step", f"training raised {step['error']}", hint, status=ERROR)
    if not step["finite"]:
        raise CheckFailed(f"{what}: one training step", "the weights contain NaN after one step",
                          "check the loss and the learning rate.")
    return step["changed"]


# --------------------------------------------------------------------------- checks: vgg16_preprocess


@EXERCISE.check("vgg16_preprocess: equals Keras' caffe preprocessing on a float batch", points=1)
def _(ctx):
    images = ctx.rng.uniform(0.0, 255.0, size=(2, 5, 7, 3)).astype(np.float32)
    ctx.compare("vgg16_preprocess", images, expected=caffe(images), axes=NHWC, rtol=1e-5, atol=1e-3)


@EXERCISE.check("vgg16_preprocess: uint8 pixels, and one image without a batch axis", points=1)
def _(ctx):
    batch = ctx.rng.integers(0, 256, size=(3, 4, 6, 3)).astype(np.uint8)
    got = ctx.compare("vgg16_preprocess", batch, expected=caffe(batch), axes=NHWC, rtol=1e-5, atol=1e-3)
    if not np.issubdtype(np.asarray(got).dtype, np.floating):
        raise CheckFailed(
            "vgg16_preprocess(uint8 array (3, 4, 6, 3))",
            f"expected a float array, got dtype {np.asarray(got).dtype}",
            "convert to float before subtracting the mean (`.astype(np.float32)`).",
        )
    image = ctx.rng.uniform(0.0, 255.0, size=(6, 5, 3)).astype(np.float32)
    ctx.compare("vgg16_preprocess", image, expected=caffe(image), axes=("height", "width", "channels"),
                rtol=1e-5, atol=1e-3)


@EXERCISE.check("vgg16_preprocess: float64 batch, values to full precision", points=1, hidden=True)
def _(ctx):
    images = ctx.rng.uniform(0.0, 255.0, size=(3, 6, 4, 3))
    ctx.compare("vgg16_preprocess", images, expected=caffe(images), axes=NHWC, rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------- checks: build_vgg16_classifier


@EXERCISE.check(
    f"build_vgg16_classifier: a compiled model around the 'vgg16' sub-model ({BASE_PARAMS:,} parameters)",
    points=1,
)
def _(ctx):
    info = _build_info(ctx)
    if info["base_params"] != BASE_PARAMS:
        raise CheckFailed(
            f"{_BUILD}: the 'vgg16' sub-model",
            f"expected {BASE_PARAMS:,} parameters (VGG16 without its dense top), got {info['base_params']:,}",
            "use `keras.applications.VGG16(include_top=False, ...)` (through `load_vgg16`), unchanged.",
        )
    if not info["compiled"]:
        raise CheckFailed(
            f"{_BUILD} returns a compiled model",
            "the model is not compiled",
            "call `model.compile(optimizer=..., loss='sparse_categorical_crossentropy', "
            "metrics=['accuracy'])` before returning it.",
        )
    outputs = info["outputs"]
    if outputs.shape != (BATCH, NUM_CLASSES):
        raise CheckFailed(
            f"{_BUILD} on images {(BATCH, *INPUT_SHAPE)}",
            f"output shape: expected (batch={BATCH}, classes={NUM_CLASSES}), got {tuple(outputs.shape)}",
            "end with `GlobalAveragePooling2D()` (or `Flatten()`) and `Dense(num_classes, activation='softmax')`.",
        )


@EXERCISE.check("build_vgg16_classifier: only the new head is trainable", points=1)
def _(ctx):
    info = _build_info(ctx)
    parts, trainable = info["weights"]["parts"], info["weights"]["trainable"]
    base_trainable = _names(info, [t and p != "head" for p, t in zip(parts, trainable)])
    if base_trainable:
        raise CheckFailed(
            f"{_BUILD}: trainable weights",
            f"{len(base_trainable)} VGG16 weights are trainable: {_listing(base_trainable)}",
            EXERCISE.diagnosis("build_vgg16_classifier", "base_not_frozen"),
        )
    if not any(t and p == "head" for p, t in zip(parts, trainable)):
        raise CheckFailed(f"{_BUILD}: trainable weights", "no weight is trainable",
                          "the new head (the Dense layer after the base) must stay trainable.")


@EXERCISE.check(
    "build_vgg16_classifier: one training step changes the head, every VGG16 weight stays bit-identical",
    points=2,
)
def _(ctx):
    info = _build_info(ctx)
    changed = _step(info, _BUILD)
    parts = info["weights"]["parts"]
    moved = _names(info, [c and p != "head" for p, c in zip(parts, changed)])
    if moved:
        raise CheckFailed(
            f"{_BUILD}: VGG16's weights after one training step",
            f"{len(moved)} of {sum(p != 'head' for p in parts)} changed: {_listing(moved)}",
            EXERCISE.diagnosis("build_vgg16_classifier", "base_not_frozen"),
        )
    if not any(c and p == "head" for p, c in zip(parts, changed)):
        raise CheckFailed(
            f"{_BUILD}: the head's weights after one training step",
            "no weight of the head changed",
            "compile with a trainable head and a learning rate above 0 (Adam's default, 1e-3, is fine).",
        )


@EXERCISE.check("build_vgg16_classifier: takes raw 0-255 RGB and applies VGG16's preprocessing once", points=2)
def _(ctx):
    ctx.require("build_vgg16_classifier")
    x, _ = _fixtures()
    info = _probe(ctx, "base_input")
    _model_info(ctx, {"base_is_model": True, **info}, _BUILD)
    what = f"{_BUILD} called on raw RGB images {(BATCH, *INPUT_SHAPE)} in [0, 255]: what the 'vgg16' sub-model receives"
    seen = info.get("seen")
    if seen is None:
        raise CheckFailed(what, "the 'vgg16' sub-model was never called",
                          "pass the (preprocessed) input through `base(...)`.")
    expected = caffe(x)
    if seen.shape == expected.shape and np.allclose(seen, expected, rtol=1e-5, atol=1e-2):
        return
    def same(got, out):
        return matches(got, out, rtol=1e-5, atol=1e-2)

    candidates = [
        (np.asarray(x, dtype=np.float64), ctx.diagnosis("preprocessing_missing")),
        (caffe(caffe(x)), ctx.diagnosis("preprocessing_twice")),
    ]
    hint = (
        next((h for out, h in candidates if same(seen, out)), "")  # the model's mistakes, then the function's
        or ctx.diagnose_all("vgg16_preprocess", [((x,), {}, seen)], same, skip=("in_place",))
        or "the base must receive `preprocess_input(x)` of the raw pixels x: BGR order, ImageNet mean subtracted, "
        "no scaling, applied once."
    )
    if seen.shape != expected.shape:
        detail = f"shape: expected {expected.shape}, got {seen.shape}"
    else:
        bad = np.argwhere(~np.isclose(seen, expected, rtol=1e-5, atol=1e-2))[0]
        index = tuple(int(i) for i in bad)
        detail = f"at {list(index)}: got {seen[index]:.4f}, expected {expected[index]:.4f} (= vgg16_preprocess(x))"
    raise CheckFailed(what, detail, hint)


# --------------------------------------------------------------------------- checks: unfreeze_top_block


@EXERCISE.check("unfreeze_top_block: block5 and the head are trainable, blocks 1-4 frozen", points=1)
def _(ctx):
    info = _unfreeze_info(ctx, FINE_TUNE_RATE)
    parts, trainable = info["weights"]["parts"], info["weights"]["trainable"]
    early = _names(info, [t and p in ("block1", "block2", "block3", "block4", "base") for p, t in zip(parts, trainable)])
    if early:
        raise CheckFailed(
            "unfreeze_top_block: trainable weights",
            f"{len(early)} weights of blocks 1-4 are trainable: {_listing(early)}",
            EXERCISE.diagnosis("unfreeze_top_block", "everything_unfrozen"),
        )
    frozen5 = _names(info, [not t and p == "block5" for p, t in zip(parts, trainable)])
    if frozen5:
        raise CheckFailed(
            "unfreeze_top_block: trainable weights",
            f"{len(frozen5)} weights of block 5 are not trainable: {_listing(frozen5)}",
            _BLOCK5_FROZEN,
        )
    if not any(t and p == "head" for p, t in zip(parts, trainable)):
        raise CheckFailed("unfreeze_top_block: trainable weights", "the head is frozen",
                          "leave the head trainable; change only layers inside the 'vgg16' sub-model.")


@EXERCISE.check(
    "unfreeze_top_block: a training step changes block5 and leaves blocks 1-4 bit-identical", points=2
)
def _(ctx):
    info = _unfreeze_info(ctx, FINE_TUNE_RATE)
    what = "unfreeze_top_block(model) then model.fit(...)"
    changed = _step(info, what, EXERCISE.diagnosis("unfreeze_top_block", "not_recompiled"))
    parts = info["weights"]["parts"]
    early = _names(info, [c and p in ("block1", "block2", "block3", "block4", "base") for p, c in zip(parts, changed)])
    if early:
        raise CheckFailed(
            f"{what}: blocks 1-4 after one step",
            f"{len(early)} weights changed: {_listing(early)}",
            EXERCISE.diagnosis("unfreeze_top_block", "everything_unfrozen"),
        )
    still = _names(info, [not c and p == "block5" for p, c in zip(parts, changed)])
    if still:
        trainable = dict(zip(info["weights"]["names"], info["weights"]["trainable"]))
        hint = (
            EXERCISE.diagnosis("unfreeze_top_block", "not_recompiled")
            if all(trainable[n] for n in still)
            else _BLOCK5_FROZEN
        )
        raise CheckFailed(
            f"{what}: block 5 after one step",
            f"{len(still)} of {parts.count('block5')} weights of block 5 did not change: {_listing(still)}",
            hint,
        )


def _learning_rate(ctx, learning_rate):
    """`learning_rate=None` checks the function's default, `DEFAULT_RATE`."""
    info = _unfreeze_info(ctx, learning_rate)
    got = info.get("learning_rate")
    argument = "" if learning_rate is None else f", learning_rate={learning_rate:g}"
    what = f"unfreeze_top_block(model{argument}): the optimizer's learning rate"
    learning_rate = DEFAULT_RATE if learning_rate is None else learning_rate
    if got is None:
        raise CheckFailed(what, "the model has no optimizer", EXERCISE.diagnosis("unfreeze_top_block", "not_recompiled"))
    if not np.isclose(got, learning_rate, rtol=1e-4, atol=0):
        hint = EXERCISE.diagnosis("unfreeze_top_block", "learning_rate_ignored")
        if np.isclose(got, 1e-3, rtol=1e-4) and info["step"].get("changed") is not None:
            parts, changed = info["weights"]["parts"], info["step"]["changed"]
            if not any(c and p == "block5" for p, c in zip(parts, changed)):
                hint = EXERCISE.diagnosis("unfreeze_top_block", "not_recompiled")
        raise CheckFailed(what, f"expected {learning_rate:g}, got {got:g}", hint)


@EXERCISE.check("unfreeze_top_block: recompiled with the given learning rate", points=1)
def _(ctx):
    _learning_rate(ctx, FINE_TUNE_RATE)


@EXERCISE.check("unfreeze_top_block: the default learning rate is 1e-5", points=1, hidden=True)
def _(ctx):
    _learning_rate(ctx, None)
