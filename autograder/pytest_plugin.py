"""pytest collects student files as exercises: `pytest assignments/ex01_convolution.ipynb`.

A file whose name starts with an exercise's prefix (`ex01_convolution.py`,
`ex01.ipynb`, `ex02_pooling_alice.py`) becomes one item per public check; the run
ends with a score line per exercise (`ex01_convolution: 7/12 points`). Collecting
runs no student code: each check runs in its own item, the file is loaded once, by
the first item that runs.
Importing this plugin is cheap: no NumPy, no TensorFlow until a student file is collected.
"""

from __future__ import annotations

from pathlib import Path

import pytest

_SUFFIXES = (".py", ".ipynb")
_SCORES_KEY = pytest.StashKey[dict]()


def _exercise_for(path: Path) -> str | None:
    if path.suffix not in _SUFFIXES or path.name.startswith(("test_", "conftest")):
        return None
    from autograder import exercises

    return exercises.for_filename(path.name)


def pytest_configure(config):
    config.stash[_SCORES_KEY] = {}


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix == ".ipynb" and _exercise_for(file_path):
        return StudentFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent):
    # A `.py` student file is graded, never imported as a test module.
    if _exercise_for(module_path):
        return StudentFile.from_parent(parent, path=module_path)
    return None


class StudentFile(pytest.File):
    """A student's file: one item per public check; the file is loaded by the first check that runs.

    Collecting runs no student code, so `--collect-only`, `-k`, `-x`, `--lf` and
    `--durations` mean what they mean for any test suite.
    """

    def collect(self):
        from autograder import exercises
        from autograder.pipeline import Checking, open_file

        self.exercise = exercises.get(_exercise_for(self.path))
        self.checking = Checking(self.exercise, lambda: open_file(self.exercise, self.path))
        for check in self.exercise.checks_for(None, hidden=False):
            yield CheckItem.from_parent(self, name=check.name, check=check)

    def run(self, check):
        """The `Result` of one check on this file (the file is opened by the first check that runs)."""
        result = self.checking.result(check)
        unreadable = self.checking.opened.unreadable
        if unreadable is not None:  # the whole file: said in full once, then referred to
            if getattr(self, "_told", False):
                result.output = f"{self.path.name} could not be read (see the first failure)"
            self._told = True
        return result


class CheckFailure(Exception):
    """A failed check; shown as its message, never as a traceback."""


class CheckItem(pytest.Item):
    def __init__(self, *, check, **kwargs):
        super().__init__(**kwargs)
        self.check = check
        self.result = None

    def runtest(self):
        self.result = self.parent.run(self.check)
        scores = self.config.stash[_SCORES_KEY]
        key = f"{self.parent.exercise.name} ({self.path.name})"
        score, done, total = scores.get(key, (0.0, 0, len(self.parent.exercise.checks_for(None, hidden=False))))
        scores[key] = (score + self.result.score, done + 1, total)
        if not self.result.passed:
            raise CheckFailure(self.result.output)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, CheckFailure):
            status = self.result.status
            tag = "" if status == "failed" else f"[{status}] "
            return f"{tag}{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, self.name


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    scores = config.stash.get(_SCORES_KEY, {})
    if not scores:
        return
    terminalreporter.section("cnnexercises score")
    from autograder import exercises

    for key, (score, done, checks) in scores.items():
        name = key.split(" ", 1)[0]
        if done == checks:
            total = exercises.get(name).max_score(hidden=False)
            terminalreporter.write_line(f"{name}: {score:g}/{total:g} points  {key[len(name) + 1:]}")
        else:  # -k, -x, --lf: the points of the checks that ran
            terminalreporter.write_line(
                f"{name}: {score:g} points from {done} of {checks} checks (run them all for the score)  "
                f"{key[len(name) + 1:]}"
            )
