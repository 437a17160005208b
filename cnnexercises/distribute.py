"""Which devices train the model, and how to make training repeatable.

    strategy = setup(seed=0)            # seeds + determinism + strategy, in one call
    with strategy.scope():
        model = build_cnn()
    model.fit(x_train, y_train, ...)

`get_strategy` picks, on the TensorFlow backend:

    several GPUs   tf.distribute.MirroredStrategy over all of them (one replica each)
    one GPU        tf.distribute.MirroredStrategy on that GPU (same code path as several)
    CPU only       the default strategy, `tf.distribute.get_strategy()` (no replication)

and on the JAX backend an object with the same `.scope()` and `.num_replicas_in_sync`,
backed by `keras.distribution.DataParallel` when there are several devices.

Several machines: Keras 3's `Model.fit` does not work under
`tf.distribute.MultiWorkerMirroredStrategy` (keras-team/keras#20585). Use
`cnnexercises.multi_worker.train_multi_worker`, a custom training loop under that
strategy, or on the JAX backend `cnnexercises.multi_worker.jax_multi_process`, which
joins the processes with `keras.distribution` so that `fit` works (docs/multi_machine.md).

Nothing here imports TensorFlow, Keras or JAX until a function is called.
"""

from __future__ import annotations

import contextlib
import os
import warnings

from cnnexercises.errors import DeviceConfigError

__all__ = [
    "JaxStrategy",
    "get_strategy",
    "set_seed",
    "setup",
    "split_logical_cpus",
    "train_multi_worker",
]

_determinism_enabled = False


def _backend():
    import keras

    return keras.config.backend()


class JaxStrategy:
    """The part of `tf.distribute.Strategy` the exercises use, for Keras' JAX backend.

    Attributes:
        distribution: the `keras.distribution.DataParallel` in use, or None on one device.
        devices: the devices, as `keras.distribution.list_devices()` names them.
        num_replicas_in_sync: how many devices share each batch.
    """

    def __init__(self, devices, auto_shard_dataset=True):
        import keras

        self.devices = list(devices)
        self.distribution = None
        if len(self.devices) > 1:
            self.distribution = keras.distribution.DataParallel(
                devices=self.devices, auto_shard_dataset=auto_shard_dataset
            )
            # Keras' JAX trainer shards each batch through the global distribution, so
            # `fit` outside `scope()` is data-parallel too, as with MirroredStrategy.
            keras.distribution.set_distribution(self.distribution)

    @property
    def num_replicas_in_sync(self):
        return len(self.devices)

    def scope(self):
        """A context manager: variables created inside are laid out on every device."""
        if self.distribution is None:
            return contextlib.nullcontext()
        return self.distribution.scope()

    def __repr__(self):
        kind = "DataParallel" if self.distribution is not None else "single device"
        return f"JaxStrategy({kind}, devices={self.devices})"


def get_strategy(devices=None):
    """The distribution strategy for this machine: replicate over GPUs, plain on CPU.

    With the TensorFlow backend, `tf.distribute.MirroredStrategy` over all GPUs when there
    is at least one (one GPU goes through the same code path as several), else the
    default strategy `tf.distribute.get_strategy()`. With the JAX backend, a `JaxStrategy`:
    `keras.distribution.DataParallel` over the GPUs (or the given devices) when there are
    several, else a single-device stand-in. Both have `.scope()` and `.num_replicas_in_sync`.

    Build (and compile) the model inside `strategy.scope()`; `fit` may run outside it.
    Each batch is split across the replicas, so use a batch size divisible by
    `strategy.num_replicas_in_sync`.

    Keras 3's `Model.fit` does not work under `tf.distribute.MultiWorkerMirroredStrategy`
    (keras-team/keras#20585), so several machines are not picked here: see
    `cnnexercises.multi_worker.train_multi_worker` (TensorFlow, custom training loop) and
    `cnnexercises.multi_worker.jax_multi_process` (JAX, `fit` works).

    Args:
        devices: None to choose automatically, or a list of device names to replicate
            over, e.g. `["/cpu:0", "/cpu:1"]` (TensorFlow) or `["cpu:0", "cpu:1"]` (JAX),
            which forces `MirroredStrategy` / `DataParallel` on exactly those devices.

    Returns:
        A `tf.distribute.Strategy` (TensorFlow) or a `JaxStrategy` (JAX).

    Raises:
        ValueError: if `devices` is not None and not a non-empty list of names, or on a
            backend other than TensorFlow and JAX.

    Example:
        >>> strategy = get_strategy()  # on a machine without GPU  # doctest: +SKIP
        >>> strategy.num_replicas_in_sync  # doctest: +SKIP
        1
    """
    if devices is not None:
        if isinstance(devices, str) or not devices or not all(isinstance(d, str) for d in devices):
            raise ValueError(
                "`devices` must be None or a non-empty list of device names such as "
                f"['/cpu:0', '/cpu:1']. Received: devices={devices!r}"
            )
        devices = list(devices)
    backend = _backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if devices is not None:
            return tf.distribute.MirroredStrategy(devices=devices)
        if tf.config.list_physical_devices("GPU"):
            return tf.distribute.MirroredStrategy()
        return tf.distribute.get_strategy()
    if backend == "jax":
        import keras

        if devices is None:
            devices = keras.distribution.list_devices()  # GPUs/TPUs if any, else CPUs
            if not any(d.lower().startswith(("gpu", "cuda", "tpu")) for d in devices):
                devices = devices[:1]  # CPU: no replication, as the TensorFlow default strategy
        return JaxStrategy(devices)
    raise ValueError(
        "`get_strategy` supports the TensorFlow and JAX backends of Keras. Set "
        f"KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax. Received: backend={backend!r}"
    )


def set_seed(seed, deterministic=True):
    """Seed Python, NumPy and the backend; optionally make TensorFlow ops deterministic.

    Calls `keras.utils.set_random_seed(seed)` (Python `random`, NumPy, TensorFlow and the
    Keras seed generator). With `deterministic=True` on TensorFlow it also calls
    `tf.config.experimental.enable_op_determinism()`, so two runs with the same seed give
    bit-identical weights (slower on GPU; some GPU ops then raise instead of running
    non-deterministically). Determinism cannot be turned off again in the same process.
    On JAX, `deterministic=True` adds `--xla_gpu_deterministic_ops=true` to `XLA_FLAGS`,
    which takes effect if JAX has not started its GPU backend yet.

    Args:
        seed: a non-negative int.
        deterministic: whether to request deterministic ops.

    Raises:
        ValueError: if `seed` is not a non-negative int.
    """
    global _determinism_enabled
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative int. Received: seed={seed!r}")
    import keras

    keras.utils.set_random_seed(seed)
    backend = _backend()
    if not deterministic:
        if _determinism_enabled:
            warnings.warn(
                "Op determinism was enabled earlier in this process and cannot be disabled; "
                "restart the kernel to train non-deterministically. Received: deterministic=False",
                stacklevel=2,
            )
        return
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()  # idempotent
        _determinism_enabled = True
    elif backend == "jax":
        flag = "--xla_gpu_deterministic_ops=true"
        flags = os.environ.get("XLA_FLAGS", "")
        if flag not in flags.split():
            os.environ["XLA_FLAGS"] = f"{flags} {flag}".strip()
        _determinism_enabled = True


def setup(seed=0, deterministic=True, devices=None):
    """`set_seed(seed, deterministic)` then `get_strategy(devices)`, in one call.

    Args:
        seed, deterministic: as `set_seed`.
        devices: as `get_strategy`.

    Returns:
        The strategy; build the model inside `strategy.scope()`.

    Example:
        >>> strategy = setup(seed=0)  # doctest: +SKIP
        >>> with strategy.scope():  # doctest: +SKIP
        ...     model = build_cnn()
    """
    set_seed(seed, deterministic=deterministic)
    return get_strategy(devices)


def split_logical_cpus(n):
    """Split the CPU into `n` logical devices, to try multi-device code without GPUs.

    Must run before the backend initialises its devices: first thing after the imports,
    before any model, tensor or `get_strategy` call (restart the kernel otherwise).
    Calling it again with the same `n` is harmless.

    Args:
        n: the number of logical CPU devices, at least 1.

    Returns:
        The names of the logical CPU devices, e.g. `['/device:CPU:0', '/device:CPU:1']`
        on TensorFlow or `['cpu:0', 'cpu:1']` on JAX; pass them to `get_strategy(devices=...)`.

    Raises:
        DeviceConfigError: if the devices were initialised already with another count.
        ValueError: if `n` is not a positive int.

    Example:
        >>> names = split_logical_cpus(2)  # doctest: +SKIP
        >>> get_strategy(devices=names).num_replicas_in_sync  # doctest: +SKIP
        2
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` must be a positive int. Received: n={n!r}")
    too_late = (
        "`split_logical_cpus` must run before {backend} initialises its devices (before "
        "any model, tensor or strategy is created); they are set up already with {have} "
        "CPU device(s). Restart the kernel/process and call it first. Received: n={n}"
    )
    backend = _backend()
    if backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
            )
        except RuntimeError as error:
            have = len(tf.config.list_logical_devices("CPU"))
            if have != n:
                raise DeviceConfigError(too_late.format(backend="TensorFlow", have=have, n=n)) from error
        return [d.name for d in tf.config.list_logical_devices("CPU")]
    if backend == "jax":
        import jax

        try:
            jax.config.update("jax_num_cpu_devices", n)
        except RuntimeError as error:
            have = len(jax.devices("cpu"))
            if have != n:
                raise DeviceConfigError(too_late.format(backend="JAX", have=have, n=n)) from error
        return [f"cpu:{i}" for i in range(len(jax.devices("cpu")))]
    raise ValueError(
        "`split_logical_cpus` supports the TensorFlow and JAX backends of Keras. "
        f"Received: backend={backend!r}"
    )


def train_multi_worker(*args, **kwargs):
    """See `cnnexercises.multi_worker.train_multi_worker` (imported on first call)."""
    from cnnexercises.multi_worker import train_multi_worker as train

    return train(*args, **kwargs)
