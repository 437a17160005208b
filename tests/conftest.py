"""Project test configuration: slow tests run only with `--run-slow` (CI passes it).

Tests that need an optional package say so with `@pytest.mark.requires("jax")` (or
`pytestmark` for a whole module); after a plain `pip install -e .` they are skipped with
the extra to install, e.g. "needs jax: pip install -e '.[jax]'".
"""

from __future__ import annotations

import importlib.util
import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_addoption(parser):
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="also run tests marked slow (Keras training, nbgrader, many processes)",
    )


# optional package -> the extra of pyproject.toml that installs it
EXTRAS = {
    "nbgrader": "nbgrader",
    "jax": "jax",
    "nbclient": "dev",
    "playwright": "dev",
}


def missing_reason(module: str) -> str | None:
    """Why a test that needs `module` cannot run here, or None when it is installed."""
    if importlib.util.find_spec(module) is not None:
        return None
    return f"needs {module}: pip install -e '.[{EXTRAS.get(module, 'dev')}]'"


def pytest_collection_modifyitems(config, items):
    for item in items:
        for marker in item.iter_markers("requires"):
            for module in marker.args:
                reason = missing_reason(module)
                if reason:
                    item.add_marker(pytest.mark.skip(reason=reason))
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
