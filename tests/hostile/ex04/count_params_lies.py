# Hostile (ex04): a Sequential subclass whose count_params() says 1,000 whatever its size
# (here 3.2 million parameters), hoping to pass "at most 500,000 parameters".
# Expected: every check ERROR: the measuring process loads the saved model with Keras'
# own classes only, so a model that needs the student's class is measured nowhere.
import keras


class Small(keras.Sequential):
    def count_params(self):
        return 1_000


def build_cnn(input_shape=(28, 28, 1), num_classes=10):
    model = Small([
        keras.Input(shape=input_shape),
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(2048, activation="relu"),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
