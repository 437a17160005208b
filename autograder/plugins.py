"""Exercises kept outside this repository: folders named by `CNNEX_EXERCISES`.

`CNNEX_EXERCISES` is a list of folders (separated like `PATH`), each holding exercises the
way this repository holds its own:

    FOLDER/solutions/ex09_toy.py      the reference, with nbgrader markers
    FOLDER/exercises/ex09_toy.py      its checks module (an `EXERCISE`)
    FOLDER/probes/ex09_toy.py         its probes, if it has any
    FOLDER/tests/test_ex09_toy.py     its tests
    FOLDER/assignments/, FOLDER/expected/    written by `cnnex release --solutions FOLDER/solutions`

Their checks modules join the package `autograder.exercises` (and their probes
`autograder.probes`), so every front end finds them through the registry
(`autograder.exercises.available()`) as it finds the exercises of this repository. An
exercise's other files are found from its checks module, so a folder's solutions, probes
and recordings belong to its own exercises only.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "CNNEX_EXERCISES"


def folders() -> list[Path]:
    """The folders `CNNEX_EXERCISES` names, resolved, in order (missing ones left out)."""
    found: list[Path] = []
    for entry in os.environ.get(ENV, "").split(os.pathsep):
        if entry.strip():
            folder = Path(entry).expanduser().resolve()
            if folder.is_dir() and folder not in found:
                found.append(folder)
    return found


def extend(package_path: list[str], own: str, part: str) -> None:
    """Set a package's `__path__` to its own folder, then `FOLDER/<part>` of each plug-in folder.

    Called whenever the registry is read, so a change of `CNNEX_EXERCISES` takes effect at once.
    """
    extra = [str(f / part) for f in folders() if (f / part).is_dir()]
    package_path[:] = [own] + [p for p in extra if p != own]


def folder_of(module_file: str | Path) -> Path | None:
    """The plug-in folder a checks or probes module comes from (None: this package's own)."""
    path = Path(module_file).resolve()
    for folder in folders():
        if path.parent.parent == folder:
            return folder
    return None
