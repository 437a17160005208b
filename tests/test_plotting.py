"""Do the plots hold what they claim? Rendered headless; axes, images, titles and numbers checked."""

import math
import types

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cnnexercises import plotting  # noqa: E402


def _render(fig):
    """Draw the figure (catches layout/drawing errors) and return it."""
    assert isinstance(fig, Figure)
    fig.canvas.draw()
    return fig


def _patches(ax, label):
    return [p for p in ax.patches if p.get_label() == label]


def _image_data(ax, index=0):
    return np.asarray(ax.get_images()[index].get_array())


def _texts(ax):
    return [t.get_text() for t in ax.texts]


@pytest.fixture(autouse=True)
def no_pyplot_figures_left_behind():
    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before, "a plotting function registered a pyplot figure"


# ----------------------------------------------------------------------------- kernel_sweep


def test_kernel_sweep_example_from_the_docs_titles_the_output_size_by_the_formula():
    fig = _render(plotting.kernel_sweep(input_size=(7, 7), kernel_size=3, strides=2, padding=1))
    title = fig.texts[0].get_text()
    assert "output 4×4" in title
    assert "out_h = (7 + 2 − 3) // 2 + 1 = 4" in title and "out_w = (7 + 2 − 3) // 2 + 1 = 4" in title
    assert len(fig.axes) == 9  # 16 positions, at most 9 frames by default
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("out[0, 0] ← rows -1..1, cols -1..1")
    assert titles[-1].startswith("out[3, 3] ← rows 5..7, cols 5..7")


def test_kernel_window_moves_by_the_strides_and_fills_the_matching_output_cell():
    # 5×6 input, 2×3 kernel, strides (1, 2), valid: output 4×2, all 8 positions drawn.
    fig = _render(plotting.kernel_sweep((5, 6), (2, 3), strides=(1, 2), padding="valid", max_frames=8))
    assert len(fig.axes) == 8
    wp = 6
    for order, ax in enumerate(fig.axes):
        i, j = divmod(order, 2)
        [window] = _patches(ax, "kernel")
        assert window.get_xy() == (j * 2, i * 1)
        assert (window.get_width(), window.get_height()) == (3, 2)
        [cell] = _patches(ax, "output cell")
        assert cell.get_xy()[0] == pytest.approx(wp + 1.5 + j)
        # The output grid shades the cells computed before this one, and marks this one.
        done = _image_data(ax, 1)
        assert done.shape == (4, 2)
        assert done[i, j] == 2 and np.count_nonzero(done == 1) == order


@pytest.mark.parametrize(
    "size, kernel, strides, padding, expected",
    [
        ((7, 7), 3, 2, 1, (4, 4)),
        ((6, 5), (4, 3), 1, "same", (6, 5)),
        ((9, 8), 3, (2, 3), "same", (5, 3)),   # ceil(9 / 2), ceil(8 / 3)
        ((10, 7), (3, 2), (3, 2), "valid", (3, 3)),
        ((5, 5), 2, 2, (1, 0), (3, 2)),
    ],
)
def test_kernel_sweep_output_size_equals_the_number_of_window_positions(size, kernel, strides, padding, expected):
    fig = plotting.kernel_sweep(size, kernel, strides=strides, padding=padding, max_frames=100)
    assert f"output {expected[0]}×{expected[1]}" in fig.texts[0].get_text()
    assert len(fig.axes) == expected[0] * expected[1]
    # Brute force: every frame's window lies inside the padded input.
    done = _image_data(fig.axes[0], 1)
    assert done.shape == expected
    padded_h, padded_w = _image_data(fig.axes[0], 0).shape
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    for ax in fig.axes:
        [window] = _patches(ax, "kernel")
        x, y = window.get_xy()
        assert 0 <= x and x + kw <= padded_w and 0 <= y and y + kh <= padded_h


def test_same_padding_puts_the_odd_extra_row_and_column_at_the_bottom_right():
    fig = plotting.kernel_sweep((6, 5), (4, 2), padding="same", max_frames=1)
    assert "same (top 1, bottom 2, left 0, right 1)" in fig.texts[0].get_text()
    [inside] = _patches(fig.axes[0], "input")
    assert inside.get_xy() == (0, 1) and (inside.get_width(), inside.get_height()) == (5, 6)
    cells = _image_data(fig.axes[0])
    assert cells.shape == (9, 6)
    assert np.all(cells[1:7, 0:5] == 1) and cells[0].max() == 0 and cells[7:].max() == 0 and cells[:, 5].max() == 0
    assert "0" in _texts(fig.axes[0])  # padding cells are labelled with their value


def test_kernel_sweep_draws_a_given_image_inside_the_padding():
    image = np.arange(20, dtype=np.float32).reshape(4, 5) / 19
    fig = _render(plotting.kernel_sweep(kernel_size=3, padding=1, image=image, max_frames=2))
    cells = _image_data(fig.axes[0])
    np.testing.assert_allclose(cells[1:5, 1:6], image)
    assert cells[0].max() == 0 and cells.std() > 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_size": (3, 3), "kernel_size": 5}, r"kernel is larger than the padded input"),
        ({"input_size": (5, 5), "padding": "full"}, r"`padding` must be 'valid', 'same'.*Received: padding='full'"),
        ({"input_size": (5, 5), "padding": -1}, r"Received: padding=-1"),
        ({"input_size": (5, 5), "strides": 0}, r"`strides` must be a positive int.*Received: strides=0"),
        ({"input_size": (5, 5, 3)}, r"`input_size` must be .*Received: input_size=\(5, 5, 3\)"),
        ({"input_size": (4, 4), "image": np.zeros((5, 5))}, r"`input_size` must match `image.shape`"),
        ({}, r"Pass `input_size` or `image`"),
    ],
)
def test_kernel_sweep_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plotting.kernel_sweep(**kwargs)


# ----------------------------------------------------------------------------- filters


def test_filters_from_an_array_draws_each_filter_scaled_to_its_range():
    kernel = np.random.default_rng(0).normal(size=(3, 4, 3, 10)).astype(np.float32)
    fig = _render(plotting.filters(kernel, max_filters=4))
    assert len(fig.axes) == 4
    for f, ax in enumerate(fig.axes):
        drawn = _image_data(ax)
        w = kernel[..., f]
        np.testing.assert_allclose(drawn, (w - w.min()) / (w.max() - w.min()), atol=1e-6)
        assert ax.get_title() == str(f)
    assert "10 filters 3×4×3" in fig.texts[0].get_text() and "showing 4" in fig.texts[0].get_text()


@pytest.mark.parametrize("channels, shape", [(1, (5, 5)), (2, (5, 5)), (3, (5, 5, 3))])
def test_filters_are_gray_for_one_channel_rgb_for_three_and_the_mean_otherwise(channels, shape):
    kernel = np.random.default_rng(1).normal(size=(5, 5, channels, 2))
    fig = plotting.filters(kernel)
    assert len(fig.axes) == 2 and _image_data(fig.axes[0]).shape == shape
    if channels == 2:
        mean = kernel[..., 1].mean(axis=-1)
        np.testing.assert_allclose(_image_data(fig.axes[1]), (mean - mean.min()) / np.ptp(mean), atol=1e-6)


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def tiny_cnn(keras):
    keras.utils.set_random_seed(0)
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((12, 10, 3)),
            layers.Rescaling(1.0),
            layers.Conv2D(5, 3, activation="relu", name="conv_a"),
            layers.MaxPooling2D(2, name="pool_a"),
            layers.Conv2D(3, 3, name="conv_b"),
            layers.Flatten(),
            layers.Dense(2),
        ],
        name="tiny",
    )


def test_filters_of_a_model_are_its_first_conv2d_kernel(tiny_cnn, keras):
    fig = plotting.filters(tiny_cnn)
    assert len(fig.axes) == 5
    assert "layer 'conv_a'" in fig.texts[0].get_text()
    kernel = tiny_cnn.get_layer("conv_a").kernel.numpy()
    w = kernel[..., 4]
    np.testing.assert_allclose(_image_data(fig.axes[4]), (w - w.min()) / np.ptp(w), atol=1e-6)


def test_filters_finds_the_conv_layer_inside_a_nested_model(tiny_cnn, keras):
    outer = keras.Sequential([keras.Input((12, 10, 3)), tiny_cnn, keras.layers.Dense(1)])
    assert "layer 'conv_a'" in plotting.filters(outer).texts[0].get_text()


def test_filters_rejects_a_model_without_conv_and_a_kernel_of_the_wrong_rank(keras):
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)], name="mlp")
    with pytest.raises(ValueError, match=r"no Conv2D layer.*Received: model='mlp'"):
        plotting.filters(dense)
    with pytest.raises(ValueError, match=r"Received: kernel.shape=\(3, 3, 8\)"):
        plotting.filters(np.zeros((3, 3, 8)))


# ----------------------------------------------------------------------------- feature_maps


def test_feature_maps_draws_the_input_then_each_conv_and_pool_output(tiny_cnn, keras):
    image = np.random.default_rng(2).random((12, 10, 3)).astype(np.float32)
    fig = _render(plotting.feature_maps(tiny_cnn, image, max_maps=4))
    # input + 4 of conv_a's 5 maps + 4 of pool_a's 5 + all 3 of conv_b's
    assert len(fig.axes) == 1 + 4 + 4 + 3
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert "conv_a (10, 8, 5)" in titles and "pool_a (5, 4, 5)" in titles and "conv_b (3, 2, 3)" in titles
    np.testing.assert_allclose(_image_data(fig.axes[0]), image)
    # An independent forward pass through the first layers gives the drawn maps.
    conv_a = keras.ops.convert_to_numpy(tiny_cnn.get_layer("conv_a")(image[None]))[0]
    for c in range(4):
        m = conv_a[..., c]
        expected = (m - m.min()) / np.ptp(m) if np.ptp(m) > 0 else np.zeros_like(m)
        np.testing.assert_allclose(_image_data(fig.axes[1 + c]), expected, atol=1e-5)


def test_feature_maps_of_chosen_layers_only(tiny_cnn):
    fig = plotting.feature_maps(tiny_cnn, np.ones((1, 12, 10, 3)), layers=["conv_b"], max_maps=8)
    assert len(fig.axes) == 1 + 3
    with pytest.raises(ValueError, match=r"No layer named 'conv_z'.*'conv_a'"):
        plotting.feature_maps(tiny_cnn, np.ones((12, 10, 3)), layers=["conv_z"])
    with pytest.raises(ValueError, match=r"`image` must be one image.*Received: image.shape=\(2, 12, 10, 3\)"):
        plotting.feature_maps(tiny_cnn, np.ones((2, 12, 10, 3)))


# ----------------------------------------------------------------------------- training_curves

HISTORY = {
    "loss": [1.2, 0.8, 0.5],
    "accuracy": [0.4, 0.7, 0.85],
    "val_loss": [1.3, 0.9, 0.7],
    "val_accuracy": [0.35, 0.6, 0.75],
}


def test_training_curves_plot_train_and_validation_per_quantity():
    fig = _render(plotting.training_curves(HISTORY))
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax, name in zip(fig.axes, ["loss", "accuracy"]):
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert set(lines) == {"train", "validation"}
        np.testing.assert_allclose(lines["train"].get_ydata(), HISTORY[name])
        np.testing.assert_allclose(lines["validation"].get_ydata(), HISTORY[f"val_{name}"])
        np.testing.assert_array_equal(lines["train"].get_xdata(), [1, 2, 3])
        assert ax.get_xlabel() == "epoch"


def test_training_curves_accept_a_history_object_and_missing_validation():
    history = types.SimpleNamespace(history={"loss": [2.0, 1.0]})
    fig = plotting.training_curves(history)
    assert len(fig.axes) == 1 and [line.get_label() for line in fig.axes[0].get_lines()] == ["train"]
    with pytest.raises(ValueError, match=r"`history` must be the History"):
        plotting.training_curves({})


# ----------------------------------------------------------------------------- confusion matrix


def test_confusion_counts_match_scikit_learn():
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    np.testing.assert_array_equal(
        plotting.confusion_counts(y_true, y_pred, 4), sk_confusion_matrix(y_true, y_pred, labels=range(4))
    )


def test_confusion_matrix_writes_every_count_in_its_cell_and_the_accuracy():
    y_true = [0, 0, 1, 1, 1, 2]
    scores = np.eye(3)[[0, 1, 1, 1, 2, 0]] * 0.8 + 0.05  # argmax -> [0, 1, 1, 1, 2, 0]
    fig = _render(plotting.confusion_matrix(np.eye(3)[y_true], scores, class_names=["cat", "dog", "fox"]))
    ax = fig.axes[0]
    expected = np.array([[1, 1, 0], [0, 2, 1], [1, 0, 0]])
    np.testing.assert_array_equal(_image_data(ax), expected)
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): int(t.get_text()) for t in ax.texts}
    assert cells == {(r, c): int(expected[r, c]) for r in range(3) for c in range(3)}
    assert ax.get_title() == "accuracy 0.500 (3 of 6)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "fox"]
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"


def test_confusion_matrix_rejects_mismatched_lengths_and_labels_beyond_class_names():
    with pytest.raises(ValueError, match=r"one label per example.*y_true has 3, y_pred has 2"):
        plotting.confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"below num_classes.*num_classes=2, largest label=2"):
        plotting.confusion_matrix([0, 1, 2], [0, 1, 1], class_names=["a", "b"])


# ----------------------------------------------------------------------------- predictions


def test_predictions_mark_exactly_the_wrong_ones_in_red():
    rng = np.random.default_rng(4)
    images = rng.random((8, 6, 7, 3)).astype(np.float32)
    y_true = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    y_pred = np.array([0, 2, 2, 1, 1, 2, 0, 0])
    fig = _render(plotting.predictions(images, y_true, y_pred, class_names=["a", "b", "c"], n=6))
    assert len(fig.axes) == 6
    wrong = [ax.get_title().startswith("✗") for ax in fig.axes]
    assert wrong == [False, True, False, True, False, False]
    for ax, is_wrong in zip(fig.axes, wrong):
        assert (ax.title.get_color() == "red") == is_wrong
    assert fig.axes[1].get_title() == "✗ c (b)"
    np.testing.assert_allclose(_image_data(fig.axes[2]), images[2])
    assert fig.texts[0].get_text() == "predicted (true): 2 of 6 wrong"


def test_predictions_wrong_first_and_scores_in_titles():
    images = np.zeros((4, 5, 5, 1))
    scores = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.2, 0.8]])
    fig = plotting.predictions(images, [0, 0, 0, 1], scores, n=4, wrong_first=True)
    assert [ax.get_title() for ax in fig.axes] == ["✗ 1 0.70 (0)", "0 0.90 (0)", "0 0.60 (0)", "1 0.80 (1)"]
    assert _image_data(fig.axes[0]).shape == (5, 5)


# ----------------------------------------------------------------------------- conv_output


def test_conv_output_shows_image_kernel_and_signed_output_side_by_side():
    rng = np.random.default_rng(5)
    image = rng.random((20, 30)).astype(np.float32)
    kernel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    output = rng.normal(size=(1, 18, 28, 1))
    fig = _render(plotting.conv_output(image, kernel[:, :, None, None], output))
    ax_image, ax_kernel, ax_output = fig.axes[:3]
    assert len(fig.axes) == 4  # the three panels and the output's colour bar
    assert ax_image.get_title() == "image (20, 30)"
    assert ax_kernel.get_title() == "kernel (3, 3, 1, 1)"
    assert ax_output.get_title() == "output (1, 18, 28, 1)"
    np.testing.assert_allclose(_image_data(ax_image), image)
    np.testing.assert_allclose(_image_data(ax_output), output[0, ..., 0])
    assert _texts(ax_kernel) == ["1", "0", "-1", "2", "0", "-2", "1", "0", "-1"]
    low, high = ax_output.get_images()[0].get_clim()
    assert low == -high  # zero response is the middle of the colour map


def test_conv_output_rejects_a_multichannel_output():
    with pytest.raises(ValueError, match=r"`output` must have a single channel.*\(5, 5, 3\)"):
        plotting.conv_output(np.zeros((7, 7)), np.ones((3, 3)), np.zeros((5, 5, 3)))


def test_every_figure_saves_as_png(tmp_path):
    figures = [
        plotting.kernel_sweep(5, 3),
        plotting.training_curves(HISTORY),
        plotting.confusion_matrix([0, 1], [1, 1]),
        plotting.filters(np.ones((3, 3, 1, 2))),
    ]
    for k, fig in enumerate(figures):
        path = tmp_path / f"{k}.png"
        fig.savefig(path)
        assert path.stat().st_size > 1000
    assert math.isfinite(figures[0].get_size_inches()[0])


# ----------------------------------------------------------------------------- BGR inputs (VGG16)


def test_filters_of_a_bgr_network_are_drawn_in_rgb():
    kernel = np.zeros((3, 3, 3, 1))
    kernel[..., 2, 0] = 1.0  # the filter answers to channel 2: red in a BGR input
    kernel[0, 0, 0, 0] = -1.0  # something to scale against
    rgb = _image_data(_render(plotting.filters(kernel)).axes[0])
    bgr = _image_data(_render(plotting.filters(kernel, channel_order="bgr")).axes[0])
    assert np.allclose(bgr, rgb[..., ::-1])
    assert bgr[1, 1, 0] == 1.0 and bgr[1, 1, 2] < 1.0  # red where the filter is positive
    with pytest.raises(ValueError, match="channel_order"):
        plotting.filters(kernel, channel_order="gbr")


def test_feature_maps_draw_a_bgr_input_in_its_true_colours():
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((6, 5, 3)), keras.layers.Conv2D(2, 3)])
    image = np.zeros((6, 5, 3), dtype=np.float32)
    image[..., 0] = 1.0  # all blue in BGR
    shown = _image_data(_render(plotting.feature_maps(model, image, channel_order="bgr")).axes[0])
    assert shown[..., 2].min() == 1.0 and shown[..., 0].max() == 0.0  # drawn blue
