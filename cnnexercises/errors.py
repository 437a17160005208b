"""Exceptions `cnnexercises` raises at its public boundary."""


class DatasetUnavailable(RuntimeError):
    """A dataset could not be loaded (usually: it needs a download and there is no network).

    The message says what failed, where to place the file by hand, and which offline
    dataset to use instead.
    """


class DeviceConfigError(RuntimeError):
    """Devices were configured too late (the backend had already initialised them)."""
