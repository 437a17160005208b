"""Verdicts on a student's compiled Keras classifier, from the plain data a probe measured.

The Keras exercises (ex04's CNN, ex07's video classifier) judge the same things the same
way: the model is compiled with a loss and the accuracy metric, and the compiled loss,
evaluated on fixed outputs and integer labels, is their cross-entropy. The checks run in
the trusted parent on the probe's reply, so nothing here imports Keras.

The hints name the checked function's known mistakes (`Context.diagnosis`): an exercise
that uses these verdicts declares the mutants `not_compiled`, `no_accuracy_metric`,
`softmax_with_from_logits` and `logits_without_from_logits`, and may declare
`categorical_with_integer_labels`.

Glossary: B batch, K classes.
"""

from __future__ import annotations

import numpy as np

from autograder.context import Context
from autograder.outcomes import CheckFailed

GENERAL_LOSS_HINT = (
    "use the cross-entropy for integer labels: 'sparse_categorical_crossentropy' for a "
    "softmax output, `SparseCategoricalCrossentropy(from_logits=True)` for logits."
)


def loss_fixtures(rng: np.random.Generator, input_shape, num_classes: int, batch: int = 6):
    """Inputs `(B, *input_shape)`, integer labels `(B,)`, and fixed probabilities and logits `(B, K)`."""
    x = rng.uniform(0.0, 1.0, size=(batch, *input_shape)).astype(np.float32)
    labels = rng.permutation(np.arange(batch) % num_classes).astype(np.int64)
    probs = rng.dirichlet(np.full(num_classes, 0.3), size=batch).astype(np.float32)  # peaked rows
    probs = np.clip(probs, 1e-3, None)
    probs = (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)
    logits = (3.0 * rng.standard_normal((batch, num_classes))).astype(np.float32)
    return x, labels, probs, logits


def describe_classifier(ctx: Context, function: str, what: str, input_shape, num_classes: int, batch: int,
                        seed: int) -> dict:
    """Run the exercise's `describe` probe on the model `function(input_shape, num_classes)` builds.

    The probe gets `loss_fixtures` drawn from the check's generator; its reply keeps them
    under "fixtures" (for `check_loss`).

    Raises:
        CheckFailed: `function` is missing or raised, or did not return a `keras.Model`.
    """
    ctx.require(function)
    x, labels, probs, logits = loss_fixtures(ctx.rng, input_shape, num_classes, batch)
    info = ctx.run_probe("describe", input_shape=list(input_shape), num_classes=num_classes, x=x,
                         labels=labels, probs=probs, logits=logits, seed=seed)
    ctx.fail_on_error(info, what)
    if not info.get("is_model"):
        raise CheckFailed(
            what,
            f"expected a keras.Model, got {info.get('type')}",
            "build the layers into `keras.Sequential([...])` (or a functional `keras.Model`), "
            "compile it, and `return` it.",
        )
    info["fixtures"] = {"labels": labels, "probs": probs, "logits": logits}
    return info


def is_probabilities(outputs: np.ndarray) -> bool:
    """True when every row of `(B, K)` outputs is non-negative and sums to 1."""
    return bool(np.all(outputs >= -1e-6) and np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3))


def cross_entropy_probs(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of `(B, K)` probabilities against integer labels."""
    return float(np.mean(-np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-7, 1.0))))


def cross_entropy_logits(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of `(B, K)` logits against integer labels (a stable log-sum-exp)."""
    top = logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(logits - top).sum(axis=1)) + top[:, 0]  # (B,)
    return float(np.mean(log_z - logits[np.arange(len(labels)), labels]))


def close(value, expected: float) -> bool:
    """True when a loss the probe measured (a float, or an error's text) is `expected`."""
    return isinstance(value, float) and bool(np.isclose(value, expected, rtol=1e-3, atol=1e-3))


def check_compiled(ctx: Context, info: dict, what: str) -> None:
    """Fail unless the model is compiled with an optimizer, a loss and the accuracy metric."""
    if not info["compiled"] or info["optimizer"] is None:
        raise CheckFailed(f"{what} returns a compiled model", "the model is not compiled",
                          ctx.diagnosis("not_compiled"))
    if info["loss"]["name"] is None:
        raise CheckFailed(f"{what} returns a compiled model", "compiled without a loss",
                          "pass `loss='sparse_categorical_crossentropy'` to `compile`.")
    if not any("acc" in name.lower() for name in info["metrics"]):
        raise CheckFailed(f"{what} is compiled with metrics=['accuracy']", f"metrics: {info['metrics'] or 'none'}",
                          ctx.diagnosis("no_accuracy_metric"))


def check_loss(ctx: Context, info: dict, what: str) -> None:
    """Fail unless the compiled loss is the cross-entropy of the model's kind of output with integer labels.

    Args:
        info: the `describe` probe's reply, with the `fixtures` (labels, probs, logits) it was given.
    """
    if not info["compiled"] or info["loss"]["name"] is None:
        raise CheckFailed(what, "the model is not compiled with a loss", ctx.diagnosis("not_compiled"))
    outputs = info.get("outputs")
    if outputs is None or outputs.ndim != 2:
        raise CheckFailed(what, "the model's output is not (batch, classes)", "fix the output shape first.")
    fx, values = info["fixtures"], info["loss_values"]
    probabilities = is_probabilities(outputs)
    kind = "probabilities" if probabilities else "logits"
    if probabilities:
        expected = cross_entropy_probs(fx["probs"], fx["labels"])
        described = "rows of the output are probabilities (non-negative, sum to 1)"
    else:
        expected = cross_entropy_logits(fx["logits"], fx["labels"])
        described = "rows of the output are logits (not probabilities)"
    got = values.get(f"{kind}/integer")
    if close(got, expected):
        if probabilities and info["loss"]["from_logits"]:
            raise CheckFailed(what, f"{described}, but the loss has from_logits=True",
                              ctx.diagnosis("softmax_with_from_logits"))
        return
    detail = (
        f"{described}; the compiled loss on fixed {kind} with integer labels should be their "
        f"cross-entropy, {expected:.4f}, got " + (f"{got:.4f}" if isinstance(got, float) else f"an error:\n{got}")
    )
    categorical = ctx.known("categorical_with_integer_labels")
    if categorical and not isinstance(got, float) and close(values.get(f"{kind}/one_hot"), expected):
        hint = categorical
    elif probabilities and close(got, cross_entropy_logits(fx["probs"], fx["labels"])):
        hint = ctx.diagnosis("softmax_with_from_logits")
    elif not probabilities and info["loss"]["from_logits"] is False:
        hint = ctx.diagnosis("logits_without_from_logits")
    else:
        hint = GENERAL_LOSS_HINT
    raise CheckFailed(what, detail, hint)
