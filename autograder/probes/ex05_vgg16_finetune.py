"""Probes for ex05_vgg16_finetune: build the student's VGG16 classifier, train one step, look.

Each probe is staged (`autograder.probes.staged`): the student's functions run in the
student's process, which saves the model they return; under `cnnex grade` every
measurement (structure, outputs, the training step, the learning rate, what the base
receives) is made on the saved model in a process that never ran the student's code. The
probes return plain data (flags, names, small arrays); the checks in
`autograder/exercises/ex05_vgg16_finetune.py` judge it. Models are built with
`weights=None` and small inputs, so nothing is downloaded.

"Frozen" is measured, not read from flags: the probes snapshot every weight, run one
training step with `fit`, and report which weights are no longer bit-identical.

Glossary: B batch, K classes, H/W an image's height and width.
"""

from __future__ import annotations

import numpy as np

from autograder.probes import build_in_scope, error_text, staged, student_error, unloadable_error

BASE_NAME = "vgg16"


def _build(student, num_classes, input_shape, seed):
    """(model, None) or (None, error dict); NotImplementedError propagates."""
    shape = tuple(int(n) for n in input_shape)
    return build_in_scope(
        "build_vgg16_classifier", student.build_vgg16_classifier, seed, int(num_classes), input_shape=shape, weights=None
    )


def _base(model):
    """The "vgg16" sub-model, or None."""
    try:
        return model.get_layer(BASE_NAME)
    except (ValueError, AttributeError):
        return None


def _parts(model, base) -> list[tuple[str, object]]:
    """(part, variable) for every weight: "block1".."block5" inside the base, else "head"."""
    inside = {}
    if base is not None:
        for layer in getattr(base, "layers", []):
            part = layer.name.split("_", 1)[0] if layer.name.startswith("block") else "base"
            for variable in layer.weights:
                inside[id(variable)] = part
    return [(inside.get(id(v), "head"), v) for v in model.weights]


def _snapshot(variables) -> list[np.ndarray]:
    """A copy of every variable's value (`Variable.numpy()`: no deprecated `__array__` path)."""
    return [np.array(v.numpy(), copy=True) for v in variables]


def _structure(model) -> dict:
    """Plain facts about a model: compiled, the base, each weight's part and trainable flag."""
    import keras

    info = {"is_model": isinstance(model, keras.Model), "type": type(model).__name__}
    if not info["is_model"]:
        return info
    base = _base(model)
    info["layer_names"] = [str(layer.name) for layer in model.layers]
    info["base_found"] = base is not None
    info["base_is_model"] = isinstance(base, keras.Model)
    info["base_params"] = int(base.count_params()) if base is not None else 0
    info["compiled"] = bool(getattr(model, "compiled", False))
    trainable = {id(v) for v in model.trainable_weights}
    parts = _parts(model, base)
    info["weights"] = {
        "names": [str(getattr(v, "path", v.name)) for _, v in parts],
        "parts": [part for part, _ in parts],
        "trainable": [id(v) in trainable for _, v in parts],
    }
    return info


def _train_step(model, x, labels) -> dict:
    """One `fit` step on `(x, labels)`; which weights changed (bit for bit), or the error."""
    variables = list(model.weights)
    before = _snapshot(variables)
    try:
        model.fit(np.asarray(x, dtype=np.float32), np.asarray(labels, dtype=np.int64),
                  batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    except Exception as err:
        return {"error": error_text(err)}
    after = _snapshot(variables)
    return {
        "changed": [not np.array_equal(a, b) for a, b in zip(before, after)],
        "finite": bool(all(np.all(np.isfinite(a)) for a in after)),
    }


def _learning_rate(model):
    import keras

    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    try:
        rate = optimizer.learning_rate
        return float(rate.numpy() if hasattr(rate, "numpy") else keras.ops.convert_to_numpy(rate))
    except Exception:
        return None


def build_classifier(student, num_classes, input_shape, seed=0):
    """Build the student's classifier: `{"models": {"model": m}, "type": ...}`, or the error."""
    import keras

    model, error = _build(student, num_classes, input_shape, seed)
    if error is not None:
        return {"error": error}
    if not isinstance(model, keras.Model):
        return {"is_model": False, "type": type(model).__name__}
    return {"models": {"model": model}, "type": type(model).__name__}


def after_build(built, num_classes, input_shape, x, labels, seed=0):
    """Describe the built classifier, run it on `x`, train one step.

    Args:
        x: `(B, H, W, 3)` raw RGB in [0, 255]; labels: `(B,)` ints.

    Returns:
        A dict: `error`, or `_structure`'s facts plus `outputs` `(B, ...)` and `step`
        (`changed` per weight, in `weights` order, or `error`).
    """
    error = unloadable_error("build_vgg16_classifier", "model", built)
    if error is not None:
        return {"is_model": True, "type": built.get("type"), "error": error}
    model = built["models"]["model"]
    info = _structure(model)
    if not info["is_model"]:
        return info
    import keras

    try:
        info["outputs"] = np.asarray(keras.ops.convert_to_numpy(model(np.asarray(x, np.float32), training=False)))
    except Exception as err:
        return {**info, "error": student_error("build_vgg16_classifier", err, "calling the model")}
    info["step"] = _train_step(model, x, labels) if info["compiled"] else {"error": "not compiled"}
    return info


def _frozen_classifier(num_classes, input_shape, seed):
    """The model `unfreeze_top_block` expects, built here so that its checks do not depend
    on the student's `build_vgg16_classifier`: a frozen "vgg16" base between the
    preprocessing and a softmax head, compiled with Adam."""
    import keras

    from cnnexercises import distribute

    distribute.set_seed(int(seed))
    with distribute.get_strategy().scope():
        base = keras.applications.VGG16(include_top=False, weights=None, input_shape=tuple(input_shape))
        base.trainable = False
        inputs = keras.Input(shape=tuple(input_shape))                   # (B, H, W, 3) RGB 0..255
        x = keras.applications.vgg16.preprocess_input(inputs)            # (B, H, W, 3) BGR, centred
        x = keras.layers.GlobalAveragePooling2D()(base(x, training=False))  # (B, 512)
        outputs = keras.layers.Dense(int(num_classes), activation="softmax")(x)  # (B, K)
        model = keras.Model(inputs, outputs, name="vgg16_classifier")
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def unfreeze(student, num_classes, input_shape, x, labels, learning_rate, seed=0):
    """Train a frozen VGG16 classifier's head one step, then call the student's `unfreeze_top_block`.

    The first step is what the notebook does before fine-tuning (and it lets Keras build
    its training function and optimizer). `learning_rate=None` calls
    `unfreeze_top_block(model)` with its default.

    Returns:
        `{"models": {"model": what to measure}, "returned": the type it returned}`, or the error.
    """
    import keras

    model = _frozen_classifier(num_classes, input_shape, seed)
    first = _train_step(model, x, labels)
    if "error" in first:
        raise RuntimeError(f"training the frozen classifier failed: {first['error']}")
    try:
        if learning_rate is None:  # the function's own default
            returned = student.unfreeze_top_block(model)
        else:
            returned = student.unfreeze_top_block(model, learning_rate=float(learning_rate))
    except NotImplementedError:
        raise
    except Exception as err:
        return {"error": student_error("unfreeze_top_block", err, "unfreezing")}
    target = returned if isinstance(returned, keras.Model) else model
    return {"models": {"model": target}, "returned": type(returned).__name__}


def after_unfreeze(built, num_classes, input_shape, x, labels, learning_rate, seed=0):
    """Measure the model `unfreeze_top_block` left: its structure, learning rate and one more step.

    Returns:
        A dict: `error`, or `_structure`'s facts about the returned model plus
        `returned` (the type `unfreeze_top_block` returned), `learning_rate` (of the
        model's optimizer, or None) and `step` (`changed` per weight, or `error`).
    """
    error = unloadable_error("unfreeze_top_block", "model", built)
    if error is not None:
        return {"error": error}
    target = built["models"]["model"]
    info = {"returned": str(built.get("returned"))}
    info.update(_structure(target))
    info["learning_rate"] = _learning_rate(target)
    info["step"] = _train_step(target, x, labels)
    return info


def base_input(built, num_classes, input_shape, x, seed=0):
    """What the "vgg16" sub-model receives when the whole model is called on raw `x`.

    The base's `call` is wrapped for one eager forward pass to record its input, so this
    works whatever the model does in front of the base (a layer, keras.ops).

    Returns:
        A dict: `error`, or `base_found`, `calls` (how many times the base ran) and
        `seen` `(B, H, W, 3)` (what it received the first time) or None.
    """
    import keras

    error = unloadable_error("build_vgg16_classifier", "model", built)
    if error is not None:
        return {"is_model": True, "error": error}
    model = built["models"]["model"]
    base = _base(model)
    if base is None:
        return {"is_model": True, "base_found": False, "layer_names": [str(layer.name) for layer in model.layers]}
    seen = []
    call = base.call

    def recording_call(inputs, *args, **kwargs):
        seen.append(np.array(keras.ops.convert_to_numpy(inputs), dtype=np.float32))
        return call(inputs, *args, **kwargs)

    base.call = recording_call
    try:
        model(np.asarray(x, dtype=np.float32), training=False)
    except Exception as err:
        return {"error": student_error("build_vgg16_classifier", err, "calling the model")}
    finally:
        del base.call
    return {"is_model": True, "base_found": True, "calls": len(seen), "seen": seen[0] if seen else None}


_BUILD = ("num_classes", "input_shape", "seed")
PROBES = {
    "after_build": staged(build_classifier, after_build, _BUILD),
    "after_unfreeze": staged(unfreeze, after_unfreeze, _BUILD + ("x", "labels", "learning_rate")),
    "base_input": staged(build_classifier, base_input, _BUILD, keeps_model=True),
}
