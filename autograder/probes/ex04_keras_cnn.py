"""Probes for ex04_keras_cnn: build the student's CNN, describe it, train it.

Each probe is staged (`autograder.probes.staged`): the student's `build_cnn` runs in the
student's process, which saves the model; everything else (outputs, parameter count from
the weights themselves, layers, compile settings, the loss on fixed outputs, training and
predictions) is measured on the saved model in a process that never ran the student's
code, under `cnnex grade`. The checks in `autograder/exercises/ex04_keras_cnn.py` judge
the plain data. Held-out labels never come here, and the held-out images reach only the
measuring side: `train_and_predict` returns the model's outputs, which the checks score.
Training starts from fresh weights drawn from the model's own initializers (a clone of
the architecture), and a model whose configuration is large enough to carry data (an
initializer holding an array) is refused, so nothing the submission looked up before can
be in the trained model.

Every probe seeds everything (`distribute.set_seed`) and builds the model inside
`distribute.get_strategy().scope()`, as the notebook does, so the same submission
always gives the same data.

Glossary: B batch, K classes, H/W/C an image's height, width, channels.
"""

from __future__ import annotations

import numpy as np

import json

from autograder.probes import build_in_scope, error_text, staged, student_error, unloadable_error

MAX_CONFIG_BYTES = 64 * 2**10  # a CNN's architecture is a few KB; more is data riding along
PREDICT_BATCH = 256  # held-out images per call of the trained model


def _build(student, input_shape, num_classes, seed):
    """(model, None) or (None, error dict); NotImplementedError propagates."""
    shape = tuple(int(n) for n in input_shape)
    return build_in_scope("build_cnn", student.build_cnn, seed, input_shape=shape, num_classes=int(num_classes))


def _to_numpy(value):
    import keras

    try:
        return np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float32)
    except Exception:
        return None


def _layers(layer, depth=0):
    """Every layer, nested models flattened, as plain dicts (kind decided by isinstance)."""
    import keras

    kinds = (
        ("conv", (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D)),
        ("pool", (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)),
        ("global_pool", (keras.layers.GlobalMaxPooling2D, keras.layers.GlobalAveragePooling2D)),
        ("dense", (keras.layers.Dense,)),
    )
    out = []
    for sub in getattr(layer, "layers", []):
        kind = next((k for k, classes in kinds if isinstance(sub, classes)), "other")
        strides = getattr(sub, "strides", None)
        out.append(
            {
                "name": str(sub.name),
                "class": type(sub).__name__,
                "kind": kind,
                "strides": [int(s) for s in strides] if isinstance(strides, (tuple, list)) else [],
                "depth": depth,
            }
        )
        if getattr(sub, "layers", None):
            out.extend(_layers(sub, depth + 1))
    return out


def _describe_loss(model) -> dict:
    """The loss as passed to compile: a name and its `from_logits` (None when unknown)."""
    import inspect

    loss = getattr(model, "loss", None)
    if isinstance(loss, (list, tuple)) and len(loss) == 1:
        loss = loss[0]
    if isinstance(loss, dict) and len(loss) == 1:
        loss = next(iter(loss.values()))
    if loss is None:
        return {"name": None, "from_logits": None}
    if isinstance(loss, str):
        return {"name": loss, "from_logits": False}
    config = {}
    try:
        config = loss.get_config() if hasattr(loss, "get_config") else {}
    except Exception:
        config = {}
    name = config.get("name") or getattr(loss, "__name__", None) or type(loss).__name__
    from_logits = config.get("from_logits")
    if from_logits is None and callable(loss):
        keywords = getattr(loss, "keywords", None) or {}  # functools.partial
        if "from_logits" in keywords:
            from_logits = bool(keywords["from_logits"])
        else:
            try:
                default = inspect.signature(loss).parameters["from_logits"].default
                from_logits = bool(default) if default is not inspect.Parameter.empty else None
            except (KeyError, TypeError, ValueError):
                from_logits = None
    return {"name": str(name), "from_logits": from_logits}


def _metric_names(model) -> list[str]:
    try:
        metrics = model.get_compile_config().get("metrics")
    except Exception:
        return []
    if metrics is None:
        return []
    if isinstance(metrics, dict):
        metrics = list(metrics.values())
    if not isinstance(metrics, (list, tuple)):
        metrics = [metrics]
    names = []
    for metric in metrics:
        if isinstance(metric, (list, tuple)):
            names.extend(str(m) for m in metric)
        elif isinstance(metric, dict):
            names.append(str(metric.get("class_name", "")) + " " + str((metric.get("config") or {}).get("name", "")))
        else:
            names.append(str(metric))
    return names


def _loss_values(model, probs, logits, labels) -> dict:
    """The compiled loss on fixed outputs, with integer and one-hot labels (or the error).

    Evaluated through `model.compute_loss` (what `fit` uses) on NumPy outputs, so the
    value is what the loss computes, whatever the backend; regularisation is subtracted.
    """
    import keras

    labels = np.asarray(labels, dtype=np.int64)            # (B,)
    one_hot = np.eye(probs.shape[1], dtype=np.float32)[labels]  # (B, K)
    values = {}
    for output_name, outputs in (("probabilities", probs), ("logits", logits)):
        for label_name, y in (("integer", labels), ("one_hot", one_hot)):
            key = f"{output_name}/{label_name}"
            try:
                total = model.compute_loss(y=y, y_pred=np.asarray(outputs, dtype=np.float32), training=False)
                regularisation = sum(float(keras.ops.convert_to_numpy(v)) for v in model.losses)
                values[key] = float(np.mean(keras.ops.convert_to_numpy(total))) - regularisation
            except Exception as err:
                values[key] = error_text(err)
    return values


def build(student, input_shape, num_classes, seed=0):
    """Build `build_cnn(input_shape, num_classes)`: `{"models": {"model": m}, "type": ...}`, or the error."""
    import keras

    model, error = _build(student, input_shape, num_classes, seed)
    if error is not None:
        return {"error": error}
    if not isinstance(model, keras.Model):
        return {"is_model": False, "type": type(model).__name__}
    return {"models": {"model": model}, "type": type(model).__name__}


def parameter_count(model) -> int:
    """Parameters counted from the weights themselves (what `count_params()` should say)."""
    return int(sum(int(np.prod(v.shape)) for v in model.weights))


def describe(built, input_shape, num_classes, x, labels, probs, logits, seed=0):
    """Describe the built model.

    Args:
        x: `(B, H, W, C)` inputs to run through the model.
        labels: `(B,)` ints; `probs`, `logits`: `(B, K)` fixed outputs on which to
            evaluate the compiled loss.

    Returns:
        A dict: `error` (the student's exception) or `is_model`, `type`, `outputs`
        `(B, ...)` or None, `params`, `layers`, `compiled`, `optimizer`, `metrics`,
        `loss` (`name`, `from_logits`), `loss_values` ("probabilities/integer" -> float or
        error text, ...).
    """
    info = {"is_model": True, "type": str(built.get("type", "Model"))}
    unloadable = unloadable_error("build_cnn", "model", built)
    if unloadable is not None:
        return {**info, "error": unloadable}
    model = built["models"]["model"]
    try:
        outputs = model(np.asarray(x, dtype=np.float32), training=False)
        info["outputs"] = _to_numpy(outputs)
        info["output_type"] = type(outputs).__name__
    except Exception as err:
        return {**info, "error": student_error("build_cnn", err, "calling the model")}
    info["params"] = parameter_count(model)
    info["layers"] = _layers(model)
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


def _fresh(model, seed):
    """The same architecture with fresh weights from its own initializers, compiled as the student
    compiled it, inside the strategy's scope; the model itself when it cannot be cloned
    (a subclassed model, checked in the student's own process)."""
    import keras

    from cnnexercises import distribute

    distribute.set_seed(int(seed))
    try:
        with distribute.get_strategy().scope():
            clone = keras.models.clone_model(model)
            clone.compile_from_config(model.get_compile_config())
        return clone
    except Exception:
        return model


def _predict(model, x, batch_size=PREDICT_BATCH):
    """The model's outputs on `x` `(M, ...)`, called directly on chunks of `batch_size`.

    The same values as `model.predict`, without tracing a prediction function for one use
    (about half of `predict`'s time on the held-out digits).
    """
    import keras

    chunks = [keras.ops.convert_to_numpy(model(x[i:i + batch_size], training=False))  # (b, K)
              for i in range(0, len(x), batch_size)]
    return np.concatenate(chunks)                                                      # (M, K)


def train_and_predict(built, input_shape, num_classes, x_train, y_train, x_test, epochs, batch_size, seed=0):
    """Train the built architecture with a fixed budget and return the outputs on the test images.

    Args:
        x_train: `(N, H, W, C)`, y_train: `(N,)` ints, x_test: `(M, H, W, C)`.
        epochs, batch_size: the training budget (`fit(..., shuffle=True)`).

    Returns:
        A dict: `error` (and `during`) when loading, training or predicting failed, else
        `outputs` `(M, K)` float32 and `history` (`fit`'s history: name -> list of floats).
    """
    unloadable = unloadable_error("build_cnn", "model", built)
    if unloadable is not None:
        return {"error": unloadable}
    model = built["models"]["model"]
    try:
        size = len(json.dumps(model.get_config(), default=str))
    except Exception:
        size = 0
    if size > MAX_CONFIG_BYTES:
        return {"error": {"function": "build_cnn", "type": "ModelCarriesData", "during": "reading the model", "where": "",
                          "message": f"the model's configuration is {size // 1024} KB: layers configured with arrays "
                                     "(an initializer holding data) are not a network that learns. Use Keras' "
                                     "initializers with their usual arguments."}}
    model = _fresh(model, seed)
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
        return {"error": student_error("build_cnn", err, "model.fit")}
    try:
        outputs = _predict(model, np.asarray(x_test, dtype=np.float32))
    except Exception as err:
        return {"error": student_error("build_cnn", err, "predicting (calling the model with training=False)")}
    history = {
        str(name): [float(v) for v in values]
        for name, values in getattr(history, "history", {}).items()
    }
    return {"outputs": _to_numpy(outputs), "history": history}


BUILD_PARAMS = ("input_shape", "num_classes", "seed")
PROBES = {
    "describe": staged(build, describe, BUILD_PARAMS, keeps_model=True),
    "train_and_predict": staged(build, train_and_predict, BUILD_PARAMS),
}
