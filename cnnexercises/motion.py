"""Generated video clips of a shape moving left, right, up or down, for models that must use time.

Each clip shows one shape (circle, square, triangle or cross) of a random size, brightness
(or colour) and speed, on a dark background of a random shade, with Gaussian pixel
noise. The shape moves in a straight line and **wraps around** the image edges (leaving on
the left, it comes back on the right). With a uniformly random start, the shape's
position in every frame is uniform whatever the direction: **a single frame says nothing
about the label**; only the order of the frames does. Reversing a clip's frames turns a
"left" clip into a "right" one with the same distribution (and "up" into "down").

Everything is drawn with NumPy masks over the whole batch at once and is a pure function
of the seed (a few thousand 8x32x32 clips take well under a second).

Glossary of shapes:
    N: clips, T: frames per clip, S: frame size (height = width), C: channels.
"""

from __future__ import annotations

import numbers

import numpy as np

from cnnexercises.shapes import _masks

MOTION_CLASSES = ("left", "right", "up", "down")
"""The labels, in order: 0 left, 1 right, 2 up, 3 down."""

OPPOSITE = (1, 0, 3, 2)
"""`OPPOSITE[label]`: the direction of the same clip played backwards."""

_SHAPES = ("circle", "square", "triangle", "cross")
_STEP = {0: (-1, 0), 1: (1, 0), 2: (0, -1), 3: (0, 1)}  # label -> (dx, dy) per frame; y grows downwards
MIN_FRAME_SIZE = 12


def _positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}. Received: {name}={value!r}")
    return int(value)


def make_moving_shapes(n=1000, frames=8, image_size=32, channels=1, seed=0, noise=0.05, speed=(1.0, 2.5)):
    """Draw `n` clips, each of one shape moving in one of four directions.

    Args:
        n: number of clips; the four directions are balanced (counts differ by at most one).
        frames: frames per clip, `T` (at least 2).
        image_size: height and width `S` of a frame, at least 12.
        channels: 1 (grayscale: random brightness) or 3 (RGB: random colour).
        seed: any seed `numpy.random.default_rng` accepts; equal seeds give equal clips.
        noise: standard deviation of the Gaussian pixel noise (0 for clean clips).
        speed: `(low, high)` pixels per frame, drawn uniformly per clip.

    Returns:
        `(x, y)`: `x` float32 `(n, T, S, S, C)` in [0, 1] (channels last, as
        `keras.layers.Conv3D`), `y` int64 `(n,)`: 0 left, 1 right, 2 up, 3 down.

    Example:
        >>> x, y = make_moving_shapes(8, frames=6, image_size=16, seed=1)
        >>> x.shape, x.dtype, sorted(set(y.tolist()))
        ((8, 6, 16, 16, 1), dtype('float32'), [0, 1, 2, 3])
    """
    n = _positive_int(n, "n", 0)
    t = _positive_int(frames, "frames", 2)
    s = _positive_int(image_size, "image_size", MIN_FRAME_SIZE)
    if channels not in (1, 3) or isinstance(channels, bool):
        raise ValueError(f"`channels` must be 1 or 3. Received: channels={channels!r}")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not noise >= 0:
        raise ValueError(f"`noise` must be a number >= 0. Received: noise={noise!r}")
    low, high = (float(v) for v in speed)
    if not 0 < low <= high:
        raise ValueError(f"`speed` must be (low, high) with 0 < low <= high. Received: speed={speed!r}")
    rng = np.random.default_rng(seed)

    y = rng.permutation(np.arange(n) % len(MOTION_CLASSES)).astype(np.int64)  # (N,)
    kind = rng.integers(0, len(_SHAPES), size=n)                              # (N,)
    r = rng.uniform(0.12 * s, 0.2 * s, size=n).astype(np.float32)              # (N,) half-extent
    start = rng.uniform(0, s, size=(n, 2)).astype(np.float32)                  # (N, 2) x, y of frame 0
    v = rng.uniform(low, high, size=n).astype(np.float32)                      # (N,) pixels per frame
    step = np.array([_STEP[int(label)] for label in y], dtype=np.float32).reshape(n, 2)  # (N, 2)
    fg = rng.uniform(0.7, 1.0, size=(n, channels)).astype(np.float32)          # (N, C)
    bg = rng.uniform(0.0, 0.3, size=(n, channels)).astype(np.float32)          # (N, C)

    centres = np.arange(s, dtype=np.float32) + 0.5                             # (S,) pixel centres
    x = np.empty((n, t, s, s, channels), dtype=np.float32)
    rr = r[:, None, None]                                                      # (N, 1, 1)
    for frame in range(t):
        c = start + step * (v * frame)[:, None]                                # (N, 2) centre, unwrapped
        # signed distance on a torus: the shape wraps around the edges
        dx = (centres[None, None, :] - c[:, 0, None, None] + s / 2) % s - s / 2  # (N, 1, S)
        dy = (centres[None, :, None] - c[:, 1, None, None] + s / 2) % s - s / 2  # (N, S, 1)
        dx, dy = np.broadcast_arrays(dx, dy)                                   # (N, S, S) each
        mask = np.zeros((n, s, s), dtype=bool)
        for k, name in enumerate(_SHAPES):
            rows = kind == k
            mask[rows] = _masks(name, dx[rows], dy[rows], rr[rows])
        x[:, frame] = np.where(mask[..., None], fg[:, None, None, :], bg[:, None, None, :])  # (N, S, S, C)
    if noise:
        x += np.float32(noise) * rng.standard_normal(size=x.shape, dtype=np.float32)
    np.clip(x, 0.0, 1.0, out=x)
    return x, y


def load_moving_shapes(n_train=2000, n_test=500, frames=8, image_size=32, channels=1, seed=0, noise=0.05):
    """A train/test split of `make_moving_shapes`, the test clips drawn from a different seed.

    Args:
        n_train, n_test: numbers of clips.
        frames, image_size, channels, noise: as `make_moving_shapes`.
        seed: one seed for both sets; the two sets' seeds are derived from it.

    Returns:
        `((x_train, y_train), (x_test, y_test))`, `x_*` float32 `(n, T, S, S, C)` in [0, 1],
        `y_*` int64 `(n,)` (0 left, 1 right, 2 up, 3 down; see `MOTION_CLASSES`).

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_moving_shapes(40, 12, frames=4, image_size=16)
        >>> x_train.shape, x_test.shape
        ((40, 4, 16, 16, 1), (12, 4, 16, 16, 1))
    """
    train_seed, test_seed = np.random.SeedSequence([seed, 7]).generate_state(2)
    common = dict(frames=frames, image_size=image_size, channels=channels, noise=noise)
    return (
        make_moving_shapes(n_train, seed=int(train_seed), **common),
        make_moving_shapes(n_test, seed=int(test_seed), **common),
    )
