"""Does `cnnexercises.distribute` pick the right strategy, replicate, and make runs repeatable?

Logical devices must be configured before the backend initialises, and
MultiWorkerMirroredStrategy must be created at program start, so everything that
touches devices runs in a fresh child process; the parent only reads its JSON.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from cnnexercises import distribute
from cnnexercises.multi_worker import cluster_config

CHILD_TIMEOUT = 240  # seconds; a child that hangs is killed and the test fails


def _child_env(**extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0", **extra)
    env.pop("TF_CONFIG", None)
    env.pop("XLA_FLAGS", None)
    return env


def _run_child(code, **env):
    """Run `code` in a fresh Python; return the JSON it prints on its last stdout line."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        env=_child_env(**env),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _free_ports(n):
    """`n` distinct TCP ports free on 127.0.0.1 right now."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _run_workers(commands, timeout, env):
    """Start one process per command; wait for all; kill every one still alive on any failure."""
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for cmd in commands
    ]
    outputs = [None] * len(procs)
    deadline = time.monotonic() + timeout
    try:
        for i, proc in enumerate(procs):
            remaining = max(1.0, deadline - time.monotonic())
            stdout, stderr = proc.communicate(timeout=remaining)
            outputs[i] = (proc.returncode, stdout, stderr)
            if proc.returncode != 0:
                break  # the others would wait for this worker forever
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    for i, result in enumerate(outputs):
        assert result is not None, f"worker {i} did not finish (killed)"
        code, stdout, stderr = result
        assert code == 0, f"worker {i} exited with {code}:\n{stderr[-3000:]}"
    return [result[1] for result in outputs]


# ----------------------------------------------------------------------------- no devices needed


def test_importing_distribute_imports_no_backend():
    code = (
        "import sys, cnnexercises.distribute, cnnexercises.multi_worker; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_set_seed_rejects_anything_but_a_non_negative_int(bad):
    with pytest.raises(ValueError, match=r"`seed` must be a non-negative int. Received: seed="):
        distribute.set_seed(bad)


@pytest.mark.parametrize("bad", [0, -2, 2.0])
def test_split_logical_cpus_rejects_non_positive_counts(bad):
    with pytest.raises(ValueError, match=r"`n` must be a positive int. Received: n="):
        distribute.split_logical_cpus(bad)


@pytest.mark.parametrize("bad", ["/cpu:0", [], [0, 1]])
def test_get_strategy_rejects_devices_that_are_not_a_list_of_names(bad):
    with pytest.raises(ValueError, match=r"`devices` must be None or a non-empty list"):
        distribute.get_strategy(devices=bad)


def test_cluster_config_is_the_tf_config_of_one_worker():
    config = cluster_config("127.0.0.1:2222,127.0.0.1:2223", 1)
    assert config == {
        "cluster": {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]},
        "task": {"type": "worker", "index": 1},
    }
    with pytest.raises(ValueError, match=r"`index` must be an int in \[0, 1\].*Received: index=2"):
        cluster_config(["a:1", "b:2"], 2)
    with pytest.raises(ValueError, match=r"'host:port'.*Received: workers=\['a'\]"):
        cluster_config(["a"], 0)


# ----------------------------------------------------------------------------- one machine, two devices

_MIRRORED_FIT = """
import json
import numpy as np
from cnnexercises import distribute

before = distribute.split_logical_cpus(2)
again = distribute.split_logical_cpus(2)  # same count again: harmless

import keras

def fit(seed):
    strategy = distribute.setup(seed=seed, devices=before)
    rng = np.random.default_rng(0)
    x = rng.random((64, 10, 9, 1)).astype("float32")
    y = rng.integers(0, 3, 64)
    with strategy.scope():
        model = keras.Sequential([
            keras.Input((10, 9, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=True, verbose=0)
    weights = np.concatenate([np.ravel(w) for w in model.get_weights()])
    return strategy, model, history.history, weights

strategy, model, history_a, weights_a = fit(seed=1)
_, _, history_b, weights_b = fit(seed=1)
_, _, _, weights_c = fit(seed=2)
"""


@pytest.mark.slow
def test_mirrored_strategy_fits_on_two_logical_cpus_tensorflow_and_seeds_repeat():
    result = _run_child(
        _MIRRORED_FIT
        + """
import tensorflow as tf
from tensorflow.python.framework import config as tf_config
from cnnexercises.errors import DeviceConfigError
try:
    distribute.split_logical_cpus(3)
    late = "no error"
except DeviceConfigError as error:
    late = str(error)
kernel = model.layers[0].kernel.value
print(json.dumps({
    "devices": before, "again": again,
    "strategy": type(strategy).__name__,
    "replicas": strategy.num_replicas_in_sync,
    "kernel_copies": sorted(v.device for v in kernel.values),
    "default_strategy": type(distribute.get_strategy()).__name__,
    "default_replicas": distribute.get_strategy().num_replicas_in_sync,
    "deterministic": tf_config.is_op_determinism_enabled(),
    "identical": bool(np.array_equal(weights_a, weights_b)),
    "other_seed_differs": bool(not np.allclose(weights_a, weights_c)),
    "history": history_a, "history_again": history_b,
    "late": late,
}))
""",
        KERAS_BACKEND="tensorflow",
    )
    assert result["devices"] == ["/device:CPU:0", "/device:CPU:1"] == result["again"]
    assert result["strategy"] == "MirroredStrategy" and result["replicas"] == 2
    # The model's variables are mirrored: one copy per logical CPU.
    assert [d.rsplit("/", 1)[-1] for d in result["kernel_copies"]] == ["device:CPU:0", "device:CPU:1"]
    # Without `devices`, a CPU-only machine gets the default (non-replicating) strategy.
    assert result["default_strategy"] != "MirroredStrategy" and result["default_replicas"] == 1
    assert result["deterministic"] is True
    assert result["identical"] and result["other_seed_differs"]
    assert result["history"] == result["history_again"] and len(result["history"]["loss"]) == 2
    assert "must run before TensorFlow initialises" in result["late"] and "Received: n=3" in result["late"]


@pytest.mark.slow
@pytest.mark.requires("jax")
def test_data_parallel_fits_on_two_cpu_devices_jax_and_seeds_repeat():
    result = _run_child(
        _MIRRORED_FIT
        + """
import os
kernel = model.layers[0].kernel.value
print(json.dumps({
    "devices": before,
    "strategy": repr(strategy),
    "replicas": strategy.num_replicas_in_sync,
    "kernel_devices": len(kernel.sharding.device_set),
    "default_replicas": distribute.get_strategy().num_replicas_in_sync,
    "identical": bool(np.array_equal(weights_a, weights_b)),
    "other_seed_differs": bool(not np.allclose(weights_a, weights_c)),
    "xla_flags": os.environ.get("XLA_FLAGS", ""),
}))
""",
        KERAS_BACKEND="jax",
    )
    assert result["devices"] == ["cpu:0", "cpu:1"]
    assert result["strategy"].startswith("JaxStrategy(DataParallel") and result["replicas"] == 2
    assert result["kernel_devices"] == 2  # the kernel is replicated on both devices
    assert result["default_replicas"] == 1
    assert result["identical"] and result["other_seed_differs"]
    assert "--xla_gpu_deterministic_ops=true" in result["xla_flags"].split()


# ----------------------------------------------------------------------------- several machines

_WORKER = """
import json, sys
import numpy as np
from cnnexercises.distribute import train_multi_worker

workers, index, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
import keras

initial = []

def build_model():
    model = keras.Sequential([
        keras.Input((10, 9, 2)),
        keras.layers.Conv2D(3, 3, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(4, activation="softmax"),
    ])
    model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    initial.append(model.get_weights())
    return model

rng = np.random.default_rng(0)
x = rng.random((96, 10, 9, 2)).astype("float32")
y = rng.integers(0, 4, 96)
model, history = train_multi_worker(
    build_model, x, y, workers=workers, index=index, epochs=2, batch_size=16, shuffle=False, verbose=False
)
trained = model.get_weights()

# Oracle: the same model, from the same initial weights, fitted on one device by Keras.
reference = build_model()
reference.set_weights(initial[0])
fit = reference.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
np.savez(out, *trained)
print(json.dumps({
    "history": history,
    "fit_loss": fit.history["loss"],
    "max_diff_to_fit": max(float(np.abs(a - b).max()) for a, b in zip(trained, reference.get_weights())),
    "moved": max(float(np.abs(a - b).max()) for a, b in zip(trained, initial[0])),
}))
"""


@pytest.mark.slow
def test_two_workers_on_localhost_train_the_same_weights_as_one_device_fit(tmp_path):
    workers = ",".join(f"127.0.0.1:{port}" for port in _free_ports(2))
    script = tmp_path / "worker.py"
    script.write_text(textwrap.dedent(_WORKER))
    outs = [tmp_path / f"weights{i}.npz" for i in range(2)]
    stdouts = _run_workers(
        [[sys.executable, str(script), workers, str(i), str(outs[i])] for i in range(2)],
        timeout=CHILD_TIMEOUT,
        env=_child_env(KERAS_BACKEND="tensorflow"),
    )
    results = [json.loads(s.strip().splitlines()[-1]) for s in stdouts]
    # Both workers end with bit-identical weights...
    w0, w1 = np.load(outs[0]), np.load(outs[1])
    assert len(w0.files) == 4
    for name in w0.files:
        np.testing.assert_array_equal(w0[name], w1[name])
    for r in results:
        # ...that moved away from the initial weights...
        assert r["moved"] > 1e-3
        # ...to where a single-device `fit` on the same global batches goes.
        assert r["max_diff_to_fit"] < 1e-4, r
        np.testing.assert_allclose(r["history"]["loss"], r["fit_loss"], rtol=1e-4)
    assert results[0]["history"] == results[1]["history"]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", pytest.param("jax", marks=pytest.mark.requires("jax"))])
def test_multi_worker_command_trains_the_shapes_cnn_and_saves_weights(tmp_path, backend):
    out = tmp_path / "weights.npz"
    [port] = _free_ports(1)
    [stdout] = _run_workers(
        [[
            sys.executable, "-m", "cnnexercises.multi_worker",
            "--workers", f"127.0.0.1:{port}", "--index", "0",
            "--epochs", "2", "--n-train", "256", "--image-size", "16", "--batch-size", "32",
            "--save-weights", str(out),
        ]],
        timeout=CHILD_TIMEOUT,
        env=_child_env(KERAS_BACKEND=backend),
    )
    lines = [line for line in stdout.strip().splitlines() if not line.startswith("[Gloo]")]
    assert lines[0].startswith("epoch 1/2: loss ") and "(1 replicas)" in lines[0]
    history = json.loads(lines[-1])["history"]
    assert len(history["loss"]) == 2 and all(0 <= a <= 1 for a in history["accuracy"])
    assert history["loss"][1] < history["loss"][0]
    weights = np.load(out)
    assert [weights[k].shape for k in weights.files] == [(3, 3, 3, 16), (16,), (3, 3, 16, 32), (32,), (128, 3), (3,)]


_JAX_PROCESS = """
import json, sys
import numpy as np
from cnnexercises.multi_worker import jax_multi_process

coordinator, index, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
strategy = jax_multi_process(coordinator, 2, index)
import keras

def build_model():
    model = keras.Sequential([
        keras.Input((10, 9, 2)),
        keras.layers.Conv2D(3, 3, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(4, activation="softmax"),
    ])
    model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    return model

rng = np.random.default_rng(0)
x = rng.random((96, 10, 9, 2)).astype("float32")
y = rng.integers(0, 4, 96)
keras.utils.set_random_seed(0)  # the same initial weights everywhere (JAX checks)
with strategy.scope():
    model = build_model()
initial = model.get_weights()
# Each process feeds its own shard; per-process batch 8 -> global batch 16.
history = model.fit(x[index::2], y[index::2], batch_size=8, epochs=2, shuffle=False, verbose=0).history
trained = model.get_weights()

# Oracle: the same model, from the same initial weights, fitted on one device by Keras.
keras.distribution.set_distribution(None)
reference = build_model()
reference.set_weights(initial)
fit = reference.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
np.savez(out, *trained)
print(json.dumps({
    "replicas": strategy.num_replicas_in_sync,
    "history": history,
    "fit_loss": fit.history["loss"],
    "max_diff_to_fit": max(float(np.abs(a - b).max()) for a, b in zip(trained, reference.get_weights())),
    "moved": max(float(np.abs(a - b).max()) for a, b in zip(trained, initial)),
}))
"""


@pytest.mark.slow
@pytest.mark.requires("jax")
def test_two_jax_processes_on_localhost_fit_the_same_weights_as_one_device(tmp_path):
    [port] = _free_ports(1)
    script = tmp_path / "process.py"
    script.write_text(textwrap.dedent(_JAX_PROCESS))
    outs = [tmp_path / f"weights{i}.npz" for i in range(2)]
    stdouts = _run_workers(
        [[sys.executable, str(script), f"127.0.0.1:{port}", str(i), str(outs[i])] for i in range(2)],
        timeout=CHILD_TIMEOUT,
        env=_child_env(KERAS_BACKEND="jax"),
    )
    results = [json.loads(s.strip().splitlines()[-1]) for s in stdouts]
    w0, w1 = np.load(outs[0]), np.load(outs[1])
    for name in w0.files:
        np.testing.assert_array_equal(w0[name], w1[name])
    for r in results:
        assert r["replicas"] == 2 and r["moved"] > 1e-3
        assert r["max_diff_to_fit"] < 1e-4, r
        np.testing.assert_allclose(r["history"]["loss"], r["fit_loss"], rtol=1e-4)
