"""ex05_vgg16_finetune: the oracle is Keras' preprocessing, each known mistake fails with its
hint, every check fails on some known mistake, valid variants get full marks, and the
ImageNet weights fail offline with a clear message that says where the file goes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

from autograder.checks import ERROR, FAILED, NOT_IMPLEMENTED, PASSED, mistake_hint, run_checks
from autograder.exercises import ex05_vgg16_finetune as ex05
from autograder.reference import load_reference
from autograder.runner import check_file

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = ex05.EXERCISE
MODEL_MUTANTS = [
    m for function in ("build_vgg16_classifier", "unfreeze_top_block") for m in EXERCISE.mutants[function]
]


@pytest.fixture(scope="module")
def reference():
    return load_reference(EXERCISE.name)


def with_function(reference, function, impl):
    """The reference solution with one function replaced, as a student namespace."""
    functions = {name: getattr(reference, name) for name in EXERCISE.functions}
    functions[function] = impl
    return types.SimpleNamespace(problems=[], **functions)


def rgb(rng, shape, dtype=np.float32):
    if dtype == np.uint8:
        return rng.integers(0, 256, size=shape).astype(np.uint8)
    return rng.uniform(0.0, 255.0, size=shape).astype(dtype)


def real_failures(results):
    """The results that fail because of the student's code (not because the grader broke)."""
    return [
        r for r in results
        if r.status in (FAILED, ERROR, NOT_IMPLEMENTED) and "the grader could not run this check" not in r.output
    ]


def by_check(results):
    """`{check name without the function: result}`."""
    return {r.name.split(": ", 1)[1]: r for r in results}


# --------------------------------------------------------------------------- hand-written wrong students


def keeps_uint8(images):
    return np.clip(ex05.caffe(images), 0, 255).astype(np.asarray(images).dtype)


def frozen_vgg16(input_shape, weights, name="vgg16"):
    import keras

    base = keras.applications.VGG16(include_top=False, weights=weights, input_shape=tuple(input_shape), name=name)
    base.trainable = False
    return base


def on_top(base, num_classes, input_shape, pool=True):
    """Raw RGB (B, H, W, 3) -> preprocess_input -> base -> pooling -> softmax (B, K); not compiled."""
    import keras

    inputs = keras.Input(shape=tuple(input_shape))
    x = base(keras.applications.vgg16.preprocess_input(inputs), training=False)  # (B, H/32, W/32, 512)
    if pool:
        x = keras.layers.GlobalAveragePooling2D()(x)                              # (B, 512)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)            # (B, K)
    return keras.Model(inputs, outputs)


def compiled(model, optimizer="adam"):
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def base_renamed(num_classes, input_shape=(224, 224, 3), weights="imagenet"):
    import keras

    base = keras.applications.VGG16(include_top=False, weights=weights, input_shape=input_shape, name="backbone")
    base.trainable = False
    inputs = keras.Input(shape=input_shape)
    x = base(keras.applications.vgg16.preprocess_input(inputs))
    outputs = keras.layers.Dense(num_classes, activation="softmax")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def base_cut_after_block4(num_classes, input_shape=(224, 224, 3), weights="imagenet"):
    import keras

    full = frozen_vgg16(input_shape, weights, name="full_vgg16")
    base = keras.Model(full.input, full.get_layer("block4_pool").output, name="vgg16")  # 10 convolutions
    return compiled(on_top(base, num_classes, input_shape))


def not_compiled(num_classes, input_shape=(224, 224, 3), weights="imagenet"):
    return on_top(frozen_vgg16(input_shape, weights), num_classes, input_shape)


def no_pooling_before_dense(num_classes, input_shape=(224, 224, 3), weights="imagenet"):
    return compiled(on_top(frozen_vgg16(input_shape, weights), num_classes, input_shape, pool=False))


def whole_model_frozen(num_classes, input_shape=(224, 224, 3), weights="imagenet"):
    model = on_top(frozen_vgg16(input_shape, weights), num_classes, input_shape)
    model.trainable = False  # the head too
    return compiled(model)


def zero_learning_rate(num_classes, input_shape=(224, 224, 3), weights="imagenet"):
    import keras

    return compiled(on_top(frozen_vgg16(input_shape, weights), num_classes, input_shape),
                    keras.optimizers.SGD(learning_rate=0.0))


def unfreeze_raises(model, learning_rate=1e-5):
    return model.get_layer("block5_conv1")  # the layer is inside the base, not the model


# (function, name) -> (the student's function, also grade the hidden checks)
STUDENTS = {
    **{(m.function, m.name): (m.impl, True) for ms in EXERCISE.mutants.values() for m in ms},
    ("vgg16_preprocess", "keeps_uint8"): (keeps_uint8, False),
    **{
        ("build_vgg16_classifier", f.__name__): (f, False)
        for f in (base_renamed, base_cut_after_block4, not_compiled, no_pooling_before_dense,
                  whole_model_frozen, zero_learning_rate)
    },
    ("unfreeze_top_block", "unfreeze_raises"): (unfreeze_raises, False),
}


@pytest.fixture(scope="module")
def graded(reference):
    """`graded(function, name)`: the results of the checks of `function` for one of `STUDENTS`
    (the reference with that function replaced), computed once for the whole module."""
    cache = {}

    def grade(function, name):
        if (function, name) not in cache:
            impl, hidden = STUDENTS[function, name]
            student = with_function(reference, function, impl)
            with warnings.catch_warnings():  # whole_model_frozen: Keras says so before `fit`
                warnings.filterwarnings("ignore", "The model does not have any trainable weights")
                cache[function, name] = run_checks(EXERCISE, student, reference, hidden=hidden,
                                                   functions=[function])
        return cache[function, name]

    return grade


# --------------------------------------------------------------------------- preprocessing (fast)


@pytest.mark.parametrize(
    "shape, dtype",
    [((2, 5, 7, 3), np.float32), ((6, 5, 3), np.float64), ((3, 4, 6, 3), np.uint8)],
)
def test_oracle_and_reference_equal_keras_preprocess_input(reference, shape, dtype):
    import keras

    images = rgb(np.random.default_rng(0), shape, dtype)
    keras_out = np.asarray(keras.applications.vgg16.preprocess_input(images.copy()))  # it writes into floats
    np.testing.assert_allclose(ex05.caffe(images), keras_out, rtol=1e-6, atol=1e-4)
    before = images.copy()
    ours = reference.vgg16_preprocess(images)
    np.testing.assert_allclose(ours, keras_out, rtol=1e-6, atol=1e-4)
    assert np.array_equal(images, before)
    assert ours.dtype == keras_out.dtype


@pytest.mark.parametrize("mutant", EXERCISE.mutants["vgg16_preprocess"], ids=lambda m: m.name)
def test_each_preprocessing_mutant_fails_with_its_hint(graded, mutant):
    results = graded("vgg16_preprocess", mutant.name)
    assert results and all(r.status == FAILED for r in results), [r.output for r in results]
    assert all(mutant.hint in r.output for r in results), [r.output for r in results]
    named = {mistake_hint(EXERCISE, r.function, r.mistake) for r in results}  # two mutants are one function
    assert named == {mutant.hint}, [(r.name, r.mistake) for r in results]


def test_preprocessing_that_returns_integers_fails_on_uint8(graded):
    results = graded("vgg16_preprocess", "keeps_uint8")
    assert not any(r.passed for r in results)


def test_probes_never_import_the_checks_or_the_solutions():
    source = (ROOT / "autograder" / "probes" / "ex05_vgg16_finetune.py").read_text()
    assert "autograder.exercises" not in source and "solutions" not in source and "reference" not in source
    code = (
        "import sys, autograder.probes.ex05_vgg16_finetune as p; "
        "assert 'autograder.exercises.ex05_vgg16_finetune' not in sys.modules; "
        "assert 'keras' not in sys.modules; print(sorted(p.PROBES))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "after_build" in out.stdout and "after_unfreeze" in out.stdout and "base_input" in out.stdout


def test_the_checks_module_does_not_import_keras():
    code = "import sys, autograder.exercises.ex05_vgg16_finetune; assert 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --------------------------------------------------------------------------- models (slow: one training step each)


@pytest.mark.slow
def test_reference_gets_full_marks_with_hidden_checks():
    report = check_file("ex05", ROOT / "solutions" / "ex05_vgg16_finetune.py", hidden=True)
    assert report.score == report.max_score, [r.output for r in report.results if not r.passed]
    assert any(r.hidden for r in report.results)


@pytest.mark.slow
def test_stub_scores_zero_with_not_implemented_messages():
    report = check_file("ex05", ROOT / "assignments" / "ex05_vgg16_finetune.ipynb", hidden=True)
    assert report.score == 0
    assert {r.status for r in report.results} == {NOT_IMPLEMENTED}
    for result in report.results:
        assert f"`{result.function}` is not implemented yet" in result.output


@pytest.mark.slow
@pytest.mark.parametrize("mutant", MODEL_MUTANTS, ids=lambda m: f"{m.function}-{m.name}")
def test_each_model_mutant_fails_with_its_hint(graded, mutant):
    results = graded(mutant.function, mutant.name)
    failed = [r for r in results if not r.passed]
    assert failed, f"{mutant.name} passed every check"
    assert any(mutant.hint in r.output for r in failed), "\n".join(r.output for r in failed)
    named = {mistake_hint(EXERCISE, r.function, r.mistake) for r in failed}  # a preprocessing mutant may name it
    assert mutant.hint in named, [(r.name, r.mistake) for r in failed]


@pytest.mark.slow
def test_a_base_under_another_name_is_reported(graded):
    results = graded("build_vgg16_classifier", "base_renamed")
    assert all(r.status == FAILED for r in results)
    assert all("no sub-model named 'vgg16'" in r.output and "backbone" in r.output for r in results)


@pytest.mark.slow
def test_a_base_with_the_wrong_parameter_count_is_reported(graded):
    results = by_check(graded("build_vgg16_classifier", "base_cut_after_block4"))
    first = results[f"a compiled model around the 'vgg16' sub-model ({ex05.BASE_PARAMS:,} parameters)"]
    assert first.status == FAILED
    assert "expected 14,714,688 parameters (VGG16 without its dense top), got 7,635,264" in first.output
    assert "include_top=False" in first.output
    assert all(r.status == PASSED for r in results.values() if r is not first)  # frozen, preprocesses once


@pytest.mark.slow
def test_a_model_that_is_not_compiled_is_reported(graded):
    results = by_check(graded("build_vgg16_classifier", "not_compiled"))
    first = results[f"a compiled model around the 'vgg16' sub-model ({ex05.BASE_PARAMS:,} parameters)"]
    assert first.status == FAILED
    assert "returns a compiled model" in first.output and "the model is not compiled" in first.output
    assert "call `model.compile(" in first.output
    step = results["one training step changes the head, every VGG16 weight stays bit-identical"]
    assert step.status == ERROR and "one training step" in step.output and "not compiled" in step.output


@pytest.mark.slow
def test_a_wrong_output_shape_is_reported_by_the_first_check(graded):
    results = by_check(graded("build_vgg16_classifier", "no_pooling_before_dense"))
    first = results[f"a compiled model around the 'vgg16' sub-model ({ex05.BASE_PARAMS:,} parameters)"]
    assert first.status == FAILED
    assert "output shape: expected (batch=4, classes=5), got (4, 1, 1, 5)" in first.output
    assert "GlobalAveragePooling2D()" in first.output


@pytest.mark.slow
def test_a_model_with_no_trainable_weight_is_reported(graded):
    results = by_check(graded("build_vgg16_classifier", "whole_model_frozen"))
    flags = results["only the new head is trainable"]
    assert flags.status == FAILED
    assert "no weight is trainable" in flags.output and "head" in flags.output
    step = results["one training step changes the head, every VGG16 weight stays bit-identical"]
    assert step.status == FAILED and "no weight of the head changed" in step.output


@pytest.mark.slow
def test_a_head_that_does_not_move_in_a_training_step_is_reported(graded):
    results = by_check(graded("build_vgg16_classifier", "zero_learning_rate"))
    step = results["one training step changes the head, every VGG16 weight stays bit-identical"]
    assert step.status == FAILED
    assert "the head's weights after one training step" in step.output
    assert "no weight of the head changed" in step.output and "learning rate above 0" in step.output
    assert results["only the new head is trainable"].status == PASSED  # the flags are right; the step is not


@pytest.mark.slow
def test_every_check_fails_on_some_mutant_or_wrong_student(graded):
    # Left out: the stub and the students whose code raises or whose base is not named
    # 'vgg16'. They fail every check of a function at its first step, alike, so they would
    # prove nothing about each check's own test.
    alike = {"base_renamed", "unfreeze_raises"}
    assert len(STUDENTS) == sum(map(len, EXERCISE.mutants.values())) + 8  # no name hides another
    failed_somewhere = {
        r.name for function, name in STUDENTS if name not in alike for r in real_failures(graded(function, name))
    }
    assert failed_somewhere == {c.name for c in EXERCISE.checks}


@pytest.mark.slow
def test_student_exception_in_unfreeze_is_reported(graded):
    results = graded("unfreeze_top_block", "unfreeze_raises")
    assert all(r.status == ERROR for r in results)
    assert all("ValueError" in r.output and "while unfreezing" in r.output for r in results)


@pytest.mark.slow
def test_valid_variants_get_full_marks_after_a_wrong_submission(tmp_path, reference):
    # A wrong submission first: its probe data must not leak into the next one's grading.
    wrong = with_function(reference, "build_vgg16_classifier", ex05.base_not_frozen)
    assert not all(r.passed for r in run_checks(EXERCISE, wrong, reference, hidden=True))
    path = tmp_path / "ex05_vgg16_finetune_variant.py"
    path.write_text(textwrap.dedent('''
        import numpy as np
        import keras
        from keras import layers, ops

        MEAN = [103.939, 116.779, 123.68]

        def vgg16_preprocess(images):
            x = np.array(images, dtype=np.float64)  # a copy
            x = np.flip(x, axis=-1)
            x -= np.array(MEAN)
            return x

        def build_vgg16_classifier(num_classes, input_shape=(224, 224, 3), weights="imagenet"):
            base = keras.applications.VGG16(include_top=False, weights=weights, input_shape=input_shape)
            base.trainable = False
            model = keras.Sequential([
                keras.Input(shape=input_shape),
                layers.Lambda(lambda t: ops.flip(t, axis=-1) - ops.convert_to_tensor(MEAN)),
                base,
                layers.Flatten(),
                layers.Dense(num_classes),                     # logits
            ])
            model.compile(optimizer=keras.optimizers.RMSprop(1e-4),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          metrics=["accuracy"])
            return model

        def unfreeze_top_block(model, learning_rate=1e-5):
            vgg = model.get_layer("vgg16")
            vgg.trainable = True
            for layer in vgg.layers[:-4]:                     # everything before block5_conv1
                layer.trainable = False
            model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9),
                          loss=model.loss, metrics=["accuracy"])
            return model
        '''))
    report = check_file("ex05", path, hidden=True)
    assert report.score == report.max_score, [r.output for r in report.results if not r.passed]


@pytest.mark.slow
def test_imagenet_weights_offline_say_where_to_put_the_file(tmp_path):
    script = textwrap.dedent('''
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network disabled for this test")

        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        from autograder.reference import load_reference

        reference = load_reference("ex05_vgg16_finetune")
        try:
            reference.build_vgg16_classifier(3, input_shape=(32, 32, 3), weights="imagenet")
        except RuntimeError as error:
            print("MESSAGE:", error)
        ''')
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras-home"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    assert "MESSAGE:" in out.stdout, out.stdout + out.stderr
    message = out.stdout.split("MESSAGE:", 1)[1]
    target = tmp_path / "keras-home" / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert str(target) in message
    assert "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/" in message
    assert "~/.keras/models/" in message and "weights=None" in message
    assert "Received: weights='imagenet'" in message
    assert not target.exists()


def test_points_are_the_published_ones():
    """Students and gradebooks see these totals: a change to them is a decision, not an accident."""
    assert (EXERCISE.max_score(hidden=False), EXERCISE.max_score() - EXERCISE.max_score(hidden=False)) == (12, 2)
