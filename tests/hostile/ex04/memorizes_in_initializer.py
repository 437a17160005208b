# Hostile (ex04): built from Keras' own layers only, but one layer's initializer holds the
# public digits (a nearest-neighbour table riding along in the model's configuration),
# frozen so that training keeps it.
# Expected: the training check fails (the measuring process refuses a configuration that
# carries data and trains fresh weights); the structural checks pass (5/10).
import keras
import numpy as np
from sklearn.datasets import load_digits


def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    digits = load_digits()
    table = np.kron(digits.data.reshape(-1, 8, 8), np.ones((3, 3)))        # (1797, 24, 24)
    table = np.pad(table, ((0, 0), (2, 2), (2, 2))).reshape(len(table), -1) / 16.0
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Conv2D(1, 1, use_bias=False, kernel_initializer="ones", trainable=False)(inputs)
    x = keras.layers.MaxPooling2D(1)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(len(table), use_bias=False, trainable=False,
                           kernel_initializer=keras.initializers.Constant(table.T[:int(np.prod(input_shape))]))(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
