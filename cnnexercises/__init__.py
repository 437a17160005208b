"""What a student imports in a notebook: data, plots, and the device/seed setup.

    from cnnexercises import datasets, plotting, distribute

    (x_train, y_train), (x_test, y_test) = datasets.load_shapes()
    strategy = distribute.setup(seed=0)

The submodules are imported on first use, so `import cnnexercises` stays light and
`cnnexercises.datasets` never imports TensorFlow or Keras. Importing the package keeps
TensorFlow's log lines away (`cnnexercises.quiet`).
"""

import importlib

from cnnexercises.quiet import silence_tensorflow

silence_tensorflow()

__version__ = "0.1.0"
__all__ = ["datasets", "distribute", "plotting", "shapes", "errors", "jupyter", "quiet"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
