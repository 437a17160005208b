"""The check engine: verdicts, statuses and what hidden checks may say."""

from __future__ import annotations

import types

import numpy as np
import pytest

from autograder.checks import (
    CRASHED,
    ERROR,
    GENERIC_MISTAKES,
    MODIFIES_INPUT,
    PASSED,
    CheckFailed,
    Exercise,
    Unavailable,
    compare_arrays,
    mistake_hint,
    run_checks,
)


def exercise_with(body, hidden):
    ex = Exercise("ex99_demo", "demo", ["f"])
    ex.check("f: the only check", points=2, hidden=hidden)(body)
    return ex


def student(f):
    return types.SimpleNamespace(f=f, problems=[])


@pytest.mark.parametrize("hidden", [False, True])
def test_a_dead_child_message_is_shown_only_for_public_checks(hidden):
    def body(ctx):
        raise Unavailable(CRASHED, "the child said: kernel=[[0.123, 0.456]]")

    (result,) = run_checks(exercise_with(body, hidden), student(None), None, hidden=True)
    assert result.status == CRASHED and result.score == 0
    assert ("0.123" in result.output) is (not hidden)


@pytest.mark.parametrize("hidden", [False, True])
def test_a_grader_bug_is_an_error_without_a_traceback(hidden):
    def body(ctx):
        raise KeyError("secret-fixture-value")

    (result,) = run_checks(exercise_with(body, hidden), student(None), None, hidden=True)
    assert result.status == ERROR and "could not run this check" in result.output
    assert ("secret-fixture-value" in result.output) is (not hidden)
    assert "Traceback" not in result.output


def test_hidden_failures_show_the_hint_but_not_the_inputs():
    def body(ctx):
        raise CheckFailed("f(images (2, 7, 6, 3))", "got 1, expected 2", "mind the stride")

    (result,) = run_checks(exercise_with(body, True), student(None), None, hidden=True)
    assert "mind the stride" in result.output
    assert "images (2, 7, 6, 3)" not in result.output and "expected 2" not in result.output


def test_sys_exit_in_student_code_is_an_error_not_an_exit():
    def body(ctx):
        ctx.call("f", 1)

    def f(x):
        raise SystemExit(0)

    (result,) = run_checks(exercise_with(body, False), student(f), None)
    assert result.status == ERROR and "called exit(0)" in result.output


def test_a_passing_check_may_say_what_it_measured():
    def body(ctx):
        return "accuracy 0.97"

    (result,) = run_checks(exercise_with(body, False), student(None), None)
    assert result.status == PASSED and result.score == 2 and result.output == "accuracy 0.97"


def test_check_names_must_begin_with_a_function_and_be_unique():
    ex = Exercise("ex99_demo", "demo", ["f"])
    with pytest.raises(ValueError, match="must begin with the function it checks"):
        ex.check("g: nope")
    ex.check("f: once")(lambda ctx: None)
    with pytest.raises(ValueError, match="Duplicate check name"):
        ex.check("f: once")


@pytest.mark.parametrize(
    "got, message",
    [
        (np.zeros((2, 3)), "shape: expected (batch=2, width=4), got (batch=2, width=3)"),
        ("not an array", "expected an ndarray of shape (batch=2, width=4), got str"),
        (np.array([[0, 0, 0, 0], [0, 0, 5, 0]], dtype=object), "got ndarray"),
        (np.full((2, 4), np.nan), "8 of 8 values differ"),
    ],
)
def test_comparisons_explain_the_difference(got, message):
    assert message in compare_arrays(got, np.zeros((2, 4)), axes=("batch", "width"))


def test_an_object_that_equals_everything_is_not_an_array():
    class Liar:
        def __eq__(self, other):
            return True

        def __array__(self, dtype=None, copy=None):
            return np.zeros((2, 4))

    assert compare_arrays(Liar(), np.zeros((2, 4))) is not None


# --------------------------------------------------------------------------- the mistake a check names


def exercise_with_mutants():
    """`double(x) = 2x` with two known mistakes of `double` and one check of another function."""
    ex = Exercise("ex99_demo", "demo", ["double", "quadruple"])
    ex.mutant("double", "you added instead of multiplying.", name="plus_two")(lambda x: x + 2)
    ex.mutant("double", "you squared.", name="squared")(lambda x: x**2)
    ex.check("double: a value", hidden=False)(lambda ctx: ctx.compare("double", np.arange(3.0) + 3))
    ex.check("double: hidden value", hidden=True)(lambda ctx: ctx.compare("double", np.arange(4.0) + 5))

    @ex.check("quadruple: twice double")
    def _(ctx):
        got = ctx.call("quadruple", 3.0)
        if got != 12.0:
            raise CheckFailed("quadruple(3.0)", f"got {got}", ctx.diagnose("double", got / 2, (3.0,), {}))

    return ex


def reference():
    return types.SimpleNamespace(double=lambda x: 2 * x, quadruple=lambda x: 4 * x)


@pytest.mark.parametrize(
    "double, expected",
    [(lambda x: x + 2, "plus_two"), (lambda x: x**2, "squared"), (lambda x: 3 * x, ""), (lambda x: 2 * x, "")],
)
def test_each_result_carries_the_id_of_the_mistake_it_matched_hidden_checks_too(double, expected):
    ex = exercise_with_mutants()
    results = run_checks(ex, types.SimpleNamespace(double=double, quadruple=lambda x: 4 * x), reference(),
                         hidden=True, functions=["double"])
    assert [(r.hidden, r.mistake) for r in results] == [(False, expected), (True, expected)]
    assert [r.to_gradescope()["mistake"] for r in results] == [expected or None] * 2
    hints = {"plus_two": "you added instead of multiplying.", "squared": "you squared.", "": ""}
    assert {mistake_hint(ex, r.function, r.mistake) for r in results} == {hints[expected]}


def test_a_mistake_of_another_function_is_qualified_with_its_function():
    ex = exercise_with_mutants()
    student = types.SimpleNamespace(double=lambda x: 2 * x, quadruple=lambda x: 2 * (x + 2))
    (result,) = run_checks(ex, student, reference(), hidden=True, functions=["quadruple"])
    assert result.mistake == "double.plus_two"
    assert mistake_hint(ex, "quadruple", result.mistake) == "you added instead of multiplying."


def test_a_hint_extended_with_more_text_names_no_mistake():
    ex = Exercise("ex99_demo", "demo", ["f"])
    ex.mutant("f", "you squared.", name="squared")(lambda x: x**2)

    @ex.check("f: a value")
    def _(ctx):
        raise CheckFailed("f(3)", "got 9", ex.mutants["f"][0].diagnosis + " (and more)")

    (result,) = run_checks(ex, student(lambda x: x**2), None)
    assert result.status == "failed" and result.mistake == ""


def test_modifying_an_input_is_a_mistake_the_engine_names_in_every_exercise():
    def body(ctx):
        ctx.call("f", np.zeros(3))

    def f(x):
        x[0] = 1.0
        return x

    (result,) = run_checks(exercise_with(body, hidden=False), student(f), None)
    assert result.mistake == MODIFIES_INPUT and "Work on a copy" in result.output
    assert mistake_hint(exercise_with(body, hidden=False), "f", result.mistake) == GENERIC_MISTAKES[MODIFIES_INPUT]
