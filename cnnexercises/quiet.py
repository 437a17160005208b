"""Keep TensorFlow's and absl's log lines away from students.

TensorFlow prints C++ log lines to the process's stderr (`I0000 ... cpu_feature_guard`,
`E0000 ... use_unbounded_threadpool`, `WARNING: All log messages before
absl::InitializeLog() ...`) and Python warnings through the `tensorflow` and `absl`
loggers (`tf.function retracing`). None of them is feedback. `silence_tensorflow()` runs
when `cnnexercises` or `autograder` is imported:

- before TensorFlow is loaded, `TF_CPP_MIN_LOG_LEVEL=3` (unless set) keeps the C++ lines
  from being written at all (TensorFlow reads it once, at its first log line);
- the `tensorflow` and `absl` loggers only pass errors;
- inside a Jupyter kernel, where C++ output reaches the cell as red stderr, the kernel's
  stderr drops lines in TensorFlow's C++ log format, for a TensorFlow that was imported
  before this package.

The kernel registered by `cnnex kernel install` sets the variable before anything runs.
"""

from __future__ import annotations

import logging
import os
import re
import sys

# "I0000 00:00:1795.42 6930 cpu_feature_guard.cc:227] ...", its continuation line, and absl's preamble
TF_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.\-/]+:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags)"
)


def silence_tensorflow() -> None:
    """Quiet TensorFlow's C++ and Python logs, whatever has been imported already."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for name in ("tensorflow", "absl"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if "tensorflow" in sys.modules:  # too late for the variable: filter what reaches the cell
        filter_kernel_stderr()


class _Filtered:
    """Wraps a kernel stream's `write`: whole TensorFlow log lines are dropped, the rest passes."""

    pending = ""  # the start of a line that may be a TensorFlow log line (one per stream)

    def __init__(self, write):
        self.write = write

    def __call__(self, text: str):
        text = _Filtered.pending + text
        _Filtered.pending = ""
        kept = []
        for line in text.splitlines(keepends=True):
            if not line.endswith("\n") and _could_be_log_line(line):
                _Filtered.pending = line  # wait for the rest of it
            elif not TF_LOG_LINE.match(line):
                kept.append(line)
        return self.write("".join(kept)) if kept else len(text)


def _could_be_log_line(start: str) -> bool:
    return bool(re.match(r"^(?:[IWEF]\d{0,4}(?: |$)|WARNING: All|To enable the following)", start)) or (
        "WARNING: All log messages before absl"[: len(start)] == start
    )


def _unwrapped(write):
    return write.write if isinstance(write, _Filtered) else write


def filter_kernel_stderr() -> None:
    """In a Jupyter kernel, drop TensorFlow's C++ log lines from what reaches the cells.

    The kernel's stderr stream is given a subclass whose `write` is a property: whatever
    is assigned to it (IPython swaps in a recording `write` for each cell and restores the
    old one afterwards) is kept behind the filter, so the filter stays in place.
    """
    from cnnexercises.jupyter import kernel_shell

    stream = sys.stderr
    if kernel_shell() is None or getattr(type(stream), "filters_tensorflow_logs", False):
        return
    inner = stream.__dict__.pop("write", None)

    class FilteredStream(type(stream)):
        filters_tensorflow_logs = True

        @property
        def write(self):
            return _Filtered(self.__dict__.get("_unfiltered_write") or super().write)

        @write.setter
        def write(self, value):
            self.__dict__["_unfiltered_write"] = _unwrapped(value)

    stream.__class__ = FilteredStream
    if inner is not None:
        stream.write = inner
