"""Showing things in Jupyter exactly once, and nothing outside it.

A Jupyter front end (JupyterLab, Notebook, VS Code, Colab) runs an IPython kernel. Objects
here show themselves as soon as they are made, so a plot or a feedback table appears
even when it is not the last expression of its cell; when the same object is then the
cell's value, it is not shown a second time. Outside a kernel nothing here imports IPython.
"""

from __future__ import annotations

import sys


def kernel_shell():
    """The IPython shell of a running Jupyter kernel, or None (scripts, pytest, terminal IPython)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell if getattr(shell, "kernel", None) is not None else None


class ShownOnce:
    """Mixin: `_ipython_display_` publishes `_mimebundle()` at most once per executed cell."""

    _shown_in_cell = None  # execution count of the cell that displayed it

    def _mimebundle(self) -> dict:
        raise NotImplementedError

    def _ipython_display_(self):
        from IPython.display import display

        shell = kernel_shell()
        cell = shell.execution_count if shell is not None else None
        if cell is not None and cell == self._shown_in_cell:
            return  # this cell has shown it already
        self._shown_in_cell = cell
        display(self._mimebundle(), raw=True)

    def present(self):
        """Show now when running in a Jupyter kernel; return self either way."""
        if kernel_shell() is not None:
            self._ipython_display_()
        return self
