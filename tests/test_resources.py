"""Each exercise declares what grading it costs (`autograder.resources`); the grader reads only that."""

from __future__ import annotations

import dataclasses
import os

import pytest

from autograder import exercises
from autograder.checks import Exercise
from autograder.grading import Options
from autograder.resources import BEHAVIOUR, KERAS, NUMPY, RECORDED, Resources


def test_numpy_and_keras_defaults_are_the_limits_grading_always_had():
    assert (NUMPY.timeout, NUMPY.memory_mb, NUMPY.max_processes, NUMPY.max_file_mb) == (10.0, 1024, 64, 64)
    assert NUMPY.default_jobs == (os.cpu_count() or 1) and NUMPY.preload == () and NUMPY.oracle == RECORDED
    assert (KERAS.timeout, KERAS.memory_mb, KERAS.max_processes, KERAS.max_file_mb) == (300.0, 4096, 512, 256)
    assert KERAS.default_jobs == 1 and KERAS.preload == ("keras",) and KERAS.oracle == BEHAVIOUR
    assert KERAS.quiet_tensorflow and not NUMPY.quiet_tensorflow


def test_every_exercise_declares_its_resources_and_only_keras_ones_preload_keras():
    for name in exercises.available():
        res = exercises.get(name).resources
        assert isinstance(res, Resources)
        assert ("keras" in res.preload) == res.quiet_tensorflow == (res.oracle == BEHAVIOUR), name
    assert exercises.recorded() == [n for n in exercises.available() if exercises.get(n).resources.oracle == RECORDED]
    assert "ex01_convolution" in exercises.recorded() and "ex04_keras_cnn" not in exercises.recorded()


def test_grading_options_default_to_the_exercises_resources_and_the_command_line_overrides_them():
    slow = Exercise("ex98_slow", "Slow", ["f"], resources=Resources(timeout=7, memory_mb=300, jobs=3, budget=20))
    resolved = Options().resolved(slow)
    assert (resolved.timeout, resolved.memory_mb, resolved.jobs, resolved.budget) == (7.0, 300, 3, 20.0)
    chosen = Options(timeout=2, memory_mb=100, jobs=1, budget=5).resolved(slow)
    assert (chosen.timeout, chosen.memory_mb, chosen.jobs, chosen.budget) == (2.0, 100, 1, 5.0)


@pytest.mark.parametrize(
    "field, value, match",
    [("timeout", 0, "`timeout` must be positive"), ("budget", -1, "`budget` must be positive"),
     ("jobs", 0, "`jobs` must be at least 1"), ("oracle", "magic", "`oracle` must be one of")],
)
def test_impossible_resources_are_refused_with_the_received_value(field, value, match):
    with pytest.raises(ValueError, match=match) as err:
        Resources(**{field: value})
    assert f"Received: {field}={value!r}" in str(err.value)


def test_resources_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        NUMPY.timeout = 1
