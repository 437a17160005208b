"""What every NumPy exercise must satisfy: totals, stubs, check names, docstring examples."""

from __future__ import annotations

import doctest
import inspect

import pytest
from helpers_exercises import assignment_path, solution_path

from autograder import exercises
from autograder.checks import NOT_IMPLEMENTED
from autograder.reference import load_reference
from autograder.runner import check_file

# Every exercise whose reference answers are recorded (the NumPy ones), from the registry:
# a new one is covered without a list to edit.
NUMPY_EXERCISES = exercises.recorded()


@pytest.mark.parametrize("name", NUMPY_EXERCISES)
def test_solution_scores_full_marks_public_and_hidden(name):
    ex = exercises.get(name)
    report = check_file(ex, solution_path(name), hidden=True)
    assert [r.name for r in report.results if not r.passed] == []
    public, hidden = ex.max_score(hidden=False), ex.max_score() - ex.max_score(hidden=False)
    assert public > 0 and hidden > 0
    assert report.score == report.max_score == public + hidden


@pytest.mark.parametrize("suffix", [".ipynb", ".py"])
@pytest.mark.parametrize("name", NUMPY_EXERCISES)
def test_stub_scores_zero_with_not_implemented_message(name, suffix):
    ex = exercises.get(name)
    report = check_file(ex, assignment_path(name, suffix), hidden=True)
    assert report.problems == []
    assert report.score == 0
    assert {r.status for r in report.results} == {NOT_IMPLEMENTED}
    assert {r.function for r in report.results} == set(ex.functions)
    for r in report.results:
        assert r.output.startswith(f"`{r.function}` is not implemented yet")


@pytest.mark.parametrize("name", NUMPY_EXERCISES)
def test_check_names_begin_with_their_function_and_some_are_hidden(name):
    ex = exercises.get(name)
    for function in ex.functions:
        checks = ex.checks_for([function])
        assert checks and all(c.name.startswith(f"{function}: ") for c in checks)
        assert ex.mutants.get(function), f"{function} has no known mistakes to diagnose"
    assert any(c.hidden for c in ex.checks) and any(not c.hidden for c in ex.checks)


@pytest.mark.parametrize("name", NUMPY_EXERCISES)
def test_docstring_examples_of_the_reference_hold(name):
    ref = load_reference(name)
    functions = [v for v in vars(ref.namespace).values() if inspect.isfunction(v) and v.__doc__]
    attempted = 0
    for fn in functions:
        runner = doctest.DocTestRunner()
        for test in doctest.DocTestFinder().find(fn, fn.__name__, globs=dict(vars(ref.namespace))):
            runner.run(test)
        assert runner.summarize(verbose=False).failed == 0, fn.__name__
        attempted += runner.summarize(verbose=False).attempted
    assert attempted >= len(exercises.get(name).functions)
