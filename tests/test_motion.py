"""`datasets.load_moving_shapes`: shapes, labels, seeds, motion in the labelled direction, and no
single frame telling the direction; `plotting.clip_strip` and `clip_animation`."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnexercises import datasets, plotting
from cnnexercises.motion import MOTION_CLASSES, OPPOSITE, make_moving_shapes


def centre_steps(x):
    """Per clip, the mean frame-to-frame displacement `(dx, dy)` of the bright pixels, on the torus.

    The displacement between two frames is the shift that best aligns them (circular
    cross-correlation), so a shape crossing an edge does not confuse it.
    """
    n, t, s = x.shape[:3]
    steps = np.zeros((n, 2))
    for k in range(n):
        for f in range(t - 1):
            a = x[k, f, ..., 0] - x[k, f].mean()
            b = x[k, f + 1, ..., 0] - x[k, f + 1].mean()
            corr = np.real(np.fft.ifft2(np.conj(np.fft.fft2(a)) * np.fft.fft2(b)))  # (S, S) over shifts
            dy, dx = np.unravel_index(np.argmax(corr), corr.shape)
            steps[k] += [(dx + s // 2) % s - s // 2, (dy + s // 2) % s - s // 2]
    return steps / (t - 1)


def test_shapes_dtypes_range_and_balanced_labels():
    (x_train, y_train), (x_test, y_test) = datasets.load_moving_shapes(40, 12, frames=5, image_size=16)
    assert x_train.shape == (40, 5, 16, 16, 1) and x_test.shape == (12, 5, 16, 16, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert np.bincount(y_train).tolist() == [10, 10, 10, 10]
    x, _ = make_moving_shapes(8, channels=3, seed=2)
    assert x.shape == (8, 8, 32, 32, 3)


def test_same_seed_same_clips_other_seed_other_clips_and_train_differs_from_test():
    a = datasets.load_moving_shapes(20, 8, seed=3)
    b = datasets.load_moving_shapes(20, 8, seed=3)
    c = datasets.load_moving_shapes(20, 8, seed=4)
    assert np.array_equal(a[0][0], b[0][0]) and np.array_equal(a[1][1], b[1][1])
    assert not np.array_equal(a[0][0], c[0][0])
    assert not np.array_equal(a[0][0][:8], a[1][0][:8])


def test_each_clip_moves_in_its_labelled_direction_and_backwards_in_the_opposite_one():
    x, y = make_moving_shapes(64, frames=6, image_size=24, seed=5, noise=0.0)
    expected = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)])[y]  # left, right, up (y grows down), down
    steps = centre_steps(x)
    assert np.all(np.sign(np.round(steps)) == expected), steps[np.any(np.sign(np.round(steps)) != expected, axis=1)]
    backwards = centre_steps(x[:, ::-1])
    assert np.all(np.sign(np.round(backwards)) == np.array([(-1, 0), (1, 0), (0, -1), (0, 1)])[np.array(OPPOSITE)[y]])
    assert np.all((np.abs(steps).max(axis=1) >= 0.5) & (np.abs(steps).max(axis=1) <= 3.0))


def test_a_single_frame_says_nothing_about_the_direction():
    """Where the shape is in any one frame does not depend on the label: with the shape anywhere
    (wrapping around), the per-label mean brightness of every pixel of a frame is the same."""
    x, y = make_moving_shapes(4000, frames=4, image_size=12, seed=6, noise=0.0)
    for frame in (0, 3):
        means = np.stack([x[y == label, frame, ..., 0].mean(axis=0) for label in range(4)])  # (4, S, S)
        spread = means.max(axis=0) - means.min(axis=0)
        # sampling noise of a mean over 1000 clips is ~0.01 per pixel; a position bias would be ~0.3
        assert spread.max() < 0.08, spread.max()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"frames": 1}, r"`frames` must be an int >= 2. Received: frames=1"),
        ({"image_size": 8}, r"Received: image_size=8"),
        ({"channels": 2}, r"`channels` must be 1 or 3. Received: channels=2"),
        ({"noise": -1}, r"Received: noise=-1"),
        ({"speed": (2, 1)}, r"Received: speed=\(2, 1\)"),
    ],
)
def test_bad_arguments_are_refused_with_keras_style_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_moving_shapes(4, **kwargs)


def test_labels_are_named_in_order():
    assert MOTION_CLASSES == ("left", "right", "up", "down") == datasets.MOTION_CLASSES
    assert [MOTION_CLASSES[o] for o in OPPOSITE] == ["right", "left", "down", "up"]


# --------------------------------------------------------------------------- plotting


def test_clip_strip_is_a_figure_with_one_titled_axes_per_frame():
    x, y = make_moving_shapes(2, frames=5, image_size=16, seed=1)
    fig = plotting.clip_strip(x[0], title=MOTION_CLASSES[y[0]])
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == [f"t={t}" for t in range(5)]
    assert fig._suptitle.get_text() == MOTION_CLASSES[y[0]]
    assert len(plotting.clip_strip(np.zeros((30, 8, 8)), max_frames=6).axes) == 6


def test_clip_animation_shows_itself_as_html_and_saves_a_gif(tmp_path):
    x, _ = make_moving_shapes(1, frames=4, image_size=16, seed=1, channels=3)
    anim = plotting.clip_animation(x[0], title="clip")
    html = anim._repr_html_()
    assert "<script" in html and "anim" in html.lower()
    anim.save(tmp_path / "clip.gif")
    from PIL import Image

    with Image.open(tmp_path / "clip.gif") as gif:
        assert gif.n_frames == 4


def test_clip_plots_refuse_a_batch_of_clips():
    with pytest.raises(ValueError, match=r"Received: clip.shape=\(2, 4, 8, 8, 1\)"):
        plotting.clip_strip(np.zeros((2, 4, 8, 8, 1)))
