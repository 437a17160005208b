# %% [markdown]
# # Exercise 4 — A convolutional network in Keras
#
# In exercises 1 to 3 you wrote convolution and pooling by hand and counted their
# parameters. Now you let Keras do the arithmetic and concentrate on the design: which
# layers, in which order, with which output layer and loss. You will
#
# 1. write `build_cnn`, a small CNN that the grader trains and scores itself,
# 2. train it on handwritten digits inside a *distribution strategy*,
# 3. see why a CNN beats a dense network on images, with shapes that move around,
# 4. look inside the trained network: its filters and its feature maps.
#
# **Shapes.** As before, everything is channels last:
#
# | symbol | meaning |
# |---|---|
# | `N` | batch |
# | `H`, `W`, `C` | height, width, channels of an image |
# | `F` | filters of a convolution |
# | `K` | classes |

# %%
import numpy as np
import keras
from keras import layers

from autograder.notebook import Feedback
from cnnexercises import datasets, distribute, plotting

feedback = Feedback("ex04_keras_cnn", globals())

# %% [markdown]
# ## The building blocks
#
# | layer | what it does | output |
# |---|---|---|
# | `keras.Input(shape=(H, W, C))` | declares the input (no batch axis) | `(N, H, W, C)` |
# | `layers.Conv2D(F, kernel_size, activation="relu")` | your `conv2d` + bias + ReLU | `(N, H', W', F)` |
# | `layers.MaxPooling2D(2)` | your `max_pooling2d` | `(N, H'/2, W'/2, F)` |
# | `layers.Flatten()` | lines the feature maps up | `(N, H' W' F)` |
# | `layers.GlobalAveragePooling2D()` | one average per channel | `(N, F)` |
# | `layers.Dense(units, activation=...)` | fully connected | `(N, units)` |
#
# A classic CNN stacks a few *convolution → pooling* blocks (the feature maps get smaller
# and deeper), flattens, and ends with one or two dense layers. The last one has one unit
# per class.
#
# `Conv2D(32, 3, activation="relu")` and `Conv2D(32, 3)` followed by `layers.ReLU()`
# compute the same thing; use whichever you like.
#
# ## The output layer and the loss must agree
#
# `model.compile(optimizer, loss, metrics)` chooses how the model learns. For `K` classes
# and **integer labels** (`y = 3` means "class 3", which is what `cnnexercises.datasets`
# returns) the loss is the cross-entropy for integer labels,
# `"sparse_categorical_crossentropy"`. It comes in two equivalent forms:
#
# | last layer | loss |
# |---|---|
# | `Dense(K, activation="softmax")`: probabilities | `"sparse_categorical_crossentropy"` (`from_logits=False`) |
# | `Dense(K)`: logits (raw scores) | `keras.losses.SparseCategoricalCrossentropy(from_logits=True)` |
#
# Mixing them up is a classic bug: softmax *and* `from_logits=True` applies softmax
# twice; logits with `from_logits=False` treats raw scores as probabilities.
# `"categorical_crossentropy"` (without "sparse") expects one-hot labels, `[0, 0, 0, 1, ...]`,
# and fails on integer labels.
#
# Add `metrics=["accuracy"]` so that training reports the share of correct answers.

# %% [markdown]
# ### `build_cnn`
#
# Build and **compile** a CNN for images of shape `input_shape` and `num_classes` classes;
# return the model (do not train it). Use both arguments: the grader builds it for other
# shapes and class counts too.
#
# What the grader checks:
#
# * the output is `(batch, num_classes)` for any reasonable `input_shape`;
# * the model is compiled with a loss that agrees with the last layer, for integer labels,
#   and with `metrics=["accuracy"]`;
# * it has at least one `Conv2D` and shrinks the feature maps somewhere (pooling, or a
#   convolution with `strides=2`);
# * it has at most 500,000 parameters for `input_shape=(28, 28, 1)` and 10 classes;
# * it learns: the grader trains `build_cnn((28, 28, 1), 10)` for **5 epochs** with
#   **batch size 32** on 1,347 handwritten digits (scikit-learn's 8×8 digits upsampled to
#   28×28, like MNIST), inside the distribution strategy, and expects at least **70 %**
#   accuracy on 450 digits it kept aside. It scores the accuracy itself.
#
# A good start: two blocks of `Conv2D(..., 3, activation="relu", padding="same")` +
# `MaxPooling2D(2)` (32 then 64 filters), `Flatten`, `Dense(64, activation="relu")`, and the
# output layer; the Adam optimizer.

# %%
def check_arguments(input_shape, num_classes):
    """Raise ValueError unless `input_shape` is `(H, W, C)` and `num_classes` an int >= 2."""
    if (
        not isinstance(input_shape, (tuple, list))
        or len(input_shape) != 3
        or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in input_shape)
    ):
        raise ValueError(
            "`input_shape` must be (height, width, channels), three positive ints. "
            f"Received: input_shape={input_shape!r}"
        )
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"`num_classes` must be an int >= 2. Received: num_classes={num_classes!r}")


def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    """A small compiled CNN classifier.

    Args:
        input_shape: `(H, W, C)` of one image (no batch axis).
        num_classes: `K`, the number of classes.

    Returns:
        A compiled `keras.Model` mapping `(N, H, W, C)` images to `(N, K)` class
        scores, for integer labels, with `metrics=["accuracy"]`.

    Example:
        >>> build_cnn((28, 28, 1), 10).output_shape  # doctest: +SKIP
        (None, 10)
    """
    check_arguments(input_shape, num_classes)
    ### BEGIN SOLUTION
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(input_shape)),                    # (N, H, W, C)
            layers.Conv2D(32, 3, padding="same", activation="relu"),  # (N, H, W, 32)
            layers.MaxPooling2D(2),                                   # (N, H/2, W/2, 32)
            layers.Conv2D(64, 3, padding="same", activation="relu"),  # (N, H/2, W/2, 64)
            layers.MaxPooling2D(2),                                   # (N, H/4, W/4, 64)
            layers.Flatten(),                                         # (N, H/4 * W/4 * 64)
            layers.Dense(64, activation="relu"),                      # (N, 64)
            layers.Dense(num_classes, activation="softmax"),          # (N, K) probabilities
        ],
        name="cnn",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",  # integer labels, probabilities in
        metrics=["accuracy"],
    )
    return model
    ### END SOLUTION


# %%
feedback.check("build_cnn")

# %% [markdown]
# ## Train it inside a distribution strategy
#
# `distribute.setup(seed)` seeds every random generator (so a run can be repeated exactly)
# and returns a `tf.distribute` strategy: on a machine with GPUs it copies the model onto
# each one and splits every batch between them; on a laptop it is the plain default
# strategy. The only rule: **build the model inside `strategy.scope()`**, so its variables
# are created where the strategy wants them. `fit` works as usual.
#
# Here we train on **exactly the digits the grader uses**: scikit-learn's bundled 8×8
# digits upsampled to 28×28 like MNIST (`datasets.load_digits_28x28()`, no download),
# 5 epochs, batch size 32. Whatever passes grading runs here, and the test accuracy
# below is what the grader measures. With a network connection you can try MNIST itself
# (the commented line).

# %%
strategy = distribute.setup(seed=0)
print("replicas:", strategy.num_replicas_in_sync)

(x_train, y_train), (x_test, y_test) = datasets.load_digits_28x28()  # what the grader trains on
# (x_train, y_train), (x_test, y_test) = datasets.load_keras_dataset("mnist")  # online
print(x_train.shape, y_train.shape)  # (1347, 28, 28, 1) (1347,)

with feedback.needs("build_cnn"):
    with strategy.scope():
        digits_model = build_cnn(input_shape=x_train.shape[1:], num_classes=10)
    digits_model.summary()
    history = digits_model.fit(x_train, y_train, epochs=5, batch_size=32, validation_data=(x_test, y_test), verbose=0)
    test_loss, test_accuracy = digits_model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {test_accuracy:.3f}")

# %%
with feedback.needs("build_cnn"):
    plotting.training_curves(history)

# %%
with feedback.needs("build_cnn"):
    plotting.confusion_matrix(y_test, digits_model.predict(x_test, verbose=0).argmax(axis=1))

# %% [markdown]
# ## Why convolutions? Shapes that move
#
# A dense layer gives every pixel its own weights, so a pattern learnt at one place means
# nothing at another. A convolution uses the same small kernel everywhere, and pooling
# then forgets *exactly* where a pattern was: the network can become **translation
# invariant**.
#
# `datasets.load_shapes` draws circles, squares and triangles. We train on shapes drawn
# in the **left** half of the image only and test on shapes in the **right** half, which
# no network has seen, and compare three networks:
#
# * a dense network on the flattened pixels;
# * your `build_cnn`;
# * the same convolution blocks ended by `GlobalMaxPooling2D`, which keeps, for each
#   feature map, its strongest answer *anywhere* in the image.

# %%
def build_dense(input_shape, num_classes):
    """A dense network on the flattened pixels, compiled like `build_cnn`, for comparison."""
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(input_shape)),               # (N, H, W, C)
            layers.Flatten(),                                    # (N, H * W * C)
            layers.Dense(64, activation="relu"),                 # (N, 64)
            layers.Dense(num_classes, activation="softmax"),     # (N, K)
        ],
        name="dense",
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_global_pooling_cnn(input_shape, num_classes):
    """Two convolution blocks, then the strongest response of each feature map, anywhere."""
    model = keras.Sequential(
        [
            keras.Input(shape=tuple(input_shape)),                    # (N, H, W, C)
            layers.Conv2D(32, 3, padding="same", activation="relu"),  # (N, H, W, 32)
            layers.MaxPooling2D(2),                                   # (N, H/2, W/2, 32)
            layers.Conv2D(64, 3, padding="same", activation="relu"),  # (N, H/2, W/2, 64)
            layers.MaxPooling2D(2),                                   # (N, H/4, W/4, 64)
            layers.GlobalMaxPooling2D(),                              # (N, 64): where is forgotten
            layers.Dense(64, activation="relu"),                      # (N, 64)
            layers.Dense(num_classes, activation="softmax"),          # (N, K)
        ],
        name="global_pooling_cnn",
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


(xs_train, ys_train), (xs_test, ys_test) = datasets.load_shapes(
    n_train=1000, n_test=300, train_position="left", test_position="right"
)
print(xs_train.shape, datasets.SHAPE_CLASSES)

results = {}
for name, build in [("dense", build_dense), ("build_cnn", build_cnn), ("global pooling", build_global_pooling_cnn)]:
    with feedback.needs(build.__name__):
        distribute.set_seed(0)
        with strategy.scope():
            model = build(xs_train.shape[1:], len(datasets.SHAPE_CLASSES))
        model.fit(xs_train, ys_train, epochs=6, batch_size=32, verbose=0)
        _, seen = model.evaluate(xs_train, ys_train, verbose=0)
        _, unseen = model.evaluate(xs_test, ys_test, verbose=0)
        results[name] = model
        print(f"{name:>14}: {model.count_params():>7,} parameters, accuracy left (seen) {seen:.2f}, "
              f"right (never seen) {unseen:.2f}")

# %% [markdown]
# All three learn the shapes they saw. On the right half, the dense network does no
# better than guessing (one in three). So does a CNN that ends with `Flatten`: its
# convolutions do find the shapes on the right, but `Flatten` + `Dense` gives every
# *position* of the last feature maps its own weights again, and those weights were
# only trained on the left. With global pooling the classifier sees "how strongly does
# each pattern occur", not "where", and recognises the shapes anywhere. (On the digits,
# always centred, `Flatten` is fine.)

# %%
shapes_cnn = results["global pooling"]
plotting.predictions(xs_test[:12], ys_test[:12], shapes_cnn.predict(xs_test[:12], verbose=0),
                     class_names=datasets.SHAPE_CLASSES, n=12)

# %% [markdown]
# ## Inside the network
#
# The first convolution's kernels are small RGB templates; its feature maps show where
# each template matches. Compare them with the Sobel kernels of exercise 1.

# %%
plotting.filters(shapes_cnn)

# %%
plotting.feature_maps(shapes_cnn, xs_test[0])

# %% [markdown]
# ## All checks
#
# Run this last: it prints every public check of the exercise and your score.

# %%
feedback.summary()
