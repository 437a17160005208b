# %% [markdown]
# # Exercise 5 — Transfer learning with VGG16
#
# Training a deep CNN from scratch needs millions of labelled images and days of GPU time.
# **Transfer learning** borrows that work: take a network trained on ImageNet (1.2 million
# photos, 1,000 classes), keep its convolutional part, which has learnt general visual
# features (edges, textures, object parts), and train only a small new classifier on top
# for *your* classes. Then, optionally, **fine-tune**: let the last convolutional block
# adapt too, with a learning rate small enough not to destroy what it knows.
#
# You will write the three pieces of that recipe for VGG16 (exercise 3 counted its
# 14,714,688 convolutional parameters):
#
# 1. `vgg16_preprocess`: the input preprocessing VGG16 was trained with, in NumPy;
# 2. `build_vgg16_classifier`: the frozen VGG16 base, the preprocessing inside the model,
#    and a new head;
# 3. `unfreeze_top_block`: unfreeze block 5 and recompile with a lower learning rate.
#
# **Shapes.** Images are `(N, H, W, 3)`, RGB, channels last. VGG16 halves the height
# and width five times (one max-pooling per block), so a 224×224 image leaves the base as
# a `(7, 7, 512)` block of features; the smallest input it accepts is 32×32 (→ `1×1×512`).
#
# **Weights.** `weights="imagenet"` downloads 58 MB the first time (to
# `~/.keras/models/`). Everything the checker runs uses `weights=None` (random weights,
# same architecture) and small 40×32 images, so checking works offline in seconds.

# %%
import os

import numpy as np
import keras
from keras import layers

from autograder.notebook import Feedback
from cnnexercises import datasets, distribute, plotting

feedback = Feedback("ex05_vgg16_finetune", globals())

# %% [markdown]
# ## 1. Preprocessing: what VGG16 expects
#
# A pretrained network only works on inputs prepared exactly as its training images
# were. VGG16 was trained (in the Caffe framework) on
#
# * pixels in **0–255**, not scaled to [0, 1];
# * channels in **BGR** order (Caffe reads images that way), not RGB;
# * each channel centred by subtracting the **ImageNet mean pixel**, in BGR order
#   `[103.939, 116.779, 123.68]`.
#
# That is `keras.applications.vgg16.preprocess_input` (its "caffe" mode). Write it in
# NumPy: reverse the last axis, then subtract the mean. Return a new float array and leave
# the input untouched (Keras' own version writes into float inputs; yours must not).
# It must work for any number of leading axes: one image `(H, W, 3)` or a batch
# `(N, H, W, 3)`, floats or `uint8`.

# %%
IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)


def vgg16_preprocess(images):
    """VGG16's "caffe" preprocessing: RGB -> BGR, then subtract the ImageNet mean pixel.

    Args:
        images: `(..., H, W, 3)` RGB pixels in [0, 255] (float or uint8).

    Returns:
        A new float array of the same shape: BGR, mean-centred, not scaled. Float
        inputs keep their dtype; integer inputs give float32.

    Example:
        >>> vgg16_preprocess(np.full((1, 2, 2, 3), 128.0))[0, 0, 0]
        array([24.061, 11.221,  4.32 ])
    """
    images = np.asarray(images)
    if images.ndim < 3 or images.shape[-1] != 3:
        raise ValueError(
            "`images` must be RGB with the channels last, (..., height, width, 3). "
            f"Received: images.shape={images.shape}"
        )
    ### BEGIN SOLUTION
    dtype = images.dtype if np.issubdtype(images.dtype, np.floating) else np.float32
    bgr = images[..., ::-1].astype(dtype)                   # (..., H, W, 3), a new array
    return bgr - np.asarray(IMAGENET_MEAN_BGR, dtype=dtype)  # broadcast over (..., H, W)
    ### END SOLUTION


# %%
feedback.check("vgg16_preprocess")

# %% [markdown]
# ## 2. A frozen VGG16 with a new head
#
# `load_vgg16` (below, given) returns `keras.applications.VGG16(include_top=False)`: the
# thirteen convolutional layers in five blocks, without the three dense layers that
# classified ImageNet's 1,000 classes. It is a `keras.Model` named `"vgg16"`, which you use
# as a single layer of your own model.
#
# Build `build_vgg16_classifier(num_classes, input_shape, weights)`:
#
# 1. `base = load_vgg16(input_shape, weights)` and **freeze** it: `base.trainable = False`.
#    Its weights must not move while the new head is still random; otherwise the first
#    large, noisy gradients would wreck the ImageNet features.
# 2. `inputs = keras.Input(shape=input_shape)`: the model takes **raw RGB pixels, 0–255**.
# 3. Preprocess **inside** the model, so nobody can forget it or do it twice:
#    `keras.applications.vgg16.preprocess_input` works on the symbolic tensor, or write
#    the same two operations with `keras.ops` (`keras.ops.flip(x, axis=-1)`, then subtract
#    the mean).
# 4. `x = base(x, training=False)`: the base always runs in inference mode, even while
#    the model trains (layers such as `BatchNormalization` and `Dropout` then keep their
#    prediction-time behaviour; VGG16 has none, but other bases do, and fine-tuning them
#    in training mode would wreck their statistics). Then a new head: `GlobalAveragePooling2D` (one number
#    per feature map), optionally `Dropout`, and `Dense(num_classes, activation="softmax")`.
# 5. Compile (Adam, `"sparse_categorical_crossentropy"`, `metrics=["accuracy"]`) and return.
#
# The checker builds it with `weights=None` and 40×32 images (`input_shape=(40, 32, 3)`), trains one step, and
# verifies that every VGG16 weight is bit-identical afterwards while the head changed; it
# also records what the `"vgg16"` sub-model receives for raw pixels and compares it with
# `vgg16_preprocess`.

# %%
VGG16_NOTOP_WEIGHTS = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG16_NOTOP_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
    "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
)


def keras_models_dir():
    """Where Keras caches downloaded weights: `$KERAS_HOME/models`, by default `~/.keras/models`."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "models")


def load_vgg16(input_shape=(224, 224, 3), weights="imagenet"):
    """VGG16's convolutional base, `keras.applications.VGG16(include_top=False)`.

    Args:
        input_shape: `(H, W, 3)`, both sides at least 32.
        weights: "imagenet" (downloaded once, 58 MB), None (random), or a file path.

    Returns:
        A `keras.Model` named "vgg16": `(N, H, W, 3)` preprocessed BGR -> `(N, H/32, W/32, 512)`.

    Raises:
        RuntimeError: if the ImageNet weights cannot be downloaded (no network); the
            message says where to place the file by hand.
    """
    if len(input_shape) != 3 or input_shape[-1] != 3 or min(input_shape[:2]) < 32:
        raise ValueError(
            "VGG16 needs RGB inputs of at least 32x32 pixels, (height, width, 3). "
            f"Received: input_shape={tuple(input_shape)!r}"
        )
    try:
        return keras.applications.VGG16(include_top=False, weights=weights, input_shape=tuple(input_shape))
    except Exception as error:
        target = os.path.join(keras_models_dir(), VGG16_NOTOP_WEIGHTS)
        if weights != "imagenet" or os.path.exists(target):
            raise
        raise RuntimeError(
            f"Could not download VGG16's ImageNet weights ({type(error).__name__}: {error}). "
            f"Without a network connection, download\n    {VGG16_NOTOP_URL}\n"
            f"on a machine that is online and place it at\n    {target}\n"
            "(that is ~/.keras/models/ unless KERAS_HOME is set); Keras then loads it from "
            "there without downloading. To work without the weights, pass weights=None. "
            f"Received: weights={weights!r}"
        ) from error


def build_vgg16_classifier(num_classes, input_shape=(224, 224, 3), weights="imagenet"):
    """A classifier on top of a frozen VGG16 base, for raw RGB images.

    Args:
        num_classes: `K`.
        input_shape: `(H, W, 3)`, both sides at least 32.
        weights: passed to `load_vgg16` ("imagenet" or None).

    Returns:
        A compiled `keras.Model`: `(N, H, W, 3)` RGB pixels in [0, 255] -> `(N, K)`
        probabilities; its "vgg16" sub-model is frozen, only the new head trains.

    Example:
        >>> build_vgg16_classifier(5, (32, 32, 3), weights=None).output_shape  # doctest: +SKIP
        (None, 5)
    """
    ### BEGIN SOLUTION
    base = load_vgg16(input_shape, weights)
    base.trainable = False                                          # freeze all 13 conv layers
    inputs = keras.Input(shape=tuple(input_shape))                  # (N, H, W, 3) RGB 0..255
    x = keras.applications.vgg16.preprocess_input(inputs)           # (N, H, W, 3) BGR, centred
    x = base(x, training=False)                                     # (N, H/32, W/32, 512)
    x = layers.GlobalAveragePooling2D()(x)                          # (N, 512)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)    # (N, K)
    model = keras.Model(inputs, outputs, name="vgg16_classifier")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model
    ### END SOLUTION


# %%
feedback.check("build_vgg16_classifier")

# %% [markdown]
# ## 3. Fine-tuning the top block
#
# Once the head has learnt something, the last convolutional block (`block5_conv1`,
# `block5_conv2`, `block5_conv3`, `block5_pool`) can adapt to your images. The early
# blocks detect edges and textures that suit any image; block 5 detects ImageNet's
# object parts, the most specific features, so it is the one worth adjusting.
#
# Three rules:
#
# * make `block5_*` trainable and keep blocks 1–4 frozen: `layer.trainable = ...` for
#   each `layer` in `base.layers`. (In Keras 3 that is enough, whatever `base.trainable`
#   was; setting `base.trainable = True` first does no harm and says what you mean.);
# * use a **low learning rate** (`1e-5`): large steps would destroy the pretrained
#   features in a few batches;
# * **compile again**: Keras decides which weights an optimizer updates when it builds
#   the training step. Changing `trainable` afterwards has no effect (or fails) until
#   you call `model.compile(...)` again.
#
# Return the model.

# %%
def unfreeze_top_block(model, learning_rate=1e-5):
    """Make VGG16's block 5 trainable and recompile with a lower learning rate.

    Args:
        model: a model from `build_vgg16_classifier`.
        learning_rate: the fine-tuning learning rate.

    Returns:
        The same model, recompiled: `block5_*` and the head trainable, blocks 1-4 frozen.
    """
    ### BEGIN SOLUTION
    base = model.get_layer("vgg16")
    base.trainable = True                      # allow layers inside it to train ...
    for layer in base.layers:
        layer.trainable = layer.name.startswith("block5")   # ... but only block 5
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=model.loss,
        metrics=["accuracy"],
    )
    return model
    ### END SOLUTION


# %%
feedback.check("unfreeze_top_block")

# %% [markdown]
# ## The whole recipe, on shapes
#
# Offline we train on the generated shapes (32×32, the smallest VGG16 input) with random
# weights, which shows the mechanics: which weights move in each phase. With a network
# connection, set `WEIGHTS = "imagenet"` and a larger `SIZE` (e.g. 96): the pretrained
# features then make the head accurate after a single epoch.

# %%
WEIGHTS = None   # "imagenet" when online
SIZE = 32

strategy = distribute.setup(seed=0)
(x_train, y_train), (x_test, y_test) = datasets.load_shapes(n_train=300, n_test=100, image_size=SIZE)
x_train, x_test = x_train * 255.0, x_test * 255.0   # the model takes raw 0..255 RGB

with feedback.needs("build_vgg16_classifier"):
    with strategy.scope():
        model = build_vgg16_classifier(len(datasets.SHAPE_CLASSES), input_shape=(SIZE, SIZE, 3), weights=WEIGHTS)
    print(f"trainable weights: {sum(int(np.prod(w.shape)) for w in model.trainable_weights):,} "
          f"of {model.count_params():,}")
    head_history = model.fit(x_train, y_train, epochs=2, batch_size=32, validation_data=(x_test, y_test), verbose=0)
    print(f"head only: validation accuracy {head_history.history['val_accuracy'][-1]:.2f}")

with feedback.needs("build_vgg16_classifier", "unfreeze_top_block"):
    block5_before = model.get_layer("vgg16").get_layer("block5_conv1").get_weights()[0].copy()
    block1_before = model.get_layer("vgg16").get_layer("block1_conv1").get_weights()[0].copy()
    model = unfreeze_top_block(model, learning_rate=1e-5)
    print(f"trainable weights: {sum(int(np.prod(w.shape)) for w in model.trainable_weights):,}")
    fine_history = model.fit(x_train, y_train, epochs=1, batch_size=32, validation_data=(x_test, y_test), verbose=0)
    print(f"fine-tuned: validation accuracy {fine_history.history['val_accuracy'][-1]:.2f}")
    base = model.get_layer("vgg16")
    print("block5_conv1 moved:", not np.array_equal(block5_before, base.get_layer("block5_conv1").get_weights()[0]))
    print("block1_conv1 moved:", not np.array_equal(block1_before, base.get_layer("block1_conv1").get_weights()[0]))

# %%
with feedback.needs("build_vgg16_classifier"):
    plotting.training_curves(head_history)

# %% [markdown]
# ## What VGG16 sees in a photo
#
# A real photo (scikit-image's cat, no download) goes through VGG16's convolutional
# base: your `vgg16_preprocess` first, then the first layers of each block, whose
# feature maps are drawn below. With the ImageNet weights the first layer's kernels are
# colour and edge detectors (compare with the Sobel kernels of exercise 1) and the maps
# outline the cat's edges, fur and eyes; deeper blocks answer to larger parts. The
# weights file is needed for that (this cell says where to put it when there is no
# network); without it, the same architecture with **random** weights is used: its maps
# are blurred copies of the photo and its filters noise, which is what a network knows
# before training.
#
# The filters act on the **BGR** input that `vgg16_preprocess` makes, so they are drawn
# with `channel_order="bgr"` (a filter that answers to red looks red).

# %%
try:
    vgg16_base = load_vgg16((224, 224, 3), weights="imagenet")
    which = "ImageNet weights"
except RuntimeError as error:
    print(error)
    vgg16_base = load_vgg16((224, 224, 3), weights=None)
    which = "random weights (no ImageNet file): what an untrained network sees"
print(which)

photo = datasets.sample_photo("cat")                    # (300, 451, 3) RGB in [0, 1]
top, left = (300 - 224) // 2, (451 - 224) // 2
photo = photo[top:top + 224, left:left + 224] * 255.0   # (224, 224, 3), raw 0..255 like a camera

with feedback.needs("vgg16_preprocess"):
    plotting.feature_maps(vgg16_base, vgg16_preprocess(photo), layers=["block1_conv1", "block2_conv1", "block3_conv1"])

# %%
plotting.filters(vgg16_base, channel_order="bgr")  # block1_conv1, the first convolution

# %% [markdown]
# ## All checks
#
# Run this last: it prints every public check of the exercise and your score.

# %%
feedback.summary()
