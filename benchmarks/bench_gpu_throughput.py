"""Training throughput (images/s or clips/s) of a reference model, on CPU and on GPU if present.

The model is Conv2D(32)-MaxPool-Conv2D(64)-MaxPool-Flatten-Dense(3) on 32×32×3 generated
shapes, compiled with Adam, trained with `Model.fit` under `cnnexercises.distribute
.get_strategy()` for a fixed number of steps after a warm-up (compilation) fit. Each device
kind runs in its own child process: the CPU one with the GPUs hidden
(`CUDA_VISIBLE_DEVICES=-1`, `JAX_PLATFORMS=cpu`), so `get_strategy()` chooses exactly as
it would on that hardware. Works with KERAS_BACKEND=tensorflow or jax.

`--model video` trains ex07's reference `build_video_classifier` instead, on
`load_moving_shapes` clips of 8x32x32 (the exercise's default input shape), and also prints
its accuracy on 512 held-out clips after the timed steps.

    python benchmarks/bench_gpu_throughput.py [--steps 40] [--batch-size 128]
    python benchmarks/bench_gpu_throughput.py --model video --steps 60 --batch-size 64
    KERAS_BACKEND=jax python benchmarks/bench_gpu_throughput.py --steps 200 --batch-size 256

Prints one line per device kind, e.g.
    cpu  tensorflow  default strategy, 1 replica   batch 128   40 steps   1234 images/s   103.7 ms/step
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

POOL_STEPS = 8  # distinct batches in the data pool; fit runs several epochs over it


def _hide_gpus():
    os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    os.environ["JAX_PLATFORMS"] = "cpu"


def _gpu_names():
    """Names of the visible GPUs for the current backend (imports it)."""
    import keras

    if keras.config.backend() == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
    import jax

    return [d.device_kind for d in jax.devices() if d.platform == "gpu"]


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    return f"{os.cpu_count()} cores"


def _model(keras):
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            layers.Conv2D(32, 3, activation="relu"),    # (30, 30, 32)
            layers.MaxPooling2D(2),                     # (15, 15, 32)
            layers.Conv2D(64, 3, activation="relu"),    # (13, 13, 64)
            layers.MaxPooling2D(2),                     # (6, 6, 64)
            layers.Flatten(),                           # (2304,)
            layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _video_model():
    """ex07's reference `build_video_classifier` for (8, 32, 32, 1) clips and 4 directions."""
    from autograder.reference import load_reference

    return load_reference("ex07_video").build_video_classifier((8, 32, 32, 1), 4)


def _data(model_kind, n, seed):
    from cnnexercises.datasets import make_moving_shapes, make_shapes

    if model_kind == "video":
        return make_moving_shapes(n, frames=8, image_size=32, seed=seed)  # (n, 8, 32, 32, 1), (n,)
    return make_shapes(n, image_size=32, seed=seed)  # (n, 32, 32, 3), (n,)


def measure(kind, steps, batch_size, model_kind="shapes"):
    """Run in a child: train for `steps` steps on `kind` and return the figures as a dict."""
    if kind == "cpu":
        _hide_gpus()
    import keras

    from cnnexercises import distribute

    gpus = _gpu_names()
    if kind == "gpu" and not gpus:
        return {"kind": kind, "backend": keras.config.backend(), "skipped": "no GPU visible"}
    distribute.set_seed(0, deterministic=False)
    strategy = distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    global_batch = batch_size * replicas if kind == "gpu" else batch_size
    x, y = _data(model_kind, POOL_STEPS * global_batch, seed=0)  # (P, ...), (P,)
    with strategy.scope():
        model = _video_model() if model_kind == "video" else _model(keras)
    model.fit(x[: 2 * global_batch], y[: 2 * global_batch], batch_size=global_batch, epochs=1, verbose=0)  # compile
    epochs = max(1, -(-steps // POOL_STEPS))
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=global_batch, epochs=epochs, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
    done = epochs * POOL_STEPS
    x_test, y_test = _data(model_kind, 512, seed=1)
    accuracy = float(model.evaluate(x_test, y_test, batch_size=global_batch, verbose=0)[1])
    return {
        "kind": kind,
        "backend": keras.config.backend(),
        "device": ", ".join(gpus) if kind == "gpu" else _cpu_name(),
        "strategy": "default strategy" if type(strategy).__name__.startswith("_Default") else type(strategy).__name__,
        "replicas": replicas,
        "batch": global_batch,
        "steps": done,
        "seconds": seconds,
        "images_per_s": done * global_batch / seconds,
        "ms_per_step": 1000 * seconds / done,
        "final_loss": float(history.history["loss"][-1]),
        "held_out_accuracy": accuracy,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=40, help="timed training steps per device kind (default 40)")
    parser.add_argument("--batch-size", type=int, default=128, help="batch per replica (default 128)")
    parser.add_argument("--kinds", default="cpu,gpu", help="device kinds to measure (default cpu,gpu)")
    parser.add_argument("--model", choices=["shapes", "video"], default="shapes",
                        help="shapes: a small CNN on 32x32 images (default); video: ex07's reference on clips")
    parser.add_argument("--child", choices=["cpu", "gpu"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(measure(args.child, args.steps, args.batch_size, args.model)), flush=True)
        return

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    unit = "clips" if args.model == "video" else "images"
    print(f"KERAS_BACKEND={os.environ.get('KERAS_BACKEND', 'tensorflow (default)')}, model {args.model}, "
          f"{args.steps} steps after a warm-up fit, batch {args.batch_size} per replica")
    for kind in args.kinds.split(","):
        command = [sys.executable, __file__, "--child", kind, "--steps", str(args.steps),
                   "--batch-size", str(args.batch_size), "--model", args.model]
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            print(f"{kind:4} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        if "skipped" in r:
            print(f"{kind:4} {r['backend']:10}  skipped: {r['skipped']}")
            continue
        print(
            f"{kind:4} {r['backend']:10}  {r['strategy']}, {r['replicas']} replica(s)  batch {r['batch']:4}  "
            f"{r['steps']:4} steps  {r['images_per_s']:9.0f} {unit}/s  {r['ms_per_step']:7.1f} ms/step  "
            f"held-out accuracy {r['held_out_accuracy']:.3f}  [{r['device']}]"
        )


if __name__ == "__main__":
    main()
