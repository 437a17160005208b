# Hostile (ex04): a layer that looks each image up in scikit-learn's public digits and
# outputs its label (a perfect "held-out accuracy" with a handful of parameters).
# Expected: every check ERROR: its model cannot be loaded without the student's class,
# and the held-out images never reach the student's process.
import keras
import numpy as np


class Oracle(keras.layers.Layer):
    def call(self, images):
        from sklearn.datasets import load_digits

        digits = load_digits()
        small = keras.ops.image.resize(images, (8, 8))
        flat = keras.ops.reshape(small, (-1, 64)) * 16.0
        table = keras.ops.convert_to_tensor(digits.data.astype("float32"))
        nearest = keras.ops.argmin(keras.ops.sum((flat[:, None, :] - table[None]) ** 2, axis=-1), axis=1)
        return keras.ops.one_hot(keras.ops.take(digits.target, nearest), 10)


def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Conv2D(1, 1)(inputs)
    x = keras.layers.MaxPooling2D(1)(x)
    outputs = Oracle()(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
