"""A procedurally generated dataset of coloured shapes, for CNNs that train in seconds offline.

Each image holds one shape (circle, square, triangle, ...) at a random position, size and
light colour on a plain dark background of a random colour, plus Gaussian pixel noise.
(Light-on-dark keeps it learnable by a tiny CNN in a few epochs: with random contrast
polarity a Conv-pool-Conv-pool-Flatten net needs many more.) Everything is
drawn with NumPy masks over the whole batch at once, and is a pure function of the seed.

`position` restricts where the shapes lie ("left" half, "right" half, ...). Training on
one half and testing on the other shows translation invariance, and where it comes from:
after 8 epochs on 1,500 left-half images, tested on right-half ones (seed 0),

    dense net on flat pixels                 0.33 (chance)
    Conv-pool-Conv-pool + Flatten + Dense    0.33 (the Flatten ties features to places)
    Conv-pool-Conv-pool + GlobalMaxPooling   0.88 (the same features, found anywhere)

while all three reach 0.88-1.00 on new left-half images.

Glossary of shapes:
    N: number of images, S: image size (height = width), K: number of classes.
"""

from __future__ import annotations

import numbers

import numpy as np

SHAPE_CLASSES = ("circle", "square", "triangle")
"""The default classes, in label order: label 0 is a circle, 1 a square, 2 a triangle."""

ALL_SHAPE_CLASSES = ("circle", "square", "triangle", "cross", "ring")
"""Every class `make_shapes` can draw; pass a subset (any order) as `classes`."""

POSITIONS = ("anywhere", "left", "right", "top", "bottom")
"""Where the shapes may lie; a shape always fits entirely inside that region."""

MIN_IMAGE_SIZE = 16

# Half-extent of a shape as a fraction of the image size. The same range for every
# `position`, so that train/test sets drawn in different regions differ only in place.
_MIN_RADIUS, _MAX_RADIUS = 0.17, 0.25


def _validate(n, image_size, noise, classes, position):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"`n` must be a non-negative int. Received: n={n!r}")
    if (
        isinstance(image_size, bool)
        or not isinstance(image_size, (int, np.integer))
        or image_size < MIN_IMAGE_SIZE
    ):
        raise ValueError(
            f"`image_size` must be an int >= {MIN_IMAGE_SIZE} (smaller shapes are not "
            f"recognisable). Received: image_size={image_size!r}"
        )
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not noise >= 0:
        raise ValueError(f"`noise` must be a number >= 0. Received: noise={noise!r}")
    classes = tuple(classes) if not isinstance(classes, str) else (classes,)
    unknown = [c for c in classes if c not in ALL_SHAPE_CLASSES]
    if not classes or unknown or len(set(classes)) != len(classes):
        raise ValueError(
            f"`classes` must be distinct names from {ALL_SHAPE_CLASSES}. "
            f"Received: classes={classes!r}"
        )
    if position not in POSITIONS:
        raise ValueError(f"`position` must be one of {POSITIONS}. Received: position={position!r}")
    return classes


def _region(position, size):
    """`(x_lo, x_hi, y_lo, y_hi)` in pixel-edge coordinates (0 to size)."""
    half = size / 2
    return {
        "anywhere": (0.0, size, 0.0, size),
        "left": (0.0, half, 0.0, size),
        "right": (half, size, 0.0, size),
        "top": (0.0, size, 0.0, half),
        "bottom": (0.0, size, half, size),
    }[position]


def _masks(name, dx, dy, r):
    """Boolean mask of one shape kind for every image; `dx, dy` are `(N, S, S)`, `r` `(N, 1, 1)`."""
    if name == "circle":
        return dx**2 + dy**2 <= r**2
    if name == "square":  # half-side 0.89 r: the same area as the circle
        a = 0.89 * r
        return (np.abs(dx) <= a) & (np.abs(dy) <= a)
    if name == "triangle":  # apex up, base 2r wide at the bottom (y grows downwards)
        return (dy >= -r) & (dy <= r) & (np.abs(dx) <= (dy + r) / 2)
    if name == "cross":  # a plus sign, arms r / 3 thick
        bar = r / 3
        return ((np.abs(dx) <= bar) & (np.abs(dy) <= r)) | ((np.abs(dy) <= bar) & (np.abs(dx) <= r))
    if name == "ring":
        d2 = dx**2 + dy**2
        return (d2 <= r**2) & (d2 >= (0.55 * r) ** 2)
    raise AssertionError(name)  # unreachable: names are validated


def make_shapes(n=1000, image_size=32, seed=0, noise=0.1, classes=SHAPE_CLASSES, position="anywhere"):
    """Draw `n` images, each with one shape on a noisy background.

    Args:
        n: number of images; the classes are balanced (counts differ by at most one).
        image_size: height and width `S` in pixels, at least 16.
        seed: any seed `numpy.random.default_rng` accepts; equal seeds give equal data.
        noise: standard deviation of the Gaussian pixel noise (0 for clean images).
        classes: shape names from `ALL_SHAPE_CLASSES`; label `k` is `classes[k]`.
        position: where shapes lie, one of `POSITIONS`: "anywhere", "left", "right",
            "top" or "bottom" (a half of the image; the shape fits entirely inside it).

    Returns:
        `(x, y)`: `x` float32 `(n, S, S, 3)` in [0, 1] (NHWC, RGB), `y` int64 `(n,)`
        with labels `0 .. len(classes) - 1`.

    Example:
        >>> x, y = make_shapes(6, image_size=16, seed=1)
        >>> x.shape, x.dtype, y.tolist().count(0)
        ((6, 16, 16, 3), dtype('float32'), 2)
    """
    classes = _validate(n, image_size, noise, classes, position)
    rng = np.random.default_rng(seed)
    s, k = int(image_size), len(classes)

    y = rng.permutation(np.arange(n) % k).astype(np.int64)                # (N,)
    r = rng.uniform(_MIN_RADIUS * s, _MAX_RADIUS * s, size=n)             # (N,)
    x_lo, x_hi, y_lo, y_hi = _region(position, s)
    cx = rng.uniform(x_lo + r, x_hi - r)                                  # (N,)
    cy = rng.uniform(y_lo + r, y_hi - r)                                  # (N,)

    # A light shape on a dark background: every channel at least 0.4 brighter.
    fg = rng.uniform(0.7, 1.0, size=(n, 3))                               # (N, 3)
    bg = rng.uniform(0.0, 0.3, size=(n, 3))                               # (N, 3)

    centres = np.arange(s, dtype=np.float32) + 0.5                        # (S,) pixel centres
    dx = centres[None, None, :] - cx[:, None, None].astype(np.float32)    # (N, 1, S)
    dy = centres[None, :, None] - cy[:, None, None].astype(np.float32)    # (N, S, 1)
    dx, dy = np.broadcast_arrays(dx, dy)                                  # (N, S, S) each
    rr = r[:, None, None].astype(np.float32)                              # (N, 1, 1)

    mask = np.zeros((n, s, s), dtype=bool)                                # (N, S, S)
    for label, name in enumerate(classes):
        rows = y == label
        mask[rows] = _masks(name, dx[rows], dy[rows], rr[rows])

    fg, bg = fg.astype(np.float32), bg.astype(np.float32)
    x = np.where(mask[..., None], fg[:, None, None, :], bg[:, None, None, :])  # (N, S, S, 3)
    if noise:
        x += np.float32(noise) * rng.standard_normal(size=x.shape, dtype=np.float32)
    np.clip(x, 0.0, 1.0, out=x)
    return x, y


def load_shapes(
    n_train=1500,
    n_test=500,
    image_size=32,
    seed=0,
    noise=0.1,
    classes=SHAPE_CLASSES,
    train_position="anywhere",
    test_position="anywhere",
):
    """A train/test split of `make_shapes`, the test set drawn from a different seed.

    Args:
        n_train, n_test: numbers of images.
        image_size, noise, classes: as `make_shapes`.
        seed: one seed for both sets; the two sets' seeds are derived from it.
        train_position, test_position: as `make_shapes(position=...)`. Train on "left"
            and test on "right" to see which model generalises to new positions.

    Returns:
        `((x_train, y_train), (x_test, y_test))`, `x_*` float32 `(n, S, S, 3)` in [0, 1],
        `y_*` int64 `(n,)`.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_shapes(30, 12, image_size=16)
        >>> x_train.shape, x_test.shape
        ((30, 16, 16, 3), (12, 16, 16, 3))
    """
    train_seed, test_seed = np.random.SeedSequence(seed).generate_state(2)
    common = dict(image_size=image_size, noise=noise, classes=classes)
    train = make_shapes(n_train, seed=int(train_seed), position=train_position, **common)
    test = make_shapes(n_test, seed=int(test_seed), position=test_position, **common)
    return train, test
