"""Keras and TensorFlow errors, as a student should read them.

An exception raised while the student's model is built, called or trained carries
terminal colour codes, Keras' "Arguments received by ..." block and, for errors inside
a `tf.function`, a traceback of the graph's construction through the grader's own files.
`readable` keeps what the student can act on (the error's own first line and its last
line, where TensorFlow says what went wrong) and `hint_for` names the usual cause.
"""

from __future__ import annotations

import re

from autograder.outcomes import ERROR, CheckFailed

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_GRAPH_NOISE = re.compile(r"^\s*(Detected at node|File \"|\[\[|$)")


def readable(message: str, limit: int = 1200) -> str:
    """The error message without colour codes, argument dumps or graph tracebacks."""
    text = _ANSI.sub("", str(message))
    text = text.split("\nArguments received by", 1)[0]  # Keras' dump of the call's arguments
    lines = text.splitlines()
    if any(line.lstrip().startswith("Detected at node") for line in lines):
        head = lines[0]
        # after the traceback of the graph's construction comes what actually failed
        tail = [line.strip() for line in lines[1:] if not _GRAPH_NOISE.match(line) and not line.startswith("  ")]
        lines = [head, *tail[-2:]]
    text = "\n".join(line.rstrip() for line in lines).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text if len(text) <= limit else text[:limit] + " …"


def hint_for(message: str) -> str:
    """The usual cause of a Keras error, or "" when there is no safe guess."""
    text = _ANSI.sub("", str(message))
    if re.search(r"incompatible with the layer: expected (axis|shape)|expected shape=\(None, \d+, \d+, \d+\)", text):
        return (
            "your model seems to have a fixed input shape: build it from the arguments, "
            "`keras.Input(shape=input_shape)` and `Dense(num_classes, ...)`, not from numbers "
            "written in the code."
        )
    if "Incompatible shapes" in text or "logits and labels must have the same" in text:
        return (
            "the loss compares the model's output with the labels and their shapes do not fit: "
            "for integer labels use `sparse_categorical_crossentropy` (not `mse` or "
            "`categorical_crossentropy`)."
        )
    return ""


def error_verdict(info: dict, what: str, hint: str = "", not_compiled: str = "", word: str = "during") -> CheckFailed | None:
    """The verdict for an exception the student's code raised inside a probe, or None when it raised none.

    Args:
        info: the probe's plain reply; its "error" (type, message, where, during) if any.
        what: what was checked, e.g. "build_cnn(input_shape=(28, 28, 1), num_classes=10)".
        hint: the hint when no Keras message is recognised.
        not_compiled: the hint when the model was used before `compile()`.
        word: joins what the probe was doing ("during model.fit", "while unfreezing").

    Returns:
        A `CheckFailed` with status ERROR, the message cleaned of colour codes and dumps.
    """
    error = info.get("error")
    if not error:
        return None
    during = error.get("during")
    detail = f"{error['type']}: {readable(error['message'])}".strip()
    if error.get("where"):
        detail += f"\n{error['where']}"
    if not_compiled and "compile()" in error["message"]:
        hint = not_compiled
    hint = hint_for(error["message"]) or hint
    return CheckFailed(f"{what} raised an error" + (f" {word} {during}" if during else ""), detail, hint, status=ERROR)
