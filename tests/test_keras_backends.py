"""The Keras exercises and their checks run on Keras' JAX backend too (Keras 3 APIs only).

Each test starts a fresh Python with `KERAS_BACKEND=jax` (the backend is fixed when Keras
is imported) and reads back a JSON summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder import exercises

ROOT = Path(__file__).resolve().parent.parent
KERAS_EXERCISES = [n for n in exercises.available() if "keras" in exercises.get(n).resources.preload]

pytest.importorskip("jax", reason="needs jax: pip install -e '.[jax]'")


def run_on_jax(script: str) -> dict:
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert out.returncode == 0 and lines, out.stdout[-3000:] + out.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


@pytest.mark.slow
def test_solutions_get_full_marks_on_jax():
    result = run_on_jax('''
        import json
        import keras
        from autograder.runner import check_file

        summary = {"backend": keras.backend.backend()}
        for exercise in KERAS_EXERCISES:
            report = check_file(exercise, f"solutions/{exercise}.py", hidden=True)
            summary[exercise] = {
                "score": report.score,
                "max_score": report.max_score,
                "failed": [r.output for r in report.results if not r.passed],
            }
        print("RESULT " + json.dumps(summary))
        '''.replace("KERAS_EXERCISES", repr(KERAS_EXERCISES)))
    assert result["backend"] == "jax"
    for exercise in KERAS_EXERCISES:
        assert result[exercise]["score"] == result[exercise]["max_score"] > 0, result[exercise]["failed"]


@pytest.mark.slow
def test_backend_dependent_mistakes_get_their_hints_on_jax():
    # On TensorFlow a missing recompile silently trains the old weights and Keras repairs
    # softmax + from_logits=True inside `fit`; on JAX the first raises and the second
    # trains on a double softmax. The checks must name both mistakes either way.
    result = run_on_jax('''
        import json, types
        import keras
        from autograder.checks import run_check, run_checks
        from autograder.exercises import ex04_keras_cnn as ex04, ex05_vgg16_finetune as ex05
        from autograder.reference import load_reference

        summary = {"backend": keras.backend.backend()}
        student = types.SimpleNamespace(build_cnn=ex04.softmax_with_from_logits, problems=[])
        checks = [c for c in ex04.EXERCISE.checks if "loss" in c.name]
        results = [run_check(ex04.EXERCISE, check, student, None) for check in checks]
        summary["from_logits"] = [r.output for r in results if not r.passed]
        summary["from_logits_hint"] = next(
            m.hint for m in ex04.EXERCISE.mutants["build_cnn"] if m.name == "softmax_with_from_logits")

        reference = load_reference(ex05.EXERCISE.name)
        mutant = next(m for m in ex05.EXERCISE.mutants["unfreeze_top_block"] if m.name == "not_recompiled")
        functions = {name: getattr(reference, name) for name in ex05.EXERCISE.functions}
        functions["unfreeze_top_block"] = mutant.impl
        results = run_checks(ex05.EXERCISE, types.SimpleNamespace(problems=[], **functions), reference,
                             hidden=True, functions=["unfreeze_top_block"])
        summary["not_recompiled"] = [r.output for r in results if not r.passed]
        summary["not_recompiled_hint"] = mutant.hint
        print("RESULT " + json.dumps(summary))
        ''')
    assert result["backend"] == "jax"
    assert any(result["from_logits_hint"] in output for output in result["from_logits"]), result["from_logits"]
    assert result["not_recompiled"], "not recompiling passed on JAX"
    assert any(result["not_recompiled_hint"] in output for output in result["not_recompiled"]), result["not_recompiled"]
