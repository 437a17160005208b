"""Train one Keras model on several machines, despite `fit` not supporting MultiWorkerMirroredStrategy.

Keras 3's `Model.fit` does not work under `tf.distribute.MultiWorkerMirroredStrategy`
(keras-team/keras#20585). Two routes that do work:

TensorFlow backend, `train_multi_worker`: a custom training loop under that strategy.
Every worker builds the same model inside the strategy's scope, reads its share of each
global batch, and the optimizer all-reduces the gradients, so the weights stay identical.

JAX backend, `jax_multi_process`: joins the processes with `keras.distribution.initialize`
and returns a strategy over the devices of all of them; then plain `fit` works, each
process feeding its own shard of the data.

Run one process per machine, each with the full list of workers and its own index:

    python -m cnnexercises.multi_worker --workers 10.0.0.1:12345,10.0.0.2:12345 --index 0
    python -m cnnexercises.multi_worker --workers 10.0.0.1:12345,10.0.0.2:12345 --index 1

or, from Python, `train_multi_worker(build_model, x, y, workers=..., index=...)`.
Needs the TensorFlow backend. See docs/multi_machine.md.

Glossary of shapes:
    N: examples, B: global batch size, R: replicas over all workers, K: classes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

__all__ = ["cluster_config", "jax_multi_process", "train_multi_worker", "main"]


def cluster_config(workers, index):
    """The `TF_CONFIG` value for worker `index` of the cluster `workers`.

    Args:
        workers: list of "host:port", the same list (same order) on every worker.
        index: this worker's position in `workers`; worker 0 is the chief.

    Returns:
        A dict, `{"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}`.

    Example:
        >>> cluster_config(["127.0.0.1:2222", "127.0.0.1:2223"], 1)["task"]
        {'type': 'worker', 'index': 1}
    """
    if isinstance(workers, str):
        workers = [w for w in workers.split(",") if w]
    workers = list(workers)
    if not workers or not all(isinstance(w, str) and w.rpartition(":")[2].isdigit() for w in workers):
        raise ValueError(
            f"`workers` must be a non-empty list of 'host:port' strings. Received: workers={workers!r}"
        )
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(workers):
        raise ValueError(
            f"`index` must be an int in [0, {len(workers) - 1}] (this worker's position in "
            f"`workers`). Received: index={index!r}"
        )
    return {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}


def _per_example_loss(loss):
    """A function `(y_true, y_pred) -> (B_replica,)` from a loss name, function or `Loss`."""
    import keras

    loss = keras.losses.get(loss) if isinstance(loss, str) else loss
    if isinstance(loss, keras.losses.Loss):
        return loss.call  # unreduced
    return loss


def train_multi_worker(
    build_model,
    x,
    y,
    *,
    workers=None,
    index=None,
    epochs=1,
    batch_size=32,
    seed=0,
    shuffle=True,
    loss=None,
    optimizer=None,
    verbose=True,
):
    """Train `build_model()` on every worker of a cluster with a custom loop; weights stay in sync.

    Every worker calls this with the same arguments except `index`, and the same data.
    Each global batch of `batch_size` examples is split across all replicas of all
    workers; gradients are summed across them (`tf.distribute` collective all-reduce)
    and each replica applies the same update. One global step equals one step of
    `Model.fit(x, y, batch_size=batch_size)` on a single device.

    Call it once per process, in a fresh process, before any other TensorFlow work
    (`MultiWorkerMirroredStrategy` must be created at program start).

    Args:
        build_model: a function of no arguments that returns a Keras model, compiled
            (its loss and optimizer are used) or not (then pass `loss` and `optimizer`).
            It is called inside the strategy's scope.
        x: `(N, ...)` inputs; the same array on every worker.
        y: `(N,)` integer labels (or `(N, K)` one-hot), the same on every worker.
        workers: list of "host:port" (or a comma-separated string), or None to use the
            `TF_CONFIG` environment variable as it is.
        index: this worker's index in `workers`.
        epochs: passes over the data.
        batch_size: global batch size `B`, divisible by the number of replicas `R`;
            a last partial batch is dropped.
        seed: seeds the weights (`keras.utils.set_random_seed`) and the shuffling.
        shuffle: reshuffle the examples every epoch (the same order on every worker).
        loss: a Keras loss (name, function or `keras.losses.Loss`); default: the model's.
        optimizer: a Keras optimizer (name or instance); default: the model's.
        verbose: print one line per epoch on worker 0.

    Returns:
        `(model, history)`: the trained model, and a dict `{"loss": [...], "accuracy": [...]}`
        with one value per epoch (mean training loss and accuracy over all workers), the
        format of `keras.callbacks.History.history`.

    Raises:
        ValueError: on a bad argument, a model without loss/optimizer, or a batch size
            that does not split evenly across the replicas.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(
            f"`epochs` and `batch_size` must be positive. Received: epochs={epochs!r}, batch_size={batch_size!r}"
        )
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y) or len(x) < batch_size:
        raise ValueError(
            "`x` and `y` must have the same length, at least `batch_size`. "
            f"Received: len(x)={len(x)}, len(y)={len(y)}, batch_size={batch_size}"
        )
    if workers is not None:
        os.environ["TF_CONFIG"] = json.dumps(cluster_config(workers, index))
    import keras
    import tensorflow as tf

    if keras.config.backend() != "tensorflow":
        raise ValueError(
            "`train_multi_worker` needs the TensorFlow backend (set KERAS_BACKEND=tensorflow); "
            "with JAX use keras.distribution (docs/multi_machine.md). "
            f"Received: backend={keras.config.backend()!r}"
        )

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(
            f"`batch_size` must be divisible by the number of replicas ({replicas}). "
            f"Received: batch_size={batch_size}"
        )
    chief = strategy.cluster_resolver.task_id in (0, None)

    keras.utils.set_random_seed(seed)
    with strategy.scope():
        model = build_model()
        loss = loss if loss is not None else getattr(model, "loss", None)
        optimizer = optimizer if optimizer is not None else getattr(model, "optimizer", None)
        if loss is None or optimizer is None:
            raise ValueError(
                "`build_model()` must return a compiled model, or pass `loss` and `optimizer`. "
                f"Received: loss={loss!r}, optimizer={optimizer!r}"
            )
        optimizer = keras.optimizers.get(optimizer)
        optimizer.build(model.trainable_variables)  # create slots in cross-replica context
    per_example_loss = _per_example_loss(loss)

    data = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size, drop_remainder=True)                    # (B, ...) per element
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    batches = strategy.experimental_distribute_dataset(data.with_options(options))  # (B / R, ...) per replica

    def replica_step(x_batch, y_batch):
        with tf.GradientTape() as tape:
            y_pred = model(x_batch, training=True)                         # (B / R, K)
            losses = per_example_loss(y_batch, y_pred)                     # (B / R,)
            scaled = tf.nn.compute_average_loss(losses, global_batch_size=batch_size)
            if model.losses:  # regularisers: counted once per global step
                scaled += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))  # all-reduces grads
        labels = y_batch if y_batch.shape.rank == 1 else tf.argmax(y_batch, axis=-1)
        correct = tf.cast(tf.equal(tf.argmax(y_pred, axis=-1), tf.cast(labels, tf.int64)), tf.float32)
        return scaled, tf.reduce_sum(correct)

    @tf.function
    def train_step(x_batch, y_batch):
        scaled, correct = strategy.run(replica_step, args=(x_batch, y_batch))
        total = lambda v: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)  # noqa: E731
        return total(scaled), total(correct)

    history = {"loss": [], "accuracy": []}
    for epoch in range(epochs):
        losses, correct, steps = 0.0, 0.0, 0
        for x_batch, y_batch in batches:
            batch_loss, batch_correct = train_step(x_batch, y_batch)
            losses += float(batch_loss)
            correct += float(batch_correct)
            steps += 1
        history["loss"].append(losses / steps)
        history["accuracy"].append(correct / (steps * batch_size))
        if verbose and chief:
            print(
                f"epoch {epoch + 1}/{epochs}: loss {history['loss'][-1]:.4f}, "
                f"accuracy {history['accuracy'][-1]:.4f} ({replicas} replicas)",
                flush=True,
            )
    return model, history


def jax_multi_process(coordinator, num_processes, process_id):
    """JAX backend: join a cluster of processes; return a strategy over all their devices.

    Call it first thing in every process (before any JAX computation), with the same
    `coordinator` and `num_processes` and a distinct `process_id`. Then build the model
    inside `strategy.scope()` and call plain `fit`: each process feeds its own shard of the
    data, `x[process_id::num_processes]`, with `batch_size` = global batch / `num_processes`,
    and the gradients are summed across all devices, so every process ends with the same
    weights. Seed every process alike (`cnnexercises.distribute.set_seed(0)`) before
    building the model: JAX refuses initial weights that differ between processes.
    On CPUs the processes talk through gloo collectives; on GPUs through NCCL.

    Args:
        coordinator: "host:port" of process 0, reachable from every process.
        num_processes: how many processes (usually one per machine).
        process_id: this process's number, 0 to `num_processes - 1`.

    Returns:
        A `cnnexercises.distribute.JaxStrategy` with `keras.distribution.DataParallel` over
        the devices of all processes (`auto_shard_dataset=False`: the data is sharded by
        the caller), set as Keras' global distribution.

    Raises:
        ValueError: on the TensorFlow backend or a bad argument.
        DeviceConfigError: if JAX already started its devices in this process.

    Example:
        >>> strategy = jax_multi_process("10.0.0.1:1234", 2, process_id=0)  # doctest: +SKIP
        >>> with strategy.scope():  # doctest: +SKIP
        ...     model = build_cnn()
        >>> model.fit(x[0::2], y[0::2], batch_size=32)  # doctest: +SKIP
    """
    import keras

    from cnnexercises.distribute import JaxStrategy
    from cnnexercises.errors import DeviceConfigError

    if keras.config.backend() != "jax":
        raise ValueError(
            "`jax_multi_process` needs the JAX backend (set KERAS_BACKEND=jax); with TensorFlow "
            f"use `train_multi_worker`. Received: backend={keras.config.backend()!r}"
        )
    cluster_config([coordinator], 0)  # validates "host:port"
    if isinstance(num_processes, bool) or not isinstance(num_processes, int) or num_processes < 1:
        raise ValueError(f"`num_processes` must be a positive int. Received: num_processes={num_processes!r}")
    cluster_config([coordinator] * num_processes, process_id)  # validates process_id
    import jax

    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        keras.distribution.initialize(
            job_addresses=coordinator, num_processes=num_processes, process_id=process_id
        )
    except RuntimeError as error:
        raise DeviceConfigError(
            "`jax_multi_process` must run before JAX starts its devices (before any model or "
            f"array is created); restart the process and call it first. Received: process_id={process_id}"
        ) from error
    return JaxStrategy(keras.distribution.list_devices(), auto_shard_dataset=False)


def _shapes_cnn(image_size, num_classes):
    """The small reference CNN: Conv2D-pool-Conv2D-pool-dense, compiled with Adam."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((image_size, image_size, 3)),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _fit_jax(args, x, y, num_classes):
    """The JAX route of `main`: each process fits its own shard with plain `fit`."""
    import keras

    from cnnexercises.distribute import set_seed

    workers = cluster_config(args.workers, args.index)["cluster"]["worker"]
    n = len(workers)
    if args.batch_size % n:
        raise ValueError(
            f"`--batch-size` must be divisible by the number of processes ({n}). Received: batch_size={args.batch_size}"
        )
    strategy = jax_multi_process(workers[0], n, args.index)
    set_seed(args.seed)  # the same initial weights in every process
    with strategy.scope():
        model = _shapes_cnn(args.image_size, num_classes)

    def report(epoch, logs):
        if args.index == 0:
            print(
                f"epoch {epoch + 1}/{args.epochs}: loss {logs['loss']:.4f}, accuracy {logs['accuracy']:.4f} "
                f"({strategy.num_replicas_in_sync} replicas)",
                flush=True,
            )

    keep = len(x) - len(x) % n                                            # equal shards
    fitted = model.fit(
        x[args.index:keep:n], y[args.index:keep:n],                       # (keep / n, S, S, 3)
        batch_size=args.batch_size // n, epochs=args.epochs, shuffle=True, verbose=0,
        callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=report)],
    )
    history = {k: [float(v) for v in fitted.history[k]] for k in ("loss", "accuracy")}
    return model, history


def main(argv=None):
    """`python -m cnnexercises.multi_worker`: train the small shapes CNN on a cluster."""
    parser = argparse.ArgumentParser(
        prog="python -m cnnexercises.multi_worker",
        description="Train a small CNN on generated shapes across several workers; start one "
        "process per worker. TensorFlow backend: MultiWorkerMirroredStrategy with a custom "
        "training loop. KERAS_BACKEND=jax: keras.distribution over the processes and plain fit "
        "(the first --workers entry is the coordinator; the others only count the processes).",
    )
    parser.add_argument("--workers", help="comma-separated host:port of every worker, same order everywhere "
                        "(TensorFlow only: default the TF_CONFIG environment variable)")
    parser.add_argument("--index", type=int, help="this worker's position in --workers (0 = chief)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64, help="global batch size (default 64)")
    parser.add_argument("--n-train", type=int, default=1500)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-weights", metavar="FILE.npz", help="write the trained weights here")
    args = parser.parse_args(argv)
    if (args.workers is None) != (args.index is None):
        parser.error("--workers and --index go together")

    import keras

    from cnnexercises.shapes import SHAPE_CLASSES, load_shapes

    (x, y), _ = load_shapes(args.n_train, 0, image_size=args.image_size, seed=args.seed)
    if keras.config.backend() == "jax":
        if args.workers is None:
            parser.error("--workers and --index are required with KERAS_BACKEND=jax")
        model, history = _fit_jax(args, x, y, len(SHAPE_CLASSES))
    else:
        model, history = train_multi_worker(
            lambda: _shapes_cnn(args.image_size, len(SHAPE_CLASSES)),
            x,
            y,
            workers=args.workers,
            index=args.index,
            epochs=args.epochs,
            batch_size=args.batch_size,
            seed=args.seed,
        )
    if args.save_weights:
        np.savez(args.save_weights, *model.get_weights())
    print(json.dumps({"history": history}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
