"""pytest collects student files as exercises: `pytest assignments/ex01_convolution.ipynb`.

A file whose name starts with an exercise's prefix (`ex01_convolution.py`,
`ex01.ipynb`, `ex02_pooling_alice.py`) becomes one item per public check; the run
ends with a score line per exercise (`ex01_convolution: 7/12 points`).
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
    """A student's file: loads it once, yields one item per public check."""

    def collect(self):
        from autograder import exercises
        from autograder.runner import check_file

        exercise = exercises.get(_exercise_for(self.path))
        report = check_file(exercise, self.path)
        scores = self.config.stash[_SCORES_KEY]
        key = f"{exercise.name} ({self.path.name})"
        scores[key] = (report.score, report.max_score)
        for result in report.results:
            yield CheckItem.from_parent(self, name=result.name, result=result)


class CheckFailure(Exception):
    """A failed check; shown as its message, never as a traceback."""


class CheckItem(pytest.Item):
    def __init__(self, *, result, **kwargs):
        super().__init__(**kwargs)
        self.result = result

    def runtest(self):
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
    for key, (score, total) in scores.items():
        name = key.split(" ", 1)[0]
        terminalreporter.write_line(f"{name}: {score:g}/{total:g} points  {key[len(name) + 1:]}")
