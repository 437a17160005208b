"""Recorded reference outputs, so public checks work where the solutions are not shipped.

A class gets the package and `assignments/`, not `solutions/`. The public checks of the
NumPy exercises draw seeded fixtures, so the reference's answers to them are known in
advance: `record(exercise)` runs every public check with the reference as the student and
stores each reference output, keyed by a hash of the call, in
`autograder/expected/<exercise>.json`. `Replay` answers the same calls from that file.
Hidden checks are never recorded: without the solutions they report that they need them.

`cnnex release` re-records; a test fails when a recording drifts from the reference.
Floating-point sums depend on the CPU's BLAS kernel and thread count, so two recordings
are the same when every answer agrees within the checks' tolerance (`differences`):
exact for integers, tuples, shapes and dtypes, never bit for bit for floats.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from autograder.checks import Exercise, compare_arrays, run_checks
from autograder.errors import GraderError


def call_key(function: str, args: tuple, kwargs: dict) -> str:
    """A stable hash of a call: function name and every argument's type, shape and bytes."""
    digest = hashlib.sha256(function.encode())

    def feed(value: Any) -> None:
        if isinstance(value, np.ndarray):
            digest.update(f"nd{value.dtype.str}{value.shape}".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        elif isinstance(value, (list, tuple)):
            digest.update(f"{type(value).__name__}{len(value)}(".encode())
            for item in value:
                feed(item)
            digest.update(b")")
        elif isinstance(value, dict):
            digest.update(f"dict{len(value)}(".encode())
            for key in sorted(value, key=str):
                feed(key)
                feed(value[key])
            digest.update(b")")
        else:
            digest.update(f"{type(value).__name__}:{value!r};".encode())

    feed(tuple(args))
    feed(dict(kwargs))
    return digest.hexdigest()[:24]


class _Recorder:
    """Stands in for the reference: forwards calls and keeps every output."""

    def __init__(self, reference: Any):
        self._reference = reference
        self.outputs: dict[str, Any] = {}
        self.signatures: dict[str, list[str]] = {}

    def __getattr__(self, function: str):
        fn = getattr(self._reference, function)
        self.signatures[function] = list(inspect.signature(fn).parameters)

        def recorded(*args, **kwargs):
            out = fn(*args, **kwargs)
            self.outputs[call_key(function, args, kwargs)] = out
            return out

        recorded.__signature__ = inspect.signature(fn)
        return recorded


def _array_to_json(value: np.ndarray) -> dict:
    return {
        "dtype": value.dtype.str,
        "shape": list(value.shape),
        "data": base64.b64encode(zlib.compress(np.ascontiguousarray(value).tobytes(), 9)).decode(),
    }


def _array_from_json(doc: dict) -> np.ndarray:
    dtype = np.dtype(doc["dtype"])
    if dtype.kind not in "biuf":
        raise GraderError(f"Recorded answers hold an unexpected dtype {dtype}")
    raw = zlib.decompress(base64.b64decode(doc["data"]))
    return np.frombuffer(raw, dtype=dtype).reshape(doc["shape"]).copy()


def _encode(outputs: dict[str, Any], signatures: dict[str, list[str]]) -> str:
    answers = {}
    for key, value in outputs.items():
        if isinstance(value, np.ndarray):
            answers[key] = {"array": _array_to_json(value)}
        elif isinstance(value, tuple) and value and all(isinstance(v, np.ndarray) for v in value):
            answers[key] = {"arrays": [_array_to_json(v) for v in value]}  # several outputs, e.g. gradients
        elif isinstance(value, tuple):
            answers[key] = {"tuple": [int(v) for v in value]}
        elif isinstance(value, (bool, int, float, np.integer, np.floating)):
            kind = "int" if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else "float"
            answers[key] = {kind: value.item() if isinstance(value, np.generic) else value}
        else:
            raise GraderError(f"Cannot record an output of type {type(value).__name__} (key {key})")
    return json.dumps({"answers": answers, "signatures": signatures}, sort_keys=True, indent=0) + "\n"


def _decode_answer(answer: dict) -> Any:
    ((kind, value),) = answer.items()
    if kind == "array":
        return _array_from_json(value)
    if kind == "arrays":
        return tuple(_array_from_json(v) for v in value)
    if kind == "tuple":
        return tuple(value)
    return {"int": int, "float": float}[kind](value)


def differences(recorded: str, fresh: str, rtol: float = 1e-5, atol: float = 1e-6) -> list[str]:
    """What differs between two recordings of one exercise, as the checks would see it.

    The calls and the functions' signatures must be the same; integers, tuples, dtypes and
    shapes exactly; floats within the engine's default comparison tolerance (the one every
    value check uses unless it asks for a looser one), so a recording made on one CPU
    matches one made on another, while a solution that changes an answer does not.
    """
    old, new = json.loads(recorded), json.loads(fresh)
    problems = []
    if old.get("signatures") != new.get("signatures"):
        problems.append(f"the functions' parameters changed: {old.get('signatures')} -> {new.get('signatures')}")
    old_answers, new_answers = old.get("answers", {}), new.get("answers", {})
    for key in sorted(old_answers.keys() - new_answers.keys()):
        problems.append(f"call {key} is recorded but no public check makes it any more")
    for key in sorted(new_answers.keys() - old_answers.keys()):
        problems.append(f"call {key} is made by a public check but not recorded")
    for key in sorted(old_answers.keys() & new_answers.keys()):
        (old_kind,), (new_kind,) = old_answers[key].keys(), new_answers[key].keys()
        a, b = _decode_answer(old_answers[key]), _decode_answer(new_answers[key])
        if old_kind != new_kind:
            problem = f"kind {old_kind} -> {new_kind}"
        elif old_kind == "array" and a.dtype != b.dtype:
            problem = f"dtype {a.dtype} -> {b.dtype}"
        elif old_kind == "array" and a.shape != b.shape:
            problem = f"shape {a.shape} -> {b.shape}"
        elif old_kind == "array" and a.dtype.kind != "f":
            problem = None if np.array_equal(a, b) else "integer values differ"
        elif old_kind in ("array", "float"):
            problem = compare_arrays(b, np.asarray(a), None, rtol, atol)
        elif old_kind == "arrays":
            parts = [compare_arrays(y, x, None, rtol, atol) for x, y in zip(a, b)]
            problem = next((p for p in parts if p), None) if len(a) == len(b) else f"{len(a)} arrays -> {len(b)}"
        else:
            problem = None if a == b else f"{a!r} -> {b!r}"
        if problem:
            problems.append(f"answer {key}: " + problem.replace("\n", "; "))
    return problems


def record(exercise: Exercise, reference: Any) -> str:
    """The recording of `exercise`'s public checks, as the text of its JSON file."""
    recorder = _Recorder(reference)
    results = run_checks(exercise, reference, recorder, hidden=False)
    broken = [r.name for r in results if not r.passed]
    if broken:
        raise GraderError(f"The reference fails its own public checks: {broken}")
    return _encode(recorder.outputs, recorder.signatures)


def path_for(exercise: str) -> Path:
    """The recording of `exercise`: `autograder/expected/<exercise>.json`, or a plug-in folder's `expected/`."""
    from autograder import exercises

    return exercises.recordings(exercise) / f"{exercise}.json"


class Replay:
    """A reference that answers recorded calls (the public checks) from `expected/<exercise>.json`."""

    def __init__(self, exercise: str, path: Path | None = None):
        path = path or path_for(exercise)
        if not path.exists():
            raise GraderError(
                f"Neither the reference solution nor recorded answers for {exercise} are here "
                f"({path}). Run from a clone of the repository, or set CNNEX_SOLUTIONS."
            )
        doc = json.loads(path.read_text(encoding="utf-8"))
        self._answers = doc["answers"]
        self._signatures = doc["signatures"]
        self.exercise = exercise

    def __getattr__(self, function: str):
        if function.startswith("_") or function not in self._signatures:
            raise AttributeError(function)

        def replay(*args, **kwargs):
            answer = self._answers.get(call_key(function, args, kwargs))
            if answer is not None:
                return _decode_answer(answer)
            raise GraderError(
                f"This check needs the reference solution of {self.exercise} (hidden checks "
                "are graded by your instructor)."
            )

        replay.__signature__ = inspect.Signature(
            [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in self._signatures[function]]
        )
        return replay
