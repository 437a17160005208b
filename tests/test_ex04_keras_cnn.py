"""ex04_keras_cnn: each known mistake fails with its hint, every check fails on some
known mistake, valid designs get full marks, grading is repeatable, and the held-out
labels never reach the student's side."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

from autograder.checks import ERROR, FAILED, NOT_IMPLEMENTED, run_check
from autograder.exercises import ex04_keras_cnn as ex04
from autograder.runner import check_file

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = ex04.EXERCISE
TRAINING = [c for c in EXERCISE.checks if c.name.startswith("build_cnn: trained")]
FAST = [c for c in EXERCISE.checks if c not in TRAINING]
MUTANTS = EXERCISE.mutants["build_cnn"]


def as_student(build_cnn):
    return types.SimpleNamespace(build_cnn=build_cnn, problems=[])


def run(checks, student):
    return [run_check(EXERCISE, check, student, None) for check in checks]


def write_student(tmp_path, source, name="ex04_keras_cnn.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def real_failures(results):
    """The results that fail because of the student's code (not because the grader broke)."""
    return [
        r for r in results
        if r.status in (FAILED, ERROR, NOT_IMPLEMENTED) and "the grader could not run this check" not in r.output
    ]


# --------------------------------------------------------------------------- hand-written wrong students


def wide_dense_head(input_shape=(28, 28, 1), num_classes=10):
    import keras

    model = keras.Sequential([
        keras.Input(shape=input_shape),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),                      # 14 * 14 * 8 = 1,568
        keras.layers.Dense(512, activation="relu"),  # 803,328 parameters
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def mse_loss(input_shape=(28, 28, 1), num_classes=10):
    model = ex04.dense_only(input_shape, num_classes)
    model.compile(optimizer="adam", loss="mse", metrics=["accuracy"])
    return model


def raises(input_shape=(28, 28, 1), num_classes=10):
    raise ValueError("too many filters")


def returns_none(input_shape=(28, 28, 1), num_classes=10):
    return None


LOSS = [c for c in FAST if "loss" in c.name]
# name -> (build_cnn, the checks it is graded on); `fit` of an uncompiled model fails at once
STUDENTS = {
    **{m.name: (m.impl, FAST + (TRAINING if m.name == "not_compiled" else [])) for m in MUTANTS},
    "wide_dense_head": (wide_dense_head, FAST),
    "mse_loss": (mse_loss, LOSS),
    "raises": (raises, FAST),
    "returns_none": (returns_none, FAST[:1]),
}


@pytest.fixture(scope="module")
def graded():
    """`graded(name)`: the results of one of `STUDENTS`, computed once for the whole module."""
    cache = {}

    def grade(name):
        if name not in cache:
            build_cnn, checks = STUDENTS[name]
            cache[name] = run(checks, as_student(build_cnn))
        return cache[name]

    return grade


def test_one_training_check_and_everything_else_is_quick():
    assert len(TRAINING) == 1
    assert TRAINING[0].points == 3
    assert len(STUDENTS) == len(MUTANTS) + 4  # no hand-written name hides a mutant


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_each_mutant_fails_with_its_hint(graded, mutant):
    results = graded(mutant.name)
    failed = [r for r in results if not r.passed]
    assert failed, f"{mutant.name} passed every check"
    assert any(mutant.hint in r.output for r in failed), "\n".join(r.output for r in failed)
    assert mutant.name in {r.mistake for r in failed}, [(r.name, r.mistake) for r in failed]
    assert all(r.status in (FAILED, ERROR) for r in failed)


def test_stub_scores_zero_with_not_implemented_message():
    report = check_file("ex04", ROOT / "assignments" / "ex04_keras_cnn.ipynb", hidden=True)
    assert report.score == 0
    assert {r.status for r in report.results} == {NOT_IMPLEMENTED}
    assert all("`build_cnn` is not implemented yet" in r.output for r in report.results)


def test_missing_function_is_reported_by_name():
    results = run(FAST[:1], types.SimpleNamespace(problems=["cell 3, line 1: SyntaxError: invalid syntax"]))
    assert results[0].status == ERROR
    assert "`build_cnn` is not defined in your file" in results[0].output
    assert "SyntaxError" in results[0].output


def test_every_check_fails_on_some_mutant_or_wrong_student(graded):
    # Left out: the stub and the students that raise or return no model. They fail every
    # check at its first step, alike, so they would prove nothing about each check's own test.
    alike = {"raises", "returns_none"}
    failed_somewhere = {r.name for name in STUDENTS if name not in alike for r in real_failures(graded(name))}
    assert failed_somewhere == {c.name for c in EXERCISE.checks}


def test_parameter_budget_fails_for_a_wide_dense_head(graded):
    results = {r.name: r for r in graded("wide_dense_head")}
    budget = next(r for name, r in results.items() if "parameters" in name)
    assert budget.status == FAILED
    assert "got 808," in budget.output and "Dense layer after Flatten" in budget.output
    assert 808_000 < budget.artifacts["params"] < 809_000  # kept for the class report
    assert all(r.passed for r in results.values() if r is not budget)


def test_a_loss_that_is_not_cross_entropy_fails_with_the_general_hint(graded):
    (result,) = graded("mse_loss")
    assert result.status == FAILED
    assert "'sparse_categorical_crossentropy' for a softmax output" in result.output


def test_student_exception_is_reported_with_its_message(graded):
    results = graded("raises")
    assert all(r.status == ERROR for r in results)
    public = [r for r in results if not r.hidden]
    assert all("raised an error" in r.output and "ValueError: too many filters" in r.output for r in public)
    assert all("too many filters" not in r.output for r in results if r.hidden)  # hidden: outcome only


def test_returning_something_else_than_a_model_fails(graded):
    results = graded("returns_none")
    assert results[0].status == FAILED
    assert "expected a keras.Model, got NoneType" in results[0].output


def test_probes_never_import_the_checks_or_the_solutions():
    source = (ROOT / "autograder" / "probes" / "ex04_keras_cnn.py").read_text()
    assert "autograder.exercises" not in source and "solutions" not in source and "reference" not in source
    code = (
        "import sys, autograder.probes.ex04_keras_cnn as p; "
        "assert 'autograder.exercises.ex04_keras_cnn' not in sys.modules; "
        "assert 'keras' not in sys.modules; print(sorted(p.PROBES))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "describe" in out.stdout and "train_and_predict" in out.stdout


def test_the_checks_module_does_not_import_keras():
    code = "import sys, autograder.exercises.ex04_keras_cnn; assert 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --------------------------------------------------------------------------- training (slow)


@pytest.mark.slow
def test_reference_gets_full_marks_twice_with_the_same_predictions_and_no_test_labels(monkeypatch):
    (_, _), (_, y_test) = ex04.grading_data()
    calls = []
    probe = EXERCISE.probes["train_and_predict"]

    def spy(student, **params):
        out = probe(student, **params)
        calls.append((params, out))
        return out

    monkeypatch.setitem(EXERCISE.probes, "train_and_predict", spy)
    first = check_file("ex04", ROOT / "solutions" / "ex04_keras_cnn.py", hidden=True)
    second = check_file("ex04", ROOT / "solutions" / "ex04_keras_cnn.py", hidden=True)
    assert first.score == first.max_score == second.score, [r.output for r in first.results if not r.passed]
    assert len(calls) == 2
    assert np.array_equal(calls[0][1]["outputs"], calls[1][1]["outputs"])  # bit for bit
    for params, _ in calls:
        for value in params.values():
            assert not (isinstance(value, np.ndarray) and value.shape == y_test.shape and np.array_equal(value, y_test))
    trained = next(r for r in first.results if r.name.startswith("build_cnn: trained"))
    assert trained.artifacts["accuracy"] >= ex04.ACCURACY_BAR
    assert len(trained.artifacts["history"]["loss"]) == ex04.EPOCHS


@pytest.mark.slow
def test_valid_alternative_designs_get_full_marks(tmp_path):
    functional_logits = write_student(tmp_path, """
        import keras
        from keras import layers

        def build_cnn(input_shape=(28, 28, 1), num_classes=10):
            inputs = keras.Input(shape=input_shape)
            x = layers.Conv2D(32, 3, padding="same")(inputs)
            x = layers.ReLU()(x)                      # Conv2D + ReLU layer, not activation="relu"
            x = layers.MaxPooling2D()(x)
            x = layers.Conv2D(64, 3, padding="same")(x)
            x = layers.ReLU()(x)
            x = layers.MaxPooling2D()(x)
            x = layers.Flatten()(x)
            x = layers.Dense(64, activation="relu")(x)
            outputs = layers.Dense(num_classes)(x)    # logits
            model = keras.Model(inputs, outputs)
            model.compile(
                optimizer=keras.optimizers.Adam(1e-3),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=[keras.metrics.SparseCategoricalAccuracy()],
            )
            return model
        """, "ex04_keras_cnn_functional.py")
    strided_gap = write_student(tmp_path, """
        import keras
        from keras import layers

        def build_cnn(input_shape=(28, 28, 1), num_classes=10):
            model = keras.Sequential([
                keras.Input(shape=input_shape),
                layers.Conv2D(32, 3, strides=2, padding="same", activation="relu"),  # no pooling layer
                layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
                layers.Conv2D(128, 3, padding="same", activation="relu"),
                layers.GlobalAveragePooling2D(),
                layers.Dense(num_classes),
            ])
            model.compile(optimizer=keras.optimizers.Adam(3e-3),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          metrics=["accuracy"])
            return model
        """, "ex04_keras_cnn_strided.py")
    for path in (functional_logits, strided_gap):
        report = check_file("ex04", path, hidden=True)
        assert report.score == report.max_score, (path.name, [r.output for r in report.results if not r.passed])


@pytest.mark.slow
def test_training_check_fails_for_a_network_that_cannot_learn_in_the_budget():
    def frozen_in_place(input_shape=(28, 28, 1), num_classes=10):
        import keras

        model = ex04._stack(keras, input_shape, num_classes)  # a CNN that learns nothing at this rate
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-6),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    (result,) = run(TRAINING, as_student(frozen_in_place))
    assert result.status == FAILED
    assert f"needs >= {ex04.ACCURACY_BAR:.0%}" in result.output
    assert "use the Adam optimizer" in result.output
    assert result.artifacts["accuracy"] < ex04.ACCURACY_BAR
    assert "history" in result.artifacts


@pytest.mark.slow
def test_categorical_loss_fails_training_with_an_error_not_a_crash():
    (result,) = run(TRAINING, as_student(ex04.categorical_with_integer_labels))
    assert result.status == ERROR
    assert "during model.fit" in result.output


@pytest.mark.slow
def test_a_network_without_convolution_earns_at_most_half_the_points():
    student = as_student(ex04.dense_only)
    results = run(EXERCISE.checks, student)
    score, total = sum(r.score for r in results), sum(r.max_score for r in results)
    assert score <= total / 2, [(r.name, r.score) for r in results]
    gated = [r for r in results if "counts only for a CNN" in r.output]
    assert {r.name for r in gated} >= {c.name for c in TRAINING}
    assert all("no convolution" in r.output and "Conv2D" in r.output for r in gated)  # the dense_only hint


def test_points_are_the_published_ones():
    """Students and gradebooks see these totals: a change to them is a decision, not an accident."""
    assert (EXERCISE.max_score(hidden=False), EXERCISE.max_score() - EXERCISE.max_score(hidden=False)) == (9, 1)
