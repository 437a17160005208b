"""Does `cnnexercises.datasets` give the promised arrays, offline, deterministically?"""

import os
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

from cnnexercises import datasets
from cnnexercises.datasets import (
    ALL_SHAPE_CLASSES,
    PHOTO_NAMES,
    SHAPE_CLASSES,
    DatasetUnavailable,
    load_digits,
    load_keras_dataset,
    load_shapes,
    make_shapes,
    sample_photo,
)

# A child process that cannot reach the network: every socket connect/lookup raises.
_NO_NETWORK = textwrap.dedent(
    """
    import socket
    def _refuse(*args, **kwargs):
        raise OSError("network disabled in this test")
    socket.socket.connect = _refuse
    socket.create_connection = _refuse
    socket.getaddrinfo = _refuse
    """
)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    import socket

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def _background_and_mask(image):
    """For a noise-free image: the majority colour and the mask of the other (shape) pixels."""
    colours, inverse, counts = np.unique(
        image.reshape(-1, 3), axis=0, return_inverse=True, return_counts=True
    )
    assert len(colours) == 2, f"expected exactly two colours, got {len(colours)}"
    mask = (inverse.reshape(image.shape[:2]) != np.argmax(counts))
    return colours[np.argmax(counts)], mask


# ----------------------------------------------------------------------------- import


def test_importing_datasets_imports_neither_tensorflow_nor_keras():
    code = (
        "import sys, cnnexercises.datasets, cnnexercises.shapes; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- digits


def test_load_digits_gives_nhwc_float_images_in_unit_range_and_int_labels():
    (x_train, y_train), (x_test, y_test) = load_digits()
    assert x_train.shape == (1347, 8, 8, 1) and x_test.shape == (450, 8, 8, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))


def test_load_digits_split_is_stratified_disjoint_and_complete():
    from sklearn.datasets import load_digits as sk_load_digits

    (x_train, y_train), (x_test, y_test) = load_digits(test_fraction=0.3, seed=4)
    full = sk_load_digits()
    # Every digit keeps its share of the whole set in the test set (within one image).
    share = np.bincount(y_test, minlength=10) / np.bincount(full.target, minlength=10)
    np.testing.assert_allclose(share, 0.3, atol=0.02)
    # Together the two sets are the whole dataset, each image exactly once.
    both = np.concatenate([x_train, x_test]).reshape(len(full.target), -1) * 16
    labels = np.concatenate([y_train, y_test])
    order_got = np.lexsort(np.column_stack([both, labels]).T)
    order_full = np.lexsort(np.column_stack([full.data, full.target]).T)
    np.testing.assert_array_equal(both[order_got], full.data[order_full])
    np.testing.assert_array_equal(labels[order_got], full.target[order_full])


def test_load_digits_is_deterministic_and_seed_changes_the_split():
    a = load_digits(seed=1)
    b = load_digits(seed=1)
    c = load_digits(seed=2)
    np.testing.assert_array_equal(a[0][0], b[0][0])
    np.testing.assert_array_equal(a[1][1], b[1][1])
    assert not np.array_equal(a[0][1], c[0][1])


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "0.2", True])
def test_load_digits_rejects_test_fraction_outside_zero_one(bad):
    with pytest.raises(ValueError, match=r"`test_fraction` must be .*Received: test_fraction="):
        load_digits(test_fraction=bad)


# ----------------------------------------------------------------------------- shapes


def test_make_shapes_gives_balanced_rgb_floats_in_unit_range():
    x, y = make_shapes(301, image_size=24, seed=0)
    assert x.shape == (301, 24, 24, 3) and x.dtype == np.float32
    assert y.shape == (301,) and y.dtype == np.int64
    assert x.min() >= 0.0 and x.max() <= 1.0 and x.std() > 0.1
    counts = np.bincount(y, minlength=3)
    assert counts.sum() == 301 and counts.max() - counts.min() <= 1


def test_make_shapes_is_a_pure_function_of_the_seed():
    x1, y1 = make_shapes(50, seed=7)
    x2, y2 = make_shapes(50, seed=7)
    x3, y3 = make_shapes(50, seed=8)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)


def test_make_shapes_noise_is_gaussian_with_the_given_deviation():
    clean, _ = make_shapes(40, seed=3, noise=0.0)
    noisy, _ = make_shapes(40, seed=3, noise=0.05)
    inside = (clean > 0.2) & (clean < 0.8)  # where clipping cannot bite
    assert abs(np.std(noisy[inside] - clean[inside]) - 0.05) < 0.005


def test_each_label_is_drawn_as_its_shape():
    """Filled share of the bounding box: triangle 1/2, circle pi/4, square 1; ring hollow."""
    classes = ("circle", "square", "triangle", "ring", "cross")
    x, y = make_shapes(100, image_size=48, seed=5, noise=0.0, classes=classes)
    fill = {name: [] for name in classes}
    centre_filled = {name: [] for name in classes}
    for image, label in zip(x, y):
        _, mask = _background_and_mask(image)
        rows, cols = np.nonzero(mask)
        box = (np.ptp(rows) + 1) * (np.ptp(cols) + 1)
        fill[classes[label]].append(mask.sum() / box)
        centre_filled[classes[label]].append(mask[(rows.min() + rows.max()) // 2, (cols.min() + cols.max()) // 2])
    mean = {name: np.mean(v) for name, v in fill.items()}
    assert 0.40 < mean["triangle"] < 0.62
    assert 0.70 < mean["circle"] < 0.85
    assert mean["square"] > 0.95
    assert not any(centre_filled["ring"]) and all(centre_filled["cross"])


def test_shapes_are_lighter_than_their_background_in_every_channel():
    x, _ = make_shapes(60, seed=2, noise=0.0)
    for image in x:
        background, mask = _background_and_mask(image)
        shape_colour = image[mask][0]
        assert np.all(shape_colour - background >= 0.4 - 1e-6)


@pytest.mark.parametrize(
    "position, inside",
    [
        ("left", lambda rows, cols, s: cols.max() < s // 2),
        ("right", lambda rows, cols, s: cols.min() >= s // 2),
        ("top", lambda rows, cols, s: rows.max() < s // 2),
        ("bottom", lambda rows, cols, s: rows.min() >= s // 2),
    ],
)
def test_position_keeps_every_shape_inside_that_half(position, inside):
    x, _ = make_shapes(60, image_size=32, seed=1, noise=0.0, position=position)
    for image in x:
        rows, cols = np.nonzero(_background_and_mask(image)[1])
        assert inside(rows, cols, 32)


def test_shapes_anywhere_cover_both_halves():
    x, _ = make_shapes(200, image_size=32, seed=1, noise=0.0)
    centres = [np.nonzero(_background_and_mask(im)[1])[1].mean() for im in x]
    assert min(centres) < 10 and max(centres) > 22


def test_load_shapes_draws_test_set_from_another_seed_and_positions():
    (x_train, y_train), (x_test, y_test) = load_shapes(
        90, 30, image_size=16, seed=4, train_position="left", test_position="right"
    )
    assert x_train.shape == (90, 16, 16, 3) and x_test.shape == (30, 16, 16, 3)
    assert y_train.dtype == np.int64 and len(y_test) == 30
    same_seed_train, _ = make_shapes(30, image_size=16, seed=4)
    assert not np.array_equal(x_test, same_seed_train)
    (again, _), _ = load_shapes(90, 30, image_size=16, seed=4, train_position="left")
    np.testing.assert_array_equal(x_train, again)
    default = load_shapes(n_train=6, n_test=3)
    assert default[0][0].shape == (6, 32, 32, 3) and default[1][0].shape == (3, 32, 32, 3)


def test_default_classes_are_the_three_documented_ones():
    assert SHAPE_CLASSES == ("circle", "square", "triangle")
    assert set(SHAPE_CLASSES) <= set(ALL_SHAPE_CLASSES)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"classes": ("circle", "hexagon")}, r"`classes` must be .*Received: classes=\('circle', 'hexagon'\)"),
        ({"classes": ("circle", "circle")}, r"`classes` must be distinct"),
        ({"position": "middle"}, r"`position` must be one of .*Received: position='middle'"),
        ({"image_size": 8}, r"`image_size` must be an int >= 16.*Received: image_size=8"),
        ({"n": -1}, r"`n` must be a non-negative int. Received: n=-1"),
        ({"noise": -0.1}, r"`noise` must be a number >= 0. Received: noise=-0.1"),
        ({"noise": "0.1"}, r"`noise` must be a number >= 0. Received: noise=.0.1."),
    ],
)
def test_make_shapes_rejects_bad_arguments_with_keras_style_messages(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_shapes(**kwargs)


# ----------------------------------------------------------------------------- photos


def test_every_listed_photo_loads_offline_as_floats_in_unit_range(no_network):
    for name in PHOTO_NAMES:
        image = sample_photo(name)
        assert image.dtype == np.float32, name
        assert image.ndim in (2, 3) and (image.ndim == 2 or image.shape[2] == 3), (name, image.shape)
        assert 0.0 <= image.min() < image.max() <= 1.0, name


def test_sample_photo_default_is_the_grayscale_camera_and_rgb_can_become_gray():
    assert sample_photo().shape == (512, 512)
    rgb = sample_photo("astronaut")
    gray = sample_photo("astronaut", grayscale=True)
    assert rgb.shape == (512, 512, 3) and gray.shape == (512, 512)
    np.testing.assert_allclose(gray, rgb @ np.array([0.2125, 0.7154, 0.0721]), atol=1e-6)


def test_sample_photo_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"'camera'.*Received: name='lena'"):
        sample_photo("lena")


# ----------------------------------------------------------------------------- keras datasets


def _fake_keras_dataset(monkeypatch, name, load_data):
    module = types.SimpleNamespace(load_data=load_data)
    monkeypatch.setitem(sys.modules, f"keras.datasets.{name}", module)


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10"])
def test_failed_download_raises_dataset_unavailable_saying_where_and_what_instead(monkeypatch, tmp_path, name):
    def load_data():
        raise Exception("URL fetch failure on https://example.invalid: None -- no network")

    _fake_keras_dataset(monkeypatch, name, load_data)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DatasetUnavailable) as info:
        load_keras_dataset(name)
    message = str(info.value)
    assert f"keras.datasets.{name}" in message and "URL fetch failure" in message
    for file in datasets.KERAS_DATASETS[name][0]:
        assert os.path.join(str(tmp_path), "datasets", file) in message
    assert "load_digits()" in message and "load_shapes()" in message
    assert isinstance(info.value, RuntimeError)


def test_keras_datasets_come_back_as_nhwc_floats_with_flat_int_labels(monkeypatch):
    gray = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    colour = np.full((3, 32, 32, 3), 255, dtype=np.uint8)
    _fake_keras_dataset(monkeypatch, "mnist", lambda: ((gray, np.array([3, 4], np.uint8)), (gray, np.array([1, 2], np.uint8))))
    _fake_keras_dataset(monkeypatch, "cifar10", lambda: ((colour, np.array([[1], [2], [3]], np.uint8)), (colour, np.array([[0], [9], [5]], np.uint8))))
    (x, y), _ = load_keras_dataset("mnist")
    assert x.shape == (2, 28, 28, 1) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x[..., 0], gray / 255.0, rtol=1e-6)
    (x, y), (_, y_test) = load_keras_dataset("cifar10")
    assert x.shape == (3, 32, 32, 3) and x.max() == 1.0
    assert y.tolist() == [1, 2, 3] and y_test.shape == (3,)
    # With keras.json set to channels_first, Keras returns CIFAR-10 as NCHW: still NHWC here.
    nchw = np.arange(2 * 3 * 32 * 32, dtype=np.uint8).reshape(2, 3, 32, 32)
    _fake_keras_dataset(monkeypatch, "cifar10", lambda: ((nchw, np.zeros((2, 1))), (nchw, np.zeros((2, 1)))))
    (x, _), _ = load_keras_dataset("cifar10")
    np.testing.assert_allclose(x, nchw.transpose(0, 2, 3, 1) / 255.0, rtol=1e-6)


def test_load_keras_dataset_rejects_unknown_names():
    with pytest.raises(ValueError, match=r"`name` must be one of .*Received: name='imagenet'"):
        load_keras_dataset("imagenet")


def test_real_keras_reads_the_cache_files_the_message_names(tmp_path):
    """With the network blocked, Keras finds (corrupt) files exactly where we say to put them."""
    for name, (files, _) in datasets.KERAS_DATASETS.items():
        for file in files:
            path = tmp_path / "datasets" / file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"not the real file")
    code = _NO_NETWORK + textwrap.dedent(
        """
        from cnnexercises.datasets import load_keras_dataset, DatasetUnavailable
        for name in ("mnist", "fashion_mnist", "cifar10"):
            try:
                load_keras_dataset(name)
            except DatasetUnavailable as error:
                print("UNAVAILABLE", name, str(error).splitlines()[0])
        """
    )
    env = dict(os.environ, KERAS_HOME=str(tmp_path), KERAS_BACKEND="tensorflow")  # installed everywhere
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    # mnist and cifar10 are hash-checked: Keras says it found our file, then fails to download.
    assert sum("A local file was found" in line for line in lines) == 2, out.stdout
    # fashion_mnist is not hash-checked: Keras opens our file and fails reading it.
    [fashion] = [line for line in lines if line.startswith("UNAVAILABLE fashion_mnist")]
    assert "URL fetch failure" not in fashion
    assert sum(line.startswith("UNAVAILABLE") for line in lines) == 3
