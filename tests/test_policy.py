"""The NumPy-only policy is decided from the source, including helpers and aliases."""

from __future__ import annotations

import ast

import pytest

from autograder.policy import policy_failures, violations


def trees(source: str):
    return [("file", ast.parse(source))]


@pytest.mark.parametrize(
    "source, found",
    [
        ("import tensorflow as tf\ndef conv2d(x):\n    return tf.nn.conv2d(x)", "tensorflow (as `tf`)"),
        ("from scipy import signal\ndef conv2d(x):\n    return signal.correlate(x)", "scipy.signal (as `signal`)"),
        ("def conv2d(x):\n    import torch\n    return torch.tensor(x)", "torch"),
        ("import keras\ndef helper(x):\n    return keras.layers.Conv2D(1, 1)(x)\ndef conv2d(x):\n    return helper(x)", "keras (as `keras`)"),
        ("def conv2d(x):\n    return __import__('scipy').signal(x)", "`__import__` (dynamic imports and eval)"),
        ("from solutions.ex01_convolution import conv2d as ref\ndef conv2d(x):\n    return ref(x)", "solutions.ex01_convolution.conv2d (as `ref`)"),
    ],
)
def test_forbidden_libraries_are_found(source, found):
    assert found in violations(trees(source), "conv2d", numpy_only=True)


def test_numpy_and_own_helpers_are_fine():
    source = (
        "import numpy as np\nimport scipy\n"
        "def pad(x):\n    return np.pad(x, 1)\n"
        "def conv2d(x):\n    return pad(x).sum()\n"
        "def unrelated():\n    return scipy.signal\n"
    )
    assert violations(trees(source), "conv2d", numpy_only=True) == []


def test_the_grader_is_forbidden_even_where_libraries_are_allowed():
    source = "from autograder import reference\ndef build_cnn():\n    return reference\n"
    failures = policy_failures(trees(source), ["build_cnn"], numpy_only=[])
    assert "may not use the grader" in failures["build_cnn"]
    assert violations(trees("import keras\ndef build_cnn():\n    return keras.Sequential()"), "build_cnn", False) == []


def test_policy_message_says_what_and_why():
    failures = policy_failures(
        trees("import tensorflow as tf\ndef conv2d(x):\n    return tf.nn.conv2d(x)"), ["conv2d"], ["conv2d"]
    )
    assert failures["conv2d"].startswith("`conv2d` uses tensorflow (as `tf`): not allowed here.")
    assert "NumPy only" in failures["conv2d"]


def test_a_local_variable_named_like_an_import_is_not_that_import():
    source = (
        "import numpy as np\nfrom skimage import data\n"
        "def zero_pad(images, padding):\n    data = np.pad(images, padding)\n    return data\n"
        "def conv2d(x, signal=None):\n    for data in x:\n        pass\n    return [data for data in x]\n"
    )
    assert violations(trees(source), "zero_pad", numpy_only=True) == []
    assert violations(trees(source), "conv2d", numpy_only=True) == []
    shadow_then_global = "from skimage import data\ndef f():\n    global data\n    return data\n"
    assert violations(trees(shadow_then_global), "f", numpy_only=True) == ["skimage.data (as `data`)"]


@pytest.mark.parametrize(
    "body",
    [
        "import builtins\n    return builtins.__import__('scipy.signal')",
        "return np.__builtins__['__import__']('scipy')",
        "return (lambda: 0).__globals__['sp']",
        "import inspect\n    return inspect.currentframe().f_back.f_globals['tf']",
        "return ().__class__.__base__.__subclasses__()",
    ],
)
def test_escape_hatches_are_flagged(body):
    source = f"import numpy as np\ndef conv2d(x):\n    {body}\n"
    assert violations(trees(source), "conv2d", numpy_only=True) != []


def test_star_imports_of_forbidden_libraries_are_found_but_numpy_star_is_fine():
    bad = "from scipy.signal import *\nimport numpy as np\ndef conv2d(x, k):\n    return correlate(x, k)\n"
    assert violations(trees(bad), "conv2d", numpy_only=True) == ["`correlate` from `from scipy.signal import *`"]
    fine = "from numpy import *\ndef conv2d(x, k):\n    return zeros(3) + len(x)\n"
    assert violations(trees(fine), "conv2d", numpy_only=True) == []


@pytest.mark.parametrize(
    "source",
    [
        # a class body that no contract function names hands NumPy SciPy's correlation at load time
        "import numpy as np\nimport scipy.signal\nclass Setup:\n    np.correlate = scipy.signal.correlate\n"
        "def conv2d(x):\n    return np.correlate(x, x)",
        # the same through setattr in a decorator's argument
        "import numpy as np\nimport scipy.signal as s\ndef keep(f):\n    return f\n"
        "@keep\nclass Setup:\n    setattr(np, 'correlate', s.correlate)\ndef conv2d(x):\n    return np.correlate(x, x)",
        # a forbidden import inside a class body
        "import numpy as np\nclass Setup:\n    import tensorflow\ndef conv2d(x):\n    return np.sum(x)",
    ],
)
def test_code_that_runs_when_the_file_is_loaded_counts_for_every_function(source):
    assert violations(trees(source), "conv2d", numpy_only=True)


def test_a_function_reached_through_a_module_level_table_is_read():
    source = ("import inspect\ndef _trick():\n    return inspect.currentframe()\n"
              "TRICKS = {'t': _trick}\ndef conv2d(x):\n    return TRICKS['t']()\n")
    assert "`inspect` (dynamic imports and eval)" in violations(trees(source), "conv2d", numpy_only=True)
    assert violations(trees(source), "zero_pad", numpy_only=True) == []


def test_inheriting_from_a_library_class_in_another_function_is_not_a_violation():
    source = ("import numpy as np\nimport keras\nclass Block(keras.layers.Layer):\n    units = 3\n"
              "def vgg16_preprocess(x):\n    return np.asarray(x)[..., ::-1]\n")
    assert violations(trees(source), "vgg16_preprocess", numpy_only=True) == []
