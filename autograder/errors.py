"""Exceptions the autograder raises at its public boundary."""


class GraderError(Exception):
    """Base class: an error the user can fix (bad path, unknown exercise...)."""


class LoadError(GraderError):
    """A student file could not be read at all (missing, empty, binary, corrupt notebook)."""


class UnknownExercise(GraderError):
    """The name does not match any exercise."""
