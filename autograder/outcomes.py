"""What a check ends with: statuses, the verdict a check raises, and the result it records.

Glossary of statuses (Gradescope's `status` is "passed"/"failed"; ours adds why):
    passed, failed, NOT_IMPLEMENTED, ERROR, POLICY, TIMEOUT, MEMORY, CRASHED

A check fails by raising `CheckFailed`; whatever runs the student's code reports the
student's own exception as `StudentError`, an argument the code modified as
`ArgumentModified`, and a child that died, timed out or ran out of memory as `Unavailable`.
"""

from __future__ import annotations

import dataclasses

PASSED = "passed"
FAILED = "failed"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
ERROR = "ERROR"
POLICY = "POLICY"
TIMEOUT = "TIMEOUT"
MEMORY = "MEMORY"
CRASHED = "CRASHED"


class CheckFailed(Exception):
    """A check's verdict against the student, in three parts.

    Args:
        what: what was checked, e.g. "conv2d(strides=2, padding='same') on images (2, 7, 6, 3)".
        detail: expected vs got.
        hint: how to fix it (may be empty); a `Diagnosis` when it names a known mistake.
        status: one of the statuses above; `failed` unless the student code
            is missing, raised, or broke a policy.
    """

    def __init__(self, what: str, detail: str = "", hint: str = "", status: str = FAILED):
        super().__init__(what)
        self.what = what
        self.detail = detail
        self.hint = hint
        self.status = status

    def mistake(self, function: str) -> str:
        """The id of the known mistake the hint names ("" when none), as seen from a check of `function`."""
        if not isinstance(self.hint, Diagnosis):
            return ""
        return self.hint.mistake if self.hint.function == function else f"{self.hint.function}.{self.hint.mistake}"

    def message(self) -> str:
        lines = [self.what]
        if self.detail:
            lines += ["  " + line for line in self.detail.splitlines()]
        if self.hint:
            lines.append("  Hint: " + self.hint)
        return "\n".join(lines)


class Diagnosis(str):
    """A hint that names a known mistake: the text students see, plus the mutant it comes from.

    It is a `str`, so checks pass it on as any hint; `CheckFailed.mistake` reads the id
    back for the instructors' reports. Text added to it makes a plain `str` (no diagnosis).
    """

    function: str
    mistake: str

    def __new__(cls, hint: str, function: str, mistake: str):
        text = super().__new__(cls, hint)
        text.function, text.mistake = function, mistake
        return text


# Mistakes the engine itself recognises in any function: id -> hint.
MODIFIES_INPUT = "modifies_input"
GENERIC_MISTAKES = {
    MODIFIES_INPUT: "Work on a copy (`x = x.copy()`, `np.pad`, or build a new array) instead of writing into the input.",
}


class StudentError(Exception):
    """Raised by a student proxy when the student's function raised.

    Carries only plain text, so it can cross a process boundary.
    """

    def __init__(self, function: str, exc_type: str, exc_message: str, where: str = ""):
        super().__init__(f"{exc_type}: {exc_message}")
        self.function = function
        self.exc_type = exc_type
        self.exc_message = exc_message
        self.where = where


class ArgumentModified(Exception):
    """Raised by an isolated proxy when the child saw the student's function modify an argument."""

    def __init__(self, function: str, argument: str):
        super().__init__(f"{function} modified {argument}")
        self.function = function
        self.argument = argument


class Unavailable(Exception):
    """Raised by an isolated proxy when the child died, timed out or ran out of memory."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclasses.dataclass
class Result:
    """The outcome of one check (one row of Gradescope's `tests[]`)."""

    name: str
    function: str
    score: float
    max_score: float
    status: str
    output: str
    hidden: bool = False
    seconds: float = 0.0
    artifacts: dict = dataclasses.field(default_factory=dict)
    mistake: str = ""  # the id of the known mistake the check recognised ("" when none)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    def to_gradescope(self) -> dict:
        return {
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "status": PASSED if self.passed else FAILED,
            "output": self.output,
            "visibility": "after_published" if self.hidden else "visible",
            "tags": [self.function, self.status],
            "mistake": self.mistake or None,
        }
