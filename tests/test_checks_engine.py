"""The engine's services to exercises: exact comparison, the per-student memo, the student contract."""

from __future__ import annotations

import types

import numpy as np
import pytest

from autograder.checks import ERROR, PASSED, Exercise, InProcess, Student, matches, run_check, run_checks
from autograder.loading import load
from autograder.student import as_student, modified_argument, snapshot


def counting_exercise():
    """`size(n, s) = n // s`, its known mistakes, and one exact check over several calls."""
    ex = Exercise("ex99_demo", "demo", ["size"])
    ex.mutant("size", "you used `/`.", name="true_division")(lambda n, s: n / s)
    ex.mutant("size", "you forgot the stride.", name="no_stride")(lambda n, s: n)
    ex.mutant("size", "you added one.", name="plus_one")(lambda n, s: n // s + 1)

    @ex.check("size: several sizes")
    def _(ctx):
        ctx.exact_each("size", [((8, 2), {}), ((9, 3), {}), ((7, 2), {})], int_hint="return an int.")

    return ex


def reference():
    return types.SimpleNamespace(size=lambda n, s: n // s)


def result_of(ex, size):
    (result,) = run_checks(ex, types.SimpleNamespace(size=size), reference(), hidden=True)
    return result


@pytest.mark.parametrize(
    "size, mistake",
    [(lambda n, s: n / s, "true_division"), (lambda n, s: n, "no_stride"), (lambda n, s: n // s + 1, "plus_one")],
)
def test_an_exact_mismatch_is_named_by_the_mutant_that_reproduces_every_answer(size, mistake):
    result = result_of(counting_exercise(), size)
    assert result.status == "failed" and result.mistake == mistake


def test_a_mutant_that_agrees_only_on_the_failing_call_is_not_blamed():
    # wrong only for (7, 2) -> 4, where `plus_one` also gives 4; on (8, 2) plus_one gives 5, the student 4
    result = result_of(counting_exercise(), lambda n, s: -(-n // s))
    assert result.status == "failed" and result.mistake == ""
    assert "size(7, 2)\n  expected 3, got 4" in result.output


def test_an_equal_float_fails_an_exact_check_with_the_int_hint_unless_a_mutant_explains_it():
    ex = counting_exercise()
    result = result_of(ex, lambda n, s: float(n // s))  # floats, but not those of `/`
    assert result.status == "failed" and result.mistake == ""
    assert "expected an int, got float 4.0" in result.output and "Hint: return an int." in result.output
    assert result_of(ex, lambda n, s: n // s).status == PASSED


@pytest.mark.parametrize(
    "answer, detail, hint",
    [
        ([2, 3], "expected the tuple (2, 3), got a list", "return a tuple"),
        ((2.0, 3), "expected a tuple of ints, got ('float', 'int')", "sizes are ints"),
        ((np.int64(2), 3), None, None),
        ((True, 3), "expected (2, 3), got (True, 3)", ""),
        (None, "expected (2, 3), got NoneType None", ""),
        (np.array([2, 3]), "expected (2, 3), got ndarray", ""),
    ],
)
def test_an_exact_shape_must_be_a_tuple_of_ints(answer, detail, hint):
    ex = Exercise("ex99_demo", "demo", ["shape"])
    ex.check("shape: a shape")(lambda ctx: ctx.exact("shape", 4, expected=(2, 3)))
    (result,) = run_checks(ex, types.SimpleNamespace(shape=lambda n: answer), None)
    if detail is None:
        assert result.status == PASSED
    else:
        assert result.status == "failed" and detail in result.output
        assert (f"Hint: {hint}" in result.output) if hint else "Hint" not in result.output


# --------------------------------------------------------------------------- memo


def memo_exercise(runs):
    ex = Exercise("ex99_demo", "demo", ["f"])

    def expensive(ctx):
        runs.append(ctx.check.name)
        return ctx.call("f", 2)

    for name in ("f: first", "f: second"):
        ex.check(name)(lambda ctx: ctx.expect(ctx.memo("f(2)", lambda: expensive(ctx)) == 4, "f(2) == 4"))
    return ex


def test_the_memo_computes_once_per_student_across_checks_and_afresh_for_another_student(tmp_path):
    runs = []
    ex = memo_exercise(runs)
    results = run_checks(ex, types.SimpleNamespace(f=lambda x: 2 * x), None)
    assert [r.status for r in results] == [PASSED, PASSED] and runs == ["f: first"]
    run_checks(ex, types.SimpleNamespace(f=lambda x: 2 * x), None)
    assert runs == ["f: first", "f: first"]  # another student: its own memo


def test_the_memo_of_a_loaded_file_lasts_across_separate_runs_of_its_checks(tmp_path):
    runs = []
    ex = memo_exercise(runs)
    path = tmp_path / "ex99.py"
    path.write_text("def f(x):\n    return 2 * x\n")
    student = load(path)
    assert [run_check(ex, check, student, None).status for check in ex.checks] == [PASSED, PASSED]
    assert runs == ["f: first"]  # one test per check (pytest) still runs the expensive part once
    assert run_check(ex, ex.checks[0], load(path), None).status == PASSED
    assert len(runs) == 2  # the file loaded again: a new memo


def test_a_memo_whose_computation_failed_stores_nothing():
    runs = []
    ex = memo_exercise(runs)
    results = run_checks(ex, types.SimpleNamespace(f=lambda x: 1 / 0), None)
    assert [r.status for r in results] == [ERROR, ERROR] and runs == ["f: first", "f: second"]


# --------------------------------------------------------------------------- the student contract


class Recorder(Student):
    """A `Student` that records what the engine asks of it."""

    def __init__(self):
        self.problems, self.memo, self.log = [], {}, []

    def defines(self, function):
        return function == "f"

    def call(self, function, args, kwargs):
        self.log.append(("call", function, args))
        return 2 * args[0]

    def run_probe(self, name, params):
        self.log.append(("probe", name, params))
        return {"seen": name}

    def begin_check(self, check):
        self.log.append(("begin", check.name))


def test_the_engine_calls_the_student_only_through_the_contract_and_begins_each_check():
    ex = Exercise("ex99_demo", "demo", ["f"])
    ex.check("f: a call")(lambda ctx: ctx.expect(ctx.call("f", 3) == 6, "f(3) == 6"))
    ex.check("f: a probe", hidden=True)(lambda ctx: ctx.expect(ctx.run_probe("look", k=1) == {"seen": "look"}, "p"))
    student = Recorder()
    results = run_checks(ex, student, None, hidden=True)
    assert [r.status for r in results] == [PASSED, PASSED]
    assert student.log == [("begin", "f: a call"), ("call", "f", (3,)), ("begin", "f: a probe"),
                           ("probe", "look", {"k": 1})]


def test_a_submission_that_defines_the_contract_s_methods_is_still_only_a_namespace(tmp_path):
    path = tmp_path / "ex99.py"
    path.write_text(
        "def call(*args):\n    return 'forged'\n\n"
        "def begin_check(check):\n    raise SystemExit\n\n"
        "def defines(name):\n    return True\n\n"
        "def f(x):\n    return 2 * x\n"
    )
    ex = Exercise("ex99_demo", "demo", ["f", "g"])
    ex.check("f: a call")(lambda ctx: ctx.expect(ctx.call("f", 3) == 6, "f(3) == 6"))
    ex.check("g: missing")(lambda ctx: ctx.call("g", 1))
    student = load(path)
    assert isinstance(as_student(student, ex), InProcess)
    results = run_checks(ex, student, None)
    assert [r.status for r in results] == [PASSED, ERROR]
    assert "`g` is not defined in your file" in results[1].output


def test_the_modified_argument_is_named_by_its_parameter_or_its_position():
    def f(images, kernel, scale=1):
        kernel[0] = 9
        return images

    args, kwargs = (np.zeros(2), np.zeros(3)), {"scale": [1]}
    before = snapshot(list(args) + list(kwargs.values()))
    f(*args, **kwargs)
    assert modified_argument(f, args, kwargs, before) == "kernel"
    nameless = types.SimpleNamespace(__call__=None)  # no __code__: positions only
    assert modified_argument(nameless, args, kwargs, before) == "argument 2"
    assert modified_argument(f, args, kwargs, snapshot(list(args) + list(kwargs.values()))) is None


def test_a_mutant_that_raises_or_cannot_be_compared_names_nothing_and_the_next_one_is_tried():
    ex = Exercise("ex99_demo", "demo", ["pair_sum"])
    ex.mutant("pair_sum", "raises.", name="raises")(lambda x: 1 / 0)
    ex.mutant("pair_sum", "not a tuple.", name="scalar")(lambda x: 3.0)
    ex.mutant("pair_sum", "you added one.", name="plus_one")(lambda x: (x + 1, x + 1))

    @ex.check("pair_sum: parts")
    def _(ctx):
        got = ctx.call("pair_sum", 2)
        hint = ctx.diagnose("pair_sum", got[0], (2,), {}, same=lambda got, out: matches(got, out[0]))
        ctx.expect(got[0] == 2, "pair_sum(2)[0] == 2", hint=hint)

    (result,) = run_checks(ex, types.SimpleNamespace(pair_sum=lambda x: (x + 1, x)), None)
    assert result.status == "failed" and result.mistake == "plus_one"
