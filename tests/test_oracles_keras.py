"""The reference solutions of ex01–ex03 agree with Keras itself (an independent oracle).

Convolution and pooling: the reference functions against the Keras layers on the same
inputs (Conv2D with the same weights). Parameters and shapes: `count_params` and
`output_shape` against a Keras model built from the same layer dicts, and VGG16 against
`keras.applications.VGG16(weights=None)`. Keras is imported only inside the tests.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from autograder.exercises.ex03_parameters import LENET, VGG16_PARAMS, random_network, vgg16_layers
from autograder.reference import load_reference

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def run_layer(keras, layer, images):
    return keras.ops.convert_to_numpy(layer(images.astype("float32")))


# --------------------------------------------------------------------------- ex02 pooling

SHAPES = [(2, 7, 6, 3), (1, 9, 8, 2), (3, 5, 11, 1)]
POOLS = [1, 2, 3, (2, 3), (3, 1)]
STRIDES = [None, 1, 2, (2, 1), (1, 3)]
PADDINGS = ["valid", "same"]


def pooling_cases():
    for shape, pool, strides, padding in itertools.product(SHAPES, POOLS, STRIDES, PADDINGS):
        p_h, p_w = (pool, pool) if isinstance(pool, int) else pool
        if padding == "valid" and (p_h > shape[1] or p_w > shape[2]):
            continue
        yield shape, pool, strides, padding


@pytest.mark.parametrize("kind", ["max", "average"])
def test_reference_pooling_equals_keras_pooling_layers(keras, kind):
    ref = load_reference("ex02_pooling")
    ours = {"max": ref.max_pooling2d, "average": ref.average_pooling2d}[kind]
    theirs = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}[kind]
    rng = np.random.default_rng(2)
    count = 0
    for shape, pool, strides, padding in pooling_cases():
        images = rng.standard_normal(shape).astype("float32")
        expected = run_layer(keras, theirs(pool_size=pool, strides=strides, padding=padding), images)
        got = ours(images, pool_size=pool, strides=strides, padding=padding)
        assert got.shape == expected.shape, (shape, pool, strides, padding)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=str((shape, pool, strides, padding)))
        count += 1
    assert count > 100


def test_reference_global_average_pooling_equals_keras(keras):
    ref = load_reference("ex02_pooling")
    rng = np.random.default_rng(3)
    for shape in SHAPES + [(2, 1, 1, 4)]:
        images = rng.standard_normal(shape).astype("float32")
        expected = run_layer(keras, keras.layers.GlobalAveragePooling2D(), images)
        np.testing.assert_allclose(ref.global_average_pooling2d(images), expected, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- ex01 convolution


@pytest.mark.parametrize(
    "kernel_shape, strides, padding",
    [
        ((3, 3, 3, 4), 1, "valid"),
        ((3, 3, 3, 4), 1, "same"),
        ((2, 3, 3, 5), 2, "same"),
        ((4, 4, 3, 2), (2, 3), "same"),
        ((3, 2, 3, 4), (1, 2), "valid"),
        ((1, 1, 3, 6), 3, "valid"),
    ],
)
def test_reference_conv2d_equals_keras_conv2d_with_the_same_weights(keras, kernel_shape, strides, padding):
    ref = load_reference("ex01_convolution")
    rng = np.random.default_rng(4)
    images = rng.standard_normal((2, 9, 7, 3)).astype("float32")
    kernel = rng.standard_normal(kernel_shape).astype("float32")
    bias = rng.standard_normal(kernel_shape[-1]).astype("float32")
    layer = keras.layers.Conv2D(kernel_shape[-1], kernel_shape[:2], strides=strides, padding=padding)
    layer.build(images.shape)
    layer.set_weights([kernel, bias])
    expected = run_layer(keras, layer, images)
    got = ref.conv2d(images, kernel, bias, strides=strides, padding=padding)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------- ex03 parameters


def to_keras(keras, layer):
    """The Keras layer a layer dict stands for."""
    config = dict(layer)
    kind = config.pop("type")
    config.pop("name", None)
    if kind == "conv2d" and config.get("padding", "valid") not in ("valid", "same"):
        # zeros on each side: Keras' ZeroPadding2D, then a "valid" Conv2D
        zeros = config.pop("padding")
        return keras.Sequential([keras.layers.ZeroPadding2D(zeros), keras.layers.Conv2D(**config)])
    if kind.endswith("_pooling2d") and kind != "global_average_pooling2d":
        config.setdefault("pool_size", 2)  # our default; Keras 3's AveragePooling2D has none
    classes = {
        "conv2d": keras.layers.Conv2D,
        "max_pooling2d": keras.layers.MaxPooling2D,
        "average_pooling2d": keras.layers.AveragePooling2D,
        "flatten": keras.layers.Flatten,
        "global_average_pooling2d": keras.layers.GlobalAveragePooling2D,
        "dense": keras.layers.Dense,
        "dropout": keras.layers.Dropout,
        "batch_normalization": keras.layers.BatchNormalization,
    }
    return classes[kind](**config)


def keras_model(keras, input_shape, layers):
    return keras.Sequential([keras.Input(shape=input_shape)] + [to_keras(keras, layer) for layer in layers])


def networks():
    conv = lambda f, k, **kw: {"type": "conv2d", "filters": f, "kernel_size": k, **kw}  # noqa: E731 - a table of layers
    yield (28, 28, 1), LENET
    yield (32, 30, 3), [
        conv(8, 3),
        {"type": "max_pooling2d"},
        {"type": "dropout", "rate": 0.25},
        conv(12, 3, strides=2, padding="same"),
        {"type": "average_pooling2d", "strides": 1},
        {"type": "flatten"},
        {"type": "dense", "units": 10},
    ]
    yield (20, 24, 3), [
        conv(32, (3, 5), padding="same", use_bias=False),
        {"type": "batch_normalization"},
        conv(48, 3, strides=2),
        {"type": "global_average_pooling2d"},
        {"type": "dense", "units": 10, "use_bias": False},
    ]
    yield (6, 5, 3), [conv(4, 3, padding="same"), {"type": "dense", "units": 7}, {"type": "batch_normalization"},
                      {"type": "flatten"}, {"type": "dense", "units": 2}]
    yield (9, 13, 2), [
        {"type": "max_pooling2d", "pool_size": (2, 3), "strides": (1, 2), "padding": "same"},
        conv(5, (2, 4), strides=(3, 1)),
        {"type": "average_pooling2d", "pool_size": 3, "padding": "same"},
        {"type": "flatten"},
        {"type": "batch_normalization"},
        {"type": "dense", "units": 3},
    ]
    yield (9, 8, 2), [conv(5, 3, padding=2), conv(4, (3, 5), strides=(1, 2), padding=(2, 1)),
                      {"type": "flatten"}, {"type": "dense", "units": 3}]
    rng = np.random.default_rng(5)
    for _ in range(15):
        yield random_network(rng)


def test_count_params_and_output_shape_equal_a_keras_model_built_from_the_same_dicts(keras):
    ref = load_reference("ex03_parameters")
    for input_shape, layers in networks():
        model = keras_model(keras, input_shape, layers)
        assert ref.count_params(input_shape, layers) == model.count_params(), layers
        shape = input_shape
        for layer, keras_layer in zip(layers, model.layers):
            shape = ref.output_shape(shape, layer)
            assert shape == tuple(keras_layer.output.shape[1:]), (layer, input_shape)
        keras.backend.clear_session()


def test_parameter_counts_of_single_layers_equal_keras(keras):
    ref = load_reference("ex03_parameters")
    for kernel, channels, filters, bias in [(3, 3, 64, True), ((3, 5), 4, 7, False), (11, 3, 96, True)]:
        layer = keras.layers.Conv2D(filters, kernel, use_bias=bias)
        layer.build((None, 16, 16, channels))
        assert ref.conv2d_params(kernel, channels, filters, bias) == layer.count_params()
    for inputs, units, bias in [(784, 10, True), (9216, 4096, False)]:
        layer = keras.layers.Dense(units, use_bias=bias)
        layer.build((None, inputs))
        assert ref.dense_params(inputs, units, bias) == layer.count_params()


def test_vgg16_counted_by_hand_equals_keras_applications_vgg16(keras):
    ref = load_reference("ex03_parameters")
    vgg16 = keras.applications.VGG16(weights=None)  # random weights: no download
    try:
        assert vgg16.count_params() == VGG16_PARAMS == 138_357_544
        for layers in (ref.VGG16_LAYERS, vgg16_layers()):
            assert ref.count_params((224, 224, 3), layers) == vgg16.count_params()
        keras_layers = vgg16.layers[1:]  # after the input layer
        assert [layer["name"] for layer in ref.VGG16_LAYERS] == [layer.name for layer in keras_layers]
        shape = (224, 224, 3)
        for layer, keras_layer in zip(ref.VGG16_LAYERS, keras_layers):
            params = ref.count_params(shape, [layer])
            shape = ref.output_shape(shape, layer)
            assert shape == tuple(keras_layer.output.shape[1:]), layer["name"]
            assert params == keras_layer.count_params(), layer["name"]
    finally:
        del vgg16
        keras.backend.clear_session()
