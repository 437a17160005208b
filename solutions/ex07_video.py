# %% [markdown]
# # Exercise 7 — Video: motion needs time
#
# Everything so far looked at one image at a time. Much of what we want from cameras is
# about **change**: is this person waving or falling, where is that car going? In this
# exercise a network has to tell which way a shape moves, which no single frame can show.
# You will
#
# 1. count the parameters of a 3D convolution, the layer that slides over time too
#    (`conv3d_params`),
# 2. watch a frame-by-frame CNN fail on motion,
# 3. build a classifier that uses time (`build_video_classifier`), trained inside a
#    distribution strategy, and check that it reads the clip *in order*.
#
# **Shapes.** A batch of clips is `(N, T, H, W, C)`, channels last, as
# `keras.layers.Conv3D` expects:
#
# | symbol | meaning |
# |---|---|
# | `N` | batch (clips) |
# | `T` | frames per clip |
# | `H`, `W`, `C` | height, width and channels of a frame |
# | `kt`, `kh`, `kw` | a 3D kernel's extent in time, height and width |
# | `F` | filters |
# | `K` | classes |
#
# ## A tour of vision tasks: what each network outputs
#
# The same convolutional building blocks serve very different questions; what changes is
# the **output** (and the loss that compares it with the labels):
#
# | task | question | output for one input |
# |---|---|---|
# | classification | what is in the image? | `(K,)` class probabilities |
# | detection | what is where? | a list of boxes `(x, y, w, h)`, each with class probabilities and a score |
# | semantic segmentation | which class is each pixel? | `(H, W, K)`: class probabilities per pixel |
# | pose estimation | where are the joints? | `(J, 2)` keypoint coordinates, or `(H, W, J)` heatmaps, one per joint |
# | activity recognition | what happens in the clip? | `(K,)` for the whole clip `(T, H, W, C)` |
# | tracking | where is each object in every frame? | per frame: boxes plus an identity that stays the same from frame to frame |
#
# Exercises 4 and 5 did classification. Here you do the simplest activity recognition:
# the "activity" is the direction of motion, and the input is a clip.

# %%
import numpy as np
import keras
from keras import layers

from autograder.notebook import Feedback
from cnnexercises import datasets, distribute, plotting

feedback = Feedback("ex07_video", globals())

# %% [markdown]
# ## The data: shapes that move
#
# `datasets.load_moving_shapes` draws clips of one shape (circle, square, triangle or
# cross) of random size, brightness and speed, moving **left (0), right (1), up (2) or
# down (3)** on a noisy background. The shape wraps around the edges, and it starts
# anywhere: in any single frame, it is equally likely to be anywhere, whatever its
# direction. **One frame says nothing about the label.** Only comparing frames, in their
# order, does.

# %%
(x_train, y_train), (x_test, y_test) = datasets.load_moving_shapes(
    n_train=1024, n_test=400, frames=6, image_size=16, seed=0
)
print(x_train.shape, y_train.shape, datasets.MOTION_CLASSES)  # (1024, 6, 16, 16, 1) (1024,)
plotting.clip_strip(x_train[0], title=datasets.MOTION_CLASSES[y_train[0]])

# %%
plotting.clip_strip(x_train[1], title=datasets.MOTION_CLASSES[y_train[1]])

# %% [markdown]
# The same clip as an animation (press play):

# %%
plotting.clip_animation(x_train[0], title=datasets.MOTION_CLASSES[y_train[0]])

# %% [markdown]
# ## 3D convolution
#
# A `Conv2D` kernel covers `kh × kw` pixels of all `C` channels. A `Conv3D` kernel also
# covers `kt` consecutive **frames**: it slides over time, height and width, and can
# respond to a pattern that *changes* from frame to frame, for instance "bright here, then
# bright one pixel to the right". With `padding="same"` the output keeps `T`, `H` and `W`:
#
# $$out[n, t, i, j, f] = b_f + \sum_{a, u, v, c} x[n,\ t + a,\ i + u,\ j + v,\ c] \cdot K[a, u, v, c, f]$$
#
# ### 1. `conv3d_params`
#
# Count the parameters of `keras.layers.Conv3D(filters, kernel_size, use_bias=use_bias)`
# on an input with `input_channels` channels, as exercise 3 did for `Conv2D`. An int
# `kernel_size=k` means `(k, k, k)`; a triple is `(kt, kh, kw)`. Return an `int`.

# %%
def to_triple(value, name):
    """`3` -> `(3, 3, 3)`; `(1, 3, 3)` -> `(1, 3, 3)`. Raises ValueError unless positive ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        triple = (int(value),) * 3
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 3
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        triple = tuple(int(v) for v in value)
    else:
        triple = None
    if triple is None or min(triple) < 1:
        raise ValueError(f"`{name}` must be a positive int or three of them. Received: {name}={value!r}")
    return triple


def conv3d_params(kernel_size, input_channels, filters, use_bias=True):
    """The number of parameters of `keras.layers.Conv3D(filters, kernel_size, use_bias=use_bias)`.

    Args:
        kernel_size: int or `(kt, kh, kw)`.
        input_channels: `C`, channels of the layer's input.
        filters: `F`.
        use_bias: one bias per filter when True.

    Returns:
        An int: `kt * kh * kw * C * F + (F if use_bias else 0)`.

    Example:
        >>> conv3d_params(3, 1, 8)
        224
    """
    k_t, k_h, k_w = to_triple(kernel_size, "kernel_size")
    ### BEGIN SOLUTION
    weights = k_t * k_h * k_w * input_channels * filters  # F kernels of shape (kt, kh, kw, C)
    biases = filters if use_bias else 0  # one per filter, shared by every frame and position
    return int(weights + biases)
    ### END SOLUTION


# %%
feedback.check("conv3d_params")

# %% [markdown]
# ## A CNN that looks at frames one at a time cannot tell left from right
#
# `layers.TimeDistributed(layer)` applies the same 2D layer to every frame. The network
# below finds the shape in each frame, then pools over time and space: it knows *what* is
# in the clip and, at best, along which *axis* it moved (the frames, as a set, show where
# the shape went), but pooling has thrown away *in which order* things happened. A clip
# played backwards is a clip of the opposite direction, with the same frames: such a model
# can never do better than guessing the sign, 50 % at the very most. Trained here, it stays
# well below that (chance for four directions is 25 %).
#
# `distribute.setup(seed)` seeds everything and returns the distribution strategy (every
# GPU there is, or the CPU): build models inside `strategy.scope()`, and the same cell
# trains on one CPU or on eight GPUs.

# %%
strategy = distribute.setup(seed=0)
print("replicas:", strategy.num_replicas_in_sync)


def build_frame_cnn(input_shape, num_classes):
    """A per-frame CNN pooled over time: it cannot know the order of the frames."""
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(input_shape)),                                    # (N, T, H, W, C)
            layers.TimeDistributed(layers.Conv2D(16, 3, padding="same", activation="relu")),  # (N, T, H, W, 16)
            layers.TimeDistributed(layers.MaxPooling2D(2)),                           # (N, T, H/2, W/2, 16)
            layers.TimeDistributed(layers.Conv2D(16, 3, padding="same", activation="relu")),  # (N, T, H/2, W/2, 16)
            layers.GlobalMaxPooling3D(),                                              # (N, 16): order forgotten
            layers.Dense(num_classes, activation="softmax"),                          # (N, K)
        ],
        name="frame_cnn",
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


with strategy.scope():
    frame_cnn = build_frame_cnn(x_train.shape[1:], 4)
frame_cnn.fit(x_train, y_train, epochs=3, batch_size=32, verbose=0)
print(f"per-frame CNN, test accuracy: {frame_cnn.evaluate(x_test, y_test, verbose=0)[1]:.2f}  "
      "(chance: 0.25; without the order of the frames, 0.50 at most)")

# %% [markdown]
# ### 2. `build_video_classifier`
#
# Build and **compile** a classifier of clips `input_shape = (T, H, W, C)` into
# `num_classes` classes that uses the order of time. Two classic designs:
#
# * **3D convolutions**: `layers.Conv3D(F, (3, 3, 3), padding="same", activation="relu")`,
#   `layers.MaxPooling3D((1, 2, 2))` (pool space, keep time), another `Conv3D`, then
#   `layers.GlobalMaxPooling3D()` and `Dense(num_classes, activation="softmax")`;
# * **a per-frame CNN, then a temporal layer**: `TimeDistributed(Conv2D ...)` and
#   `TimeDistributed(MaxPooling2D(2))`, then `TimeDistributed(Flatten())` gives one feature
#   vector per frame, `(N, T, D)`, read in order by `layers.Conv1D(F, 3)` over time (then
#   `layers.GlobalMaxPooling1D()`). A `layers.GRU` or `LSTM` works too, but learns more
#   slowly than the grader's 3 epochs allow. The per-frame features must keep *where* the
#   shape is: a global pooling per frame throws the position away, and with it the motion.
#
# Compile as in exercise 4: a loss for integer labels that agrees with the last layer, and
# `metrics=["accuracy"]`.
#
# What the grader checks:
#
# * the output is `(batch, num_classes)` for other shapes and class counts;
# * the model is compiled with a loss that agrees with the last layer, and the accuracy metric;
# * it learns: the grader builds `build_video_classifier((6, 16, 16, 1), 4)` inside the
#   distribution strategy, trains it for **3 epochs** (batch size 32) on **1,024** clips it
#   generates, and expects at least **55 %** accuracy on 400 other clips (more than a model
#   blind to the order of the frames can ever reach; the design above gets 95 % or more);
# * it reads time in order: played **backwards**, a "left" clip is a "right" clip, so of
#   the held-out clips it predicts right, for at least **45 %** the predicted direction
#   must flip when the clip is played backwards (left ↔ right, up ↔ down).
#
# Keep it small: a few thousand parameters train in seconds on a CPU.

# %%
def check_arguments(input_shape, num_classes):
    """Raise ValueError unless `input_shape` is `(T, H, W, C)` and `num_classes` an int >= 2."""
    if (
        not isinstance(input_shape, (tuple, list))
        or len(input_shape) != 4
        or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in input_shape)
    ):
        raise ValueError(
            "`input_shape` must be (frames, height, width, channels), four positive ints. "
            f"Received: input_shape={input_shape!r}"
        )
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"`num_classes` must be an int >= 2. Received: num_classes={num_classes!r}")


def build_video_classifier(input_shape=(8, 32, 32, 1), num_classes=4):
    """A small compiled classifier of clips that uses the order of the frames.

    Args:
        input_shape: `(T, H, W, C)` of one clip (no batch axis).
        num_classes: `K`, the number of classes.

    Returns:
        A compiled `keras.Model` mapping `(N, T, H, W, C)` clips to `(N, K)` class scores,
        for integer labels, with `metrics=["accuracy"]`.

    Example:
        >>> build_video_classifier((6, 16, 16, 1), 4).output_shape  # doctest: +SKIP
        (None, 4)
    """
    check_arguments(input_shape, num_classes)
    ### BEGIN SOLUTION
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(input_shape)),                             # (N, T, H, W, C)
            layers.Conv3D(8, (3, 3, 3), padding="same", activation="relu"),    # (N, T, H, W, 8): 3 frames at once
            layers.MaxPooling3D((1, 2, 2)),                                    # (N, T, H/2, W/2, 8): time kept
            layers.Conv3D(16, (3, 3, 3), padding="same", activation="relu"),   # (N, T, H/2, W/2, 16)
            layers.GlobalMaxPooling3D(),                                       # (N, 16): strongest motion answer
            layers.Dense(num_classes, activation="softmax"),                   # (N, K) probabilities
        ],
        name="video_classifier",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=3e-3),
        loss="sparse_categorical_crossentropy",  # integer labels, probabilities in
        metrics=["accuracy"],
    )
    return model
    ### END SOLUTION


# %%
feedback.check("build_video_classifier")

# %% [markdown]
# ## Train it, in the strategy's scope
#
# The same lines as for the per-frame CNN. Then the test the grader makes: play every test
# clip backwards and see whether the predicted direction flips.

# %%
with feedback.needs("build_video_classifier"):
    distribute.set_seed(0)
    with strategy.scope():
        video_model = build_video_classifier(x_train.shape[1:], 4)
    video_model.summary()
    history = video_model.fit(x_train, y_train, epochs=3, batch_size=32, validation_split=0.1, verbose=0)
    print(f"your model, test accuracy: {video_model.evaluate(x_test, y_test, verbose=0)[1]:.2f}")
    forwards = video_model.predict(x_test, verbose=0).argmax(axis=1)
    backwards = video_model.predict(x_test[:, ::-1], verbose=0).argmax(axis=1)
    right = forwards == y_test
    flipped = np.mean(backwards[right] == np.array(datasets.OPPOSITE)[forwards[right]])
    print(f"played backwards, {flipped:.0%} of the clips it gets right flip direction")

# %%
with feedback.needs("build_video_classifier"):
    plotting.training_curves(history)

# %%
with feedback.needs("build_video_classifier"):
    plotting.confusion_matrix(y_test, forwards, class_names=datasets.MOTION_CLASSES)

# %% [markdown]
# ## All checks
#
# Run this last: it prints every public check of the exercise and your score.

# %%
feedback.summary()
