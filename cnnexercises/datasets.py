"""Datasets for the exercises: offline first, `keras.datasets` when online.

Offline, with nothing to download:
    `load_digits`   scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes).
    `load_digits_28x28`  the same digits upsampled to 28x28 like MNIST: exactly what the
                    ex04 grader trains and tests `build_cnn` on.
    `load_shapes`   generated circles/squares/triangles (see `cnnexercises.shapes`).
    `load_moving_shapes`  generated clips of a shape moving left/right/up/down (see
                    `cnnexercises.motion`); every clip array is `(N, T, H, W, C)`.
    `sample_photo`  scikit-image's bundled sample photos, for convolution demos.

Online (or with the file placed in `~/.keras/datasets` by hand):
    `load_keras_dataset("mnist" | "fashion_mnist" | "cifar10")`; offline it raises
    `DatasetUnavailable` saying where to put the file and what to use instead.

Every image array is NHWC float32 in [0, 1]; every label array is int64 `(N,)`.
Importing this module imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

from cnnexercises.errors import DatasetUnavailable
from cnnexercises.motion import MOTION_CLASSES, OPPOSITE, load_moving_shapes, make_moving_shapes
from cnnexercises.shapes import ALL_SHAPE_CLASSES, POSITIONS, SHAPE_CLASSES, load_shapes, make_shapes

__all__ = [
    "ALL_SHAPE_CLASSES",
    "DatasetUnavailable",
    "KERAS_CLASS_NAMES",
    "KERAS_DATASETS",
    "MOTION_CLASSES",
    "OPPOSITE",
    "PHOTO_NAMES",
    "POSITIONS",
    "SHAPE_CLASSES",
    "load_digits",
    "load_digits_28x28",
    "load_keras_dataset",
    "load_moving_shapes",
    "load_shapes",
    "make_moving_shapes",
    "make_shapes",
    "sample_photo",
]


def load_digits(test_fraction=0.25, seed=0):
    """scikit-learn's bundled 8x8 digits as images, split into train and test sets.

    The split is stratified (every digit keeps its share in both sets) and a pure
    function of `seed`.

    Args:
        test_fraction: share of the 1,797 images that go to the test set, in (0, 1).
        seed: seed of the split.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: `x_*` float32 `(N, 8, 8, 1)` in [0, 1],
        `y_*` int64 `(N,)` with digits 0-9.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_digits()
        >>> x_train.shape, x_test.shape
        ((1347, 8, 8, 1), (450, 8, 8, 1))
    """
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, numbers.Real) or not 0 < test_fraction < 1:
        raise ValueError(
            f"`test_fraction` must be a number between 0 and 1 (exclusive). "
            f"Received: test_fraction={test_fraction!r}"
        )
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    digits = sk_load_digits()
    x = (digits.images / 16.0).astype(np.float32)[..., None]  # (1797, 8, 8, 1), pixels 0..16 -> [0, 1]
    y = digits.target.astype(np.int64)                       # (1797,)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, stratify=y, random_state=seed
    )
    return (x_train, y_train), (x_test, y_test)


def _linear_resize_matrix(n_in, n_out):
    """`(n_out, n_in)` weights of linear interpolation with pixel centres at `i + 0.5`."""
    position = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)  # (n_out,)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    weights = np.zeros((n_out, n_in))
    np.add.at(weights, (np.arange(n_out), low), 1.0 - (position - low))
    np.add.at(weights, (np.arange(n_out), high), position - low)
    return weights


def load_digits_28x28():
    """scikit-learn's digits upsampled to 28x28, like MNIST: a 24x24 digit, 2 pixels of border.

    These are the images (same split, same pixels) on which the grader of
    `ex04_keras_cnn` trains `build_cnn((28, 28, 1), 10)` and measures its held-out
    accuracy, so a notebook that trains on them reproduces the graded run.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: `x_*` float32 `(N, 28, 28, 1)` in [0, 1]
        (1,347 training and 450 test images), `y_*` int64 `(N,)`.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_digits_28x28()
        >>> x_train.shape, x_test.shape
        ((1347, 28, 28, 1), (450, 28, 28, 1))
    """
    (x_train, y_train), (x_test, y_test) = load_digits(test_fraction=0.25, seed=0)
    resize = _linear_resize_matrix(8, 24)  # (24, 8)

    def upsample(x):
        big = np.einsum("ij,njk,lk->nil", resize, x[..., 0], resize)  # (N, 8, 8) -> (N, 24, 24), bilinear
        return np.pad(big, ((0, 0), (2, 2), (2, 2)))[..., None].astype(np.float32)  # (N, 28, 28, 1)

    return (upsample(x_train), y_train), (upsample(x_test), y_test)


# ---------------------------------------------------------------------------------------
# scikit-image sample photos (only those shipped inside the scikit-image package).

_PHOTOS = {
    # name: (skimage.data function, what it shows)
    "camera": ("camera", "a cameraman, grayscale 512x512"),
    "astronaut": ("astronaut", "astronaut Eileen Collins, RGB 512x512"),
    "cat": ("chelsea", "Chelsea the cat, RGB 300x451"),
    "coffee": ("coffee", "a cup of coffee, RGB 400x600"),
    "rocket": ("rocket", "a rocket launch, RGB 427x640"),
    "coins": ("coins", "Greek coins, grayscale 303x384"),
    "moon": ("moon", "the lunar surface, grayscale 512x512"),
    "text": ("text", "hand-written text, grayscale 172x448"),
    "page": ("page", "a scanned page, grayscale 191x384"),
    "brick": ("brick", "a brick wall texture, grayscale 512x512"),
    "grass": ("grass", "a grass texture, grayscale 512x512"),
    "gravel": ("gravel", "a gravel texture, grayscale 512x512"),
    "checkerboard": ("checkerboard", "a checkerboard, grayscale 200x200"),
    "horse": ("horse", "a horse silhouette, binary 328x400"),
}
PHOTO_NAMES = tuple(_PHOTOS)
"""Names `sample_photo` accepts; all ship with scikit-image (no download)."""


def sample_photo(name="camera", grayscale=False):
    """A sample photo from scikit-image, as floats in [0, 1].

    Args:
        name: one of `PHOTO_NAMES`: "camera", "astronaut", "cat", "coffee", "rocket",
            "coins", "moon", "text", "page", "brick", "grass", "gravel", "checkerboard",
            "horse".
        grayscale: convert RGB photos to luminance (0.2125 R + 0.7154 G + 0.0721 B).

    Returns:
        float32 `(height, width)` for grayscale photos, `(height, width, 3)` for RGB ones.

    Raises:
        ValueError: if `name` is not one of `PHOTO_NAMES`.

    Example:
        >>> sample_photo("camera").shape
        (512, 512)
    """
    if name not in _PHOTOS:
        raise ValueError(f"`name` must be one of {PHOTO_NAMES}. Received: name={name!r}")
    import skimage.data

    image = np.asarray(getattr(skimage.data, _PHOTOS[name][0])())
    if image.dtype == bool:
        image = image.astype(np.float32)                   # (H, W) in {0, 1}
    elif np.issubdtype(image.dtype, np.integer):
        image = image / np.iinfo(image.dtype).max          # (H, W[, 3]) in [0, 1]
    image = image.astype(np.float32)
    if grayscale and image.ndim == 3:
        luminance = np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)
        image = image @ luminance                          # (H, W, 3) -> (H, W)
    return image


# ---------------------------------------------------------------------------------------
# keras.datasets, with a clear message when they cannot be downloaded.

_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
KERAS_DATASETS = {
    # name: (files keras looks for under <keras home>/datasets, where to get them)
    "mnist": (("mnist.npz",), _ORIGIN + "mnist.npz"),
    "fashion_mnist": (
        tuple(
            f"fashion-mnist/{f}"
            for f in (
                "train-labels-idx1-ubyte.gz",
                "train-images-idx3-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz",
                "t10k-images-idx3-ubyte.gz",
            )
        ),
        _ORIGIN + "fashion-mnist/<file>",
    ),
    "cifar10": (
        ("cifar-10-batches-py-target_archive",),
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz "
        "(save it under the name on the left)",
    ),
}
"""Datasets `load_keras_dataset` knows, with the cache files Keras 3 reads and their origin."""

KERAS_CLASS_NAMES = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion_mnist": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
    "cifar10": (
        "airplane", "automobile", "bird", "cat", "deer",
        "dog", "frog", "horse", "ship", "truck",
    ),
}
"""Class names in label order, for plots."""


def _keras_datasets_dir():
    """Where Keras caches datasets: `$KERAS_HOME/datasets`, by default `~/.keras/datasets`."""
    home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    return os.path.join(home, "datasets")


def _unavailable_message(name, error):
    files, origin = KERAS_DATASETS[name]
    folder = _keras_datasets_dir()
    paths = "\n".join(f"    {os.path.join(folder, f)}" for f in files)
    return (
        f"Could not load keras.datasets.{name}: {type(error).__name__}: {error}\n"
        f"Keras downloads it on first use, which fails without a network connection "
        f"(a partial or corrupt file in the cache also fails: delete it). To use it offline, "
        f"download it on a machine that is online from\n    {origin}\n"
        f"and place it here (Keras reads it from there without downloading):\n{paths}\n"
        f"Or use a dataset that needs no download: cnnexercises.datasets.load_digits() "
        f"(8x8 digits, like MNIST) or cnnexercises.datasets.load_shapes() "
        f"(32x32 RGB shapes, like CIFAR-10)."
    )


def load_keras_dataset(name):
    """Load MNIST, Fashion-MNIST or CIFAR-10 with `keras.datasets`, as NHWC floats.

    Keras downloads the data on first use and caches it under `~/.keras/datasets`
    (or `$KERAS_HOME/datasets`).

    Args:
        name: "mnist", "fashion_mnist" or "cifar10".

    Returns:
        `((x_train, y_train), (x_test, y_test))`: `x_*` float32 `(N, H, W, C)` in [0, 1]
        (`(N, 28, 28, 1)` for MNIST and Fashion-MNIST, `(N, 32, 32, 3)` for CIFAR-10),
        `y_*` int64 `(N,)`.

    Raises:
        ValueError: if `name` is not one of the three.
        DatasetUnavailable: if Keras cannot load it (no network and no cached file); the
            message says where to place the file and which offline dataset to use.

    Example:
        >>> (x_train, y_train), _ = load_keras_dataset("mnist")  # doctest: +SKIP
        >>> x_train.shape  # doctest: +SKIP
        (60000, 28, 28, 1)
    """
    if name not in KERAS_DATASETS:
        raise ValueError(
            f"`name` must be one of {tuple(KERAS_DATASETS)}. Received: name={name!r}"
        )
    import importlib

    module = importlib.import_module(f"keras.datasets.{name}")
    try:
        (x_train, y_train), (x_test, y_test) = module.load_data()
    except Exception as error:  # any failure to fetch or read the file: say how to fix it
        raise DatasetUnavailable(_unavailable_message(name, error)) from error
    return _as_nhwc(x_train, y_train), _as_nhwc(x_test, y_test)


def _as_nhwc(x, y):
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., None]                               # (N, H, W) -> (N, H, W, 1)
    elif x.ndim == 4 and x.shape[1] in (1, 3) and x.shape[-1] not in (1, 3):
        x = x.transpose(0, 2, 3, 1)                    # channels_first config: NCHW -> NHWC
    x = (x / 255.0).astype(np.float32)                 # uint8 0..255 -> [0, 1]
    y = np.asarray(y).reshape(-1).astype(np.int64)     # (N, 1) -> (N,)
    return x, y
