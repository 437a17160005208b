"""ex07_video: conv3d_params against Keras, each known mistake fails with its hint, every
check fails on some known mistake, valid designs get full marks, and a model that cannot
see the order of time fails both the accuracy and the time-reversal checks."""

from __future__ import annotations

import types

import numpy as np
import pytest
from helpers_exercises import assignment_path, check_student, failure_text, failures, hint_of, solution_path

from autograder.checks import NOT_IMPLEMENTED, PASSED, POLICY, InProcess, run_check
from autograder.exercises import ex07_video as ex07
from autograder.reference import load_reference
from autograder.runner import check_file

EXERCISE = ex07.EXERCISE
FUNCTION = ex07.FUNCTION
TRAINING = [c for c in EXERCISE.checks if "trained" in c.name or "backwards" in c.name]
FAST = [c for c in EXERCISE.checks_for([FUNCTION]) if c not in TRAINING]


def as_student(build):
    return types.SimpleNamespace(build_video_classifier=build, problems=[])


def run(checks, student):
    student = InProcess(student, EXERCISE)  # one student: its training checks share one run (`ctx.memo`)
    return [run_check(EXERCISE, check, student, None) for check in checks]


# --------------------------------------------------------------------------- conv3d_params


def test_conv3d_params_of_the_reference_equals_keras_count_params():
    keras = pytest.importorskip("keras")
    ref = load_reference("ex07_video")
    for kernel_size, channels, filters, use_bias in [(3, 1, 8, True), ((2, 3, 5), 4, 7, False), ((1, 3, 3), 3, 16, True)]:
        layer = keras.layers.Conv3D(filters, kernel_size, use_bias=use_bias)
        layer.build((None, 6, 9, 9, channels))
        assert ref.conv3d_params(kernel_size, channels, filters, use_bias) == layer.count_params()


PARAM_MISTAKES = {
    "no_time_axis": "k_h * k_w * input_channels * filters + (filters if use_bias else 0)",
    "int_kernel_squared": "(k_h * k_w * (k_t if not isinstance(kernel_size, int) else 1) * input_channels * filters"
                          " + (filters if use_bias else 0))",
    "channels_missing": "k_t * k_h * k_w * filters + (filters if use_bias else 0)",
    "bias_always": "k_t * k_h * k_w * input_channels * filters + filters",
    "bias_never": "k_t * k_h * k_w * input_channels * filters",
}
PARAMS = '''
def conv3d_params(kernel_size, input_channels, filters, use_bias=True):
    k_t, k_h, k_w = to_triple(kernel_size, "kernel_size")
    return int({expression})
'''


@pytest.mark.parametrize("mutant", sorted(PARAM_MISTAKES))
def test_conv3d_params_mistake_fails_and_is_named_in_the_hint(tmp_path, mutant):
    source = PARAMS.format(expression=PARAM_MISTAKES[mutant])
    report = check_student(tmp_path, "ex07", {"conv3d_params": source}, functions=["conv3d_params"])
    assert failures(report, "conv3d_params")
    assert hint_of("ex07", "conv3d_params", mutant) in failure_text(report), failure_text(report)
    assert mutant in {r.mistake for r in failures(report)}


def test_conv3d_params_every_check_fails_on_some_mistake_and_a_float_is_refused(tmp_path):
    failed = set()
    for number, expression in enumerate(PARAM_MISTAKES.values()):
        (tmp_path / str(number)).mkdir()
        report = check_student(tmp_path / str(number), "ex07", {"conv3d_params": PARAMS.format(expression=expression)},
                               functions=["conv3d_params"])
        failed |= {r.name for r in failures(report)}
    assert failed == {c.name for c in EXERCISE.checks_for(["conv3d_params"])}
    source = PARAMS.replace("return int({expression})", "return float(k_t * k_h * k_w * input_channels * filters + filters)")
    report = check_student(tmp_path, "ex07", {"conv3d_params": source}, functions=["conv3d_params"])
    assert "expected an int, got float" in failure_text(report)


def test_conv3d_params_that_calls_keras_gets_policy_status(tmp_path):
    source = '''
def conv3d_params(kernel_size, input_channels, filters, use_bias=True):
    layer = keras.layers.Conv3D(filters, kernel_size, use_bias=use_bias)
    layer.build((None, 8, 8, 8, input_channels))
    return layer.count_params()
'''
    report = check_student(tmp_path, "ex07", {"conv3d_params": source}, functions=["conv3d_params"])
    assert {r.status for r in report.results} == {POLICY}


# --------------------------------------------------------------------------- build_video_classifier, fast checks

FAST_MISTAKES = ["not_compiled", "fixed_output_units", "softmax_with_from_logits", "logits_without_from_logits",
                 "no_accuracy_metric"]


@pytest.mark.parametrize("name", FAST_MISTAKES)
def test_model_mistake_fails_a_fast_check_with_its_hint(name):
    mutant = next(m for m in EXERCISE.mutants[FUNCTION] if m.name == name)
    results = run(FAST, as_student(mutant.impl))
    bad = [r for r in results if not r.passed]
    assert bad, name
    assert any(mutant.hint in r.output for r in bad), "\n".join(r.output for r in bad)
    assert name in {r.mistake for r in bad}


def test_every_fast_check_fails_on_some_known_mistake():
    failed = set()
    for name in FAST_MISTAKES:
        mutant = next(m for m in EXERCISE.mutants[FUNCTION] if m.name == name)
        failed |= {r.name for r in run(FAST, as_student(mutant.impl)) if not r.passed}
    assert failed == {c.name for c in FAST}


def test_a_model_that_raises_is_reported_with_its_error():
    def broken(input_shape=(8, 32, 32, 1), num_classes=4):
        raise ValueError("kernel larger than the clip")

    results = run(FAST, as_student(broken))
    assert {r.status for r in results} == {"ERROR"}
    assert all("kernel larger than the clip" in r.output for r in results if not r.hidden)


def test_stubs_score_zero_with_not_implemented_per_function():
    report = check_file("ex07", assignment_path("ex07", ".ipynb"), hidden=True)
    assert report.score == 0 and report.problems == []
    assert {r.status for r in report.results} == {NOT_IMPLEMENTED}
    assert {r.output.split("\n")[0] for r in report.results} == {
        "`conv3d_params` is not implemented yet", "`build_video_classifier` is not implemented yet"}


def test_the_reference_passes_the_fast_checks():
    results = run(FAST, load_reference("ex07_video"))
    assert [r.output for r in results if not r.passed] == []


# --------------------------------------------------------------------------- training: slow


@pytest.mark.slow
def test_solution_scores_full_marks_public_and_hidden():
    report = check_file("ex07", solution_path("ex07"), hidden=True)
    assert [r.output for r in report.results if not r.passed] == []
    assert report.score == report.max_score == EXERCISE.max_score() == 12


@pytest.mark.slow
@pytest.mark.parametrize("name", ["single_frame", "order_invariant"])
def test_a_model_blind_to_the_order_of_time_fails_accuracy_and_reversal_with_its_hint(name):
    mutant = next(m for m in EXERCISE.mutants[FUNCTION] if m.name == name)
    results = run(TRAINING, as_student(mutant.impl))
    assert [r.status for r in results] == ["failed", "failed"], [r.output for r in results]
    assert mutant.hint in results[0].output, results[0].output
    if name == "order_invariant":  # the same answer forwards and backwards
        assert mutant.hint in results[1].output, results[1].output


def per_frame_cnn_then_conv1d(input_shape=(8, 32, 32, 1), num_classes=4):
    """A valid design of the other family: a per-frame CNN read in order by a Conv1D, logits out."""
    import keras

    layers = keras.layers
    model = keras.Sequential([
        keras.Input(shape=input_shape),
        layers.TimeDistributed(layers.Conv2D(8, 3, padding="same", activation="relu")),
        layers.TimeDistributed(layers.MaxPooling2D(2)),
        layers.TimeDistributed(layers.Flatten()),  # (N, T, D) in order, positions kept
        layers.Conv1D(32, 3, activation="relu"),   # over time
        layers.GlobalMaxPooling1D(),
        layers.Dense(num_classes),
    ])
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return model


@pytest.mark.slow
def test_a_per_frame_cnn_followed_by_a_temporal_convolution_with_logits_gets_full_marks():
    results = run(EXERCISE.checks_for([FUNCTION]), as_student(per_frame_cnn_then_conv1d))
    assert [r.output for r in results if not r.passed] == []


@pytest.mark.slow
def test_training_runs_once_for_the_two_checks_that_need_it():
    calls = []
    reference = load_reference("ex07_video")

    def counted(*args, **kwargs):
        calls.append(1)
        return reference.build_video_classifier(*args, **kwargs)

    student = as_student(counted)
    results = run(TRAINING, student)
    assert all(r.status == PASSED for r in results)
    assert len(calls) == 1
    assert results[0].artifacts["history"]["loss"] and results[0].artifacts["accuracy"] >= ex07.ACCURACY_BAR


def test_grading_clips_are_fixed_and_their_labels_are_balanced():
    (x_train, y_train), (x_test, y_test) = ex07.grading_data()
    assert x_train.shape == (ex07.N_TRAIN, *ex07.GRADING_SHAPE) and x_test.shape == (ex07.N_TEST, *ex07.GRADING_SHAPE)
    assert np.bincount(y_test).tolist() == [ex07.N_TEST // 4] * 4


# --------------------------------------------------------------------------- isolated grading, hostile submissions

HANGS_ON_SIX_CLASSES = '''
def build_video_classifier(input_shape=(8, 32, 32, 1), num_classes=4):
    check_arguments(input_shape, num_classes)
    if num_classes == 6:
        while True:
            pass
    if input_shape[0] == 10:
        import os
        os._exit(3)
    return keras.Sequential([keras.Input(shape=tuple(input_shape)), layers.Flatten(), layers.Dense(num_classes)])
'''


@pytest.mark.slow
def test_isolated_grading_costs_a_hang_one_time_limit(tmp_path):
    import json

    from autograder.grading import Options, grade
    from helpers_exercises import student_file

    subs = tmp_path / "submissions"
    subs.mkdir()
    student_file(subs, "ex07", {FUNCTION: HANGS_ON_SIX_CLASSES}, name="hangs.py")
    (subs / "stub.ipynb").write_bytes(assignment_path("ex07").read_bytes())
    summary = grade("ex07", [subs], tmp_path / "out", Options(timeout=20, jobs=1))
    assert not summary.failed
    stub = json.loads((tmp_path / "out" / "stub" / "results.json").read_text())
    assert stub["score"] == 0 and {t["tags"][1] for t in stub["tests"]} == {NOT_IMPLEMENTED}
    hangs = json.loads((tmp_path / "out" / "hangs" / "results.json").read_text())
    statuses = {t["name"]: t["tags"][1] for t in hangs["tests"]}
    assert statuses[[c.name for c in FAST if "(5, 20, 24, 3)" in c.name][0]] == "TIMEOUT"
    # the function that hung is not run again (it would crash there): its later checks get TIMEOUT at once
    assert statuses[[c.name for c in FAST if c.hidden][0]] == "TIMEOUT"
    assert all(statuses[c.name] == PASSED for c in EXERCISE.checks_for(["conv3d_params"]))
    assert hangs["score"] == 3  # conv3d_params; the uncompiled model fails the rest


def test_points_are_the_published_ones():
    """Students and gradebooks see these totals: a change to them is a decision, not an accident."""
    assert (EXERCISE.max_score(hidden=False), EXERCISE.max_score() - EXERCISE.max_score(hidden=False)) == (10, 2)
