"""ex03: full marks for right code (several ways), zero for stubs, each known mistake named.

Each wrong variant is written the way a student would write it (a replaced or edited
function of the solution file), and must fail a check whose output carries its hint.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers_exercises import (
    check_student,
    failure_text,
    failures,
    function_source,
    hint_of,
    mutant_names,
    solution_path,
    student_file,
)

from autograder import exercises
from autograder.checks import PASSED, POLICY
from autograder.exercises.ex03_parameters import LENET, VGG16_PARAMS, random_network, vgg16_layers
from autograder.reference import load_reference

EX = exercises.get("ex03_parameters")


@pytest.fixture(scope="module")
def ref():
    return load_reference("ex03_parameters")


# --------------------------------------------------------------------------- the reference itself


def test_reference_counts_the_numbers_quoted_in_the_notebook(ref):
    assert ref.conv2d_params(11, 3, 96) == 34_944  # AlexNet's first layer
    assert ref.dense_params(227 * 227 * 3, 55 * 55 * 96) == 44_892_355_200  # "about 44.9 billion"
    assert ref.count_params((224, 224, 3), ref.VGG16_LAYERS) == VGG16_PARAMS == 138_357_544
    assert ref.count_params((224, 224, 3), ref.VGG16_LAYERS) == ref.count_params((224, 224, 3), vgg16_layers())
    assert ref.count_params((28, 28, 1), LENET) == 61_706
    fc1 = ref.count_params((7, 7, 512), ref.VGG16_LAYERS[-4:-2])
    assert fc1 == 102_764_544  # "102.8 million"
    assert ref.count_params((7, 7, 512), [{"type": "global_average_pooling2d"}, {"type": "dense", "units": 4096}]) == 2_101_248


def test_reference_returns_plain_ints_and_tuples(ref):
    assert type(ref.conv2d_params((3, 5), 4, 7)) is int
    assert type(ref.dense_params(3, 2, False)) is int
    assert type(ref.count_params((5, 4, 3), [])) is int
    shape = ref.output_shape((9, 8, 2), {"type": "conv2d", "filters": 5, "kernel_size": 3, "strides": 2})
    assert shape == (4, 3, 5) and type(shape) is tuple and all(type(n) is int for n in shape)


def test_reference_layer_table_lists_every_layer_and_the_total(ref):
    table = ref.layer_table((224, 224, 3), ref.VGG16_LAYERS)
    assert "fc1" in table and "102,764,544" in table and "(7, 7, 512)" in table
    assert table.splitlines()[-1].endswith("138,357,544")
    assert len(table.splitlines()) == len(ref.VGG16_LAYERS) + 5


def test_reference_does_not_modify_the_layer_dicts(ref):
    layers = vgg16_layers()
    before = [dict(layer) for layer in layers]
    ref.count_params((224, 224, 3), layers)
    assert layers == before


@pytest.mark.parametrize(
    "input_shape, layer, message",
    [
        ((8, 8, 3), {"type": "conv"}, r"Unknown layer type 'conv'. Expected one of: conv2d, .*Received: layer="),
        ((8, 8, 3), {"filters": 3}, r'must be a dict with a "type" key'),
        ((8, 8, 3), "flatten", r'must be a dict with a "type" key.*Received: layer=\'flatten\''),
        ((8, 8, 3), {"type": "conv2d", "filters": 4}, r"A 'conv2d' layer needs the key 'kernel_size'"),
        ((8, 8, 3), {"type": "dense"}, r"A 'dense' layer needs the key 'units'"),
        ((8, 8, 3), {"type": "dropout"}, r"A 'dropout' layer needs the key 'rate'"),
        ((8, 8, 3), {"type": "conv2d", "filters": 4, "kernel_size": 3, "stride": 2}, r"Unrecognized argument 'stride'.*strides"),
        ((8, 8, 3), {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": -1}, r"non-negative int.*Received: padding=-1"),
        ((8, 8, 3), {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "full"}, r"Received: padding='full'"),
        ((8, 8, 3), {"type": "max_pooling2d", "padding": 1}, r"pooling adds no zeros\). Received: padding=1"),
        ((8, 8, 3), {"type": "conv2d", "filters": 0, "kernel_size": 3}, r"Received: filters=0"),
        ((8, 8, 3), {"type": "max_pooling2d", "pool_size": (2, 2, 2)}, r"Received: pool_size=\(2, 2, 2\)"),
        ((8, 8, 3), {"type": "dropout", "rate": 1.5}, r"Received: rate=1.5"),
        ((8, 8, 3), {"type": "dense", "units": 4, "use_bias": "yes"}, r"Received: use_bias='yes'"),
        ((64,), {"type": "conv2d", "filters": 4, "kernel_size": 3}, r"\(height, width, channels\). Received: input_shape=\(64,\)"),
        ((2, 8, 3), {"type": "conv2d", "filters": 4, "kernel_size": 3}, r"output would be empty"),
        ((0, 8, 3), {"type": "flatten"}, r"Received: input_shape=\(0, 8, 3\)"),
        ([8.0, 8, 3], {"type": "flatten"}, r"tuple of positive ints"),
    ],
)
def test_reference_rejects_bad_layers_with_keras_style_errors(ref, input_shape, layer, message):
    with pytest.raises(ValueError, match=message):
        ref.output_shape(input_shape, layer)
    with pytest.raises(ValueError, match=message):
        ref.count_params(input_shape, [layer])


def test_reference_accepts_name_and_activation(ref):
    layer = {"type": "dense", "units": 3, "activation": "relu", "name": "head"}
    assert ref.output_shape((5,), layer) == (3,)
    assert ref.count_params((5,), [layer]) == 18


# --------------------------------------------------------------------------- known mistakes


def conv_params(expression):
    return f'''
def conv2d_params(kernel_size, input_channels, filters, use_bias=True):
    k_h, k_w = to_pair(kernel_size, "kernel_size")
    return {expression}
'''


def dense(expression):
    return f'''
def dense_params(input_units, units, use_bias=True):
    return {expression}
'''


def shape_edit(*edits):
    return {"output_shape": function_source("ex03", "output_shape", edits)}


def count_edit(*edits):
    return {"count_params": function_source("ex03", "count_params", edits)}


CEIL = "sizes.append(-(-n // s))  # ceil(n / s)"
VALID = "sizes.append((n + 2 * p - k) // s + 1)"
CONV_CALL = 'conv2d_params(args["kernel_size"], shape[-1], args["filters"], args["use_bias"])'
DENSE_CALL = 'dense_params(shape[-1], args["units"], args["use_bias"])'
OUTPUT_SHAPE_MISTAKES = {
    "same_as_valid": shape_edit((CEIL, VALID)),
    "no_plus_one": shape_edit((VALID, "sizes.append((n + 2 * p - k) // s)")),
    "pool_strides_one": shape_edit(('config["strides"] or config["pool_size"]', 'config["strides"] or (1, 1)')),
    "same_floor": shape_edit((CEIL, "sizes.append(n // s)")),
    "same_ignores_stride": shape_edit((CEIL, "sizes.append(n)")),
    "conv_ignores_strides": shape_edit(('s_h, s_w = config["strides"]', "s_h, s_w = 1, 1")),
    "true_division": shape_edit((VALID, "sizes.append((n + 2 * p - k) / s + 1)")),
    "zeros_once": shape_edit((VALID, "sizes.append((n + p - k) // s + 1)")),
    "zeros_ignored": shape_edit((VALID, "sizes.append((n - k) // s + 1)")),
    "conv_keeps_channels": shape_edit(
        ('(k_h, k_w), channels = config["kernel_size"], config["filters"]', 'k_h, k_w = config["kernel_size"]')
    ),
    "flatten_no_channels": shape_edit(("math.prod(input_shape)", "math.prod(input_shape[:2])")),
    "gap_keepdims": shape_edit(("return (input_shape[-1],)", "return (1, 1, input_shape[-1])")),
    "dense_flattens": shape_edit(('return input_shape[:-1] + (config["units"],)', 'return (config["units"],)')),
    "keep_shape_missing": shape_edit(("\n    return input_shape", "\n    pass")),  # the function-level return only
}

MISTAKES = {
    ("conv2d_params", "no_bias"): {"conv2d_params": conv_params("k_h * k_w * input_channels * filters")},
    ("conv2d_params", "output_channels"): {
        "conv2d_params": conv_params("k_h * k_w * filters * filters + (filters if use_bias else 0)")
    },
    ("conv2d_params", "bias_per_input_channel"): {
        "conv2d_params": conv_params("k_h * k_w * input_channels * filters + (input_channels if use_bias else 0)")
    },
    ("conv2d_params", "ignores_use_bias"): {"conv2d_params": conv_params("(k_h * k_w * input_channels + 1) * filters")},
    ("conv2d_params", "no_input_channels"): {"conv2d_params": conv_params("(k_h * k_w + use_bias) * filters")},
    ("conv2d_params", "square_kernel"): {
        "conv2d_params": '''
def conv2d_params(kernel_size, input_channels, filters, use_bias=True):
    k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
    return k * k * input_channels * filters + (filters if use_bias else 0)
'''
    },
    ("conv2d_params", "one_bias"): {"conv2d_params": conv_params("k_h * k_w * input_channels * filters + use_bias")},
    ("dense_params", "no_bias"): {"dense_params": dense("input_units * units")},
    ("dense_params", "bias_per_input"): {"dense_params": dense("(units + use_bias) * input_units")},
    ("dense_params", "ignores_use_bias"): {"dense_params": dense("(input_units + 1) * units")},
    ("dense_params", "one_bias"): {"dense_params": dense("input_units * units + int(use_bias)")},
    ("dense_params", "sum_not_product"): {"dense_params": dense("input_units + units + (units if use_bias else 0)")},
    **{("output_shape", name): replacement for name, replacement in OUTPUT_SHAPE_MISTAKES.items()},
    ("count_params", "no_bias"): count_edit(('args["use_bias"])', "False)")),
    ("count_params", "ignores_use_bias"): count_edit((', args["use_bias"])', ")")),
    ("count_params", "input_channels_fixed"): count_edit((CONV_CALL, CONV_CALL.replace("shape[-1]", "input_shape[-1]"))),
    ("count_params", "conv_output_channels"): count_edit(
        (CONV_CALL, CONV_CALL.replace("shape[-1]", 'args["filters"]'))
    ),
    ("count_params", "pooling_params"): count_edit(
        (
            '        elif args["type"] == "batch_normalization":',
            '        elif args["type"] in ("max_pooling2d", "average_pooling2d"):\n'
            '            total += conv2d_params(args["pool_size"], shape[-1], shape[-1])\n'
            '        elif args["type"] == "batch_normalization":',
        )
    ),
    ("count_params", "dropout_params"): count_edit(
        (
            '        elif args["type"] == "batch_normalization":',
            '        elif args["type"] == "dropout":\n'
            "            total += dense_params(shape[-1], shape[-1])\n"
            '        elif args["type"] == "batch_normalization":',
        )
    ),
    ("count_params", "bn_two"): count_edit(("total += 4 * shape[-1]", "total += 2 * shape[-1]")),
    ("count_params", "bn_none"): count_edit(("total += 4 * shape[-1]", "pass")),
    # shape mistakes made in output_shape show up in count_params too, with a count_params hint
    **{
        ("count_params", name): OUTPUT_SHAPE_MISTAKES[name]
        for name in ("flatten_no_channels", "same_as_valid", "no_plus_one", "pool_strides_one", "zeros_ignored")
    },
    ("count_params", "dense_flattens"): {
        **OUTPUT_SHAPE_MISTAKES["dense_flattens"],
        **count_edit((DENSE_CALL, DENSE_CALL.replace("shape[-1]", "math.prod(shape)"))),
    },
}


def test_every_registered_mutant_has_a_student_version_here():
    assert sorted(MISTAKES) == sorted(mutant_names("ex03"))


@pytest.mark.parametrize("function, mutant", sorted(MISTAKES), ids=[f"{f}-{m}" for f, m in sorted(MISTAKES)])
def test_mistake_fails_and_is_named_in_the_hint(tmp_path, function, mutant):
    report = check_student(tmp_path, "ex03", MISTAKES[function, mutant], functions=[function])
    assert failures(report, function), f"{mutant}: every check of {function} passed"
    assert hint_of("ex03", function, mutant) in failure_text(report, function), failure_text(report)
    assert mutant in {r.mistake for r in failures(report, function)}, [(r.name, r.mistake) for r in failures(report)]


def test_wrong_count_shows_expected_and_got_exactly(tmp_path):
    report = check_student(tmp_path, "ex03", MISTAKES["count_params", "bn_two"], hidden=False, functions=["count_params"])
    text = failure_text(report)
    assert "count_params((14, 13, 3), conv (no bias), batchnorm" in text
    assert "expected 16346, got 16250" in text  # an exact comparison: no tolerance on counts


@pytest.mark.parametrize(
    "replacement, detail, hint",
    [
        ({"dense_params": dense("float(input_units * units + units * use_bias)")}, "expected an int, got float", "a count is an int"),
        ({"conv2d_params": conv_params("bool(k_h)")}, "got bool True", ""),
        (
            shape_edit(("return (sizes[0], sizes[1], channels)", "return [sizes[0], sizes[1], channels]")),
            "expected the tuple",
            "return a tuple",
        ),
        (shape_edit(("return (sizes[0], sizes[1], channels)", "return (float(sizes[0]), sizes[1], channels)")), "tuple of ints", "sizes are ints"),
    ],
)
def test_right_number_of_the_wrong_type_fails(tmp_path, replacement, detail, hint):
    (function,) = replacement
    report = check_student(tmp_path, "ex03", replacement, functions=[function])
    failed = failures(report, function)
    assert failed and all(r.status == "failed" for r in failed)
    text = failure_text(report, function)
    assert detail in text and hint in text, text


def test_numpy_integers_are_accepted_as_counts(tmp_path):
    # the solution file has no NumPy import: the student adds one next to the function
    report = check_student(
        tmp_path,
        "ex03",
        {
            "dense_params": "import numpy as np\n" + dense("np.int64(input_units * units + units * use_bias)"),
            "conv2d_params": "import numpy as np\n"
            + conv_params("np.prod([k_h, k_w, input_channels, filters]) + filters * use_bias"),
        },
        functions=["dense_params", "conv2d_params"],
    )
    assert report.problems == []
    assert failure_text(report) == ""
    assert report.score == sum(c.points for c in EX.checks_for(["dense_params", "conv2d_params"]))


# --------------------------------------------------------------------------- right code, written otherwise

OTHERWISE = {
    "conv2d_params": '''
def conv2d_params(kernel_size, input_channels, filters, use_bias=True):
    kernel_area = math.prod(to_pair(kernel_size, "kernel_size"))
    return kernel_area * input_channels * filters + filters * use_bias
''',
    "dense_params": '''
def dense_params(input_units, units, use_bias=True):
    return (input_units + int(use_bias)) * units
''',
    "output_shape": '''
def output_shape(input_shape, layer):
    config = layer_config(layer)
    kind = config["type"]
    input_shape = check_input_shape(input_shape, kind)
    if kind == "flatten":
        size = 1
        for n in input_shape:
            size *= n
        return (size,)
    if kind == "global_average_pooling2d":
        return input_shape[2:]
    if kind == "dense":
        return (*input_shape[:-1], config["units"])
    if kind in ("dropout", "batch_normalization"):
        return tuple(input_shape)
    window = config.get("kernel_size") or config["pool_size"]
    strides = config["strides"] if config["strides"] is not None else window

    zeros = (0, 0) if config["padding"] in ("valid", "same") else config["padding"]

    def size(n, k, s, p):
        if config["padding"] == "same":
            return math.ceil(n / s)
        return math.floor((n + 2 * p - k) / s) + 1

    channels = config["filters"] if kind == "conv2d" else input_shape[2]
    height = size(input_shape[0], window[0], strides[0], zeros[0])
    return (height, size(input_shape[1], window[1], strides[1], zeros[1]), channels)
''',
    "count_params": '''
def count_params(input_shape, layers):
    shapes = [check_input_shape(input_shape)]
    for layer in layers:
        shapes.append(output_shape(shapes[-1], layer))
    per_layer = {
        "conv2d": lambda c, s: conv2d_params(c["kernel_size"], s[-1], c["filters"], c["use_bias"]),
        "dense": lambda c, s: dense_params(s[-1], c["units"], c["use_bias"]),
        "batch_normalization": lambda c, s: 4 * s[-1],
    }
    configs = [layer_config(layer) for layer in layers]
    return sum(per_layer.get(c["type"], lambda c, s: 0)(c, s) for c, s in zip(configs, shapes))
''',
}


def test_correct_alternative_scores_full_marks(tmp_path):
    report = check_student(tmp_path, "ex03", OTHERWISE)
    assert report.problems == []
    assert failure_text(report) == ""
    assert report.score == EX.max_score()


def test_count_params_alone_counts_like_the_reference_on_random_networks(ref, tmp_path):
    import numpy as np

    from autograder.loading import load

    student = load(student_file(tmp_path, "ex03", OTHERWISE))
    rng = np.random.default_rng(1)
    for _ in range(50):
        input_shape, layers = random_network(rng)
        assert student.count_params(input_shape, layers) == ref.count_params(input_shape, layers)


# --------------------------------------------------------------------------- policy and input mutation


def test_count_params_that_builds_a_keras_model_gets_policy_status_for_that_function_only(tmp_path):
    source = '''
def count_params(input_shape, layers):
    import keras
    model = keras.Sequential([keras.Input(input_shape)] + [to_keras(layer) for layer in layers])
    return model.count_params()
'''
    report = check_student(tmp_path, "ex03", {"count_params": source})
    statuses = {f: {r.status for r in report.results if r.function == f} for f in EX.functions}
    assert statuses == {"conv2d_params": {PASSED}, "dense_params": {PASSED}, "output_shape": {PASSED}, "count_params": {POLICY}}
    assert "`count_params` uses keras" in failure_text(report)


def test_count_params_that_fills_defaults_into_the_callers_dicts_is_told_so(tmp_path):
    source = '''
def count_params(input_shape, layers):
    shape, total = tuple(input_shape), 0
    for layer in layers:
        if layer["type"] in ("conv2d", "dense"):
            layer.setdefault("use_bias", True)  # writes into the caller's dict
        config = layer_config(layer)
        if config["type"] == "conv2d":
            total += conv2d_params(config["kernel_size"], shape[-1], config["filters"], config["use_bias"])
        elif config["type"] == "dense":
            total += dense_params(shape[-1], config["units"], config["use_bias"])
        elif config["type"] == "batch_normalization":
            total += 4 * shape[-1]
        shape = output_shape(shape, layer)
    return total
'''
    report = check_student(tmp_path, "ex03", {"count_params": source}, functions=["count_params"])
    first = report.results[0]
    assert first.status == "failed"
    assert first.output.startswith("`count_params` modified its `layers` argument")


def test_checking_never_imports_tensorflow_or_keras():
    code = (
        "import sys\n"
        "from autograder.runner import check_file\n"
        f"report = check_file('ex03', {str(solution_path('ex03'))!r}, hidden=True)\n"
        "assert report.score == report.max_score, report.score\n"
        "loaded = sorted(m for m in ('tensorflow', 'keras', 'jax', 'torch') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_every_check_fails_on_at_least_one_known_mistake(tmp_path):
    failed = set()
    for number, (function, mutant) in enumerate(sorted(MISTAKES)):
        folder = tmp_path / str(number)
        folder.mkdir()
        report = check_student(folder, "ex03", MISTAKES[function, mutant], functions=[function])
        failed |= {r.name for r in failures(report)}
    assert sorted({c.name for c in EX.checks} - failed) == []


def test_points_are_the_published_ones():
    """Students and gradebooks see these totals: a change to them is a decision, not an accident."""
    assert (EX.max_score(hidden=False), EX.max_score() - EX.max_score(hidden=False)) == (19, 4)
