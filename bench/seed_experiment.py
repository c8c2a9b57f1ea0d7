"""The post's four models, plain Keras ``model.fit`` against ``degenet.fit``.

Usage::

    python bench/seed_experiment.py            # 100,000 people, as in the issue
    python bench/seed_experiment.py --quick    # 20,000 people: a short check
    python bench/seed_experiment.py --n 50000 --seed 3 --patience 5

Three processes, one after the other: plain Keras (no compilation cache, as Keras runs by
default); degenet with an empty compilation cache (a fresh folder: every program
compiled); degenet again in a second process on that folder (the warm cache: a second run
of the same command). Both degenet figures are printed against the same Keras run.

Both sides see the same ``balloons(n, seed)`` table and the features ``relationship,
children, age``; the targets are ``num_balloons`` (linear, mlp) and ``color`` (logistic, mlp).

Plain Keras, the post's setup on the JAX backend: ``Sequential`` of ``Dense`` layers (mlp:
64 and 32 relu units, as degenet's default ``mlp``), Adam at Keras's default learning rate
1e-3, ``model.fit(batch_size=32, epochs=1000, validation_split=0.2)`` and
``EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)`` (the post does
not print its patience; 5 is degenet's default too, and restoring the best weights is what
makes Keras's reported validation loss the one of the model it returns).
degenet: ``degenet.fit`` with its defaults.

Each fit is timed from building the model to the trained model (imports and data generation
excluded; JAX is initialised once before any timing). degenet's compile time is reported
apart from its training time. Keras's ``validation_split`` holds out the last 20% of rows,
degenet a shuffled (stratified) 20%: the two validation losses are on different rows of the
same distribution, so both models are also scored on one fresh test table of the same size
(numpy, float64; Keras's probabilities clipped at 1e-7 as its own loss does).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import numpy as np  # noqa: E402

import degenet  # noqa: E402
import degenet.fitting  # noqa: E402,F401 (imports are nobody's fit time)
from degenet._keras import keras  # noqa: E402
from degenet.datasets import balloons  # noqa: E402

FEATURES = ["relationship", "children", "age"]
MODELS = [("num_balloons", "linear"), ("num_balloons", "mlp"),
          ("color", "logistic"), ("color", "mlp")]


def keras_fit(frame, target: str, model: str, *, seed: int, patience: int) -> dict:
    """The post's way: a Sequential model trained by ``model.fit``."""
    keras.utils.set_random_seed(seed)
    X = frame[FEATURES].to_numpy(np.float32)
    y = frame[target].to_numpy(np.float32)
    classify = target == "color"
    start = time.perf_counter()
    layers = [keras.Input(shape=(len(FEATURES),))]
    if model == "mlp":
        layers += [keras.layers.Dense(64, activation="relu"),
                   keras.layers.Dense(32, activation="relu")]
    layers.append(keras.layers.Dense(1, activation="sigmoid" if classify else None))
    net = keras.Sequential(layers)
    net.compile(optimizer="adam", loss="binary_crossentropy" if classify else "mse")
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                            restore_best_weights=True)
    history = net.fit(X, y, batch_size=32, epochs=1000, validation_split=0.2,
                      callbacks=[stopper], verbose=0).history
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "epochs": len(history["val_loss"]),
            "val_loss": float(np.min(history["val_loss"])), "predict": net}


def keras_test_loss(net, test, target: str) -> float:
    X = test[FEATURES].to_numpy(np.float32)
    y = test[target].to_numpy(np.float64)
    mu = net.predict(X, batch_size=8192, verbose=0)[:, 0].astype(np.float64)
    if target != "color":
        return float(np.mean((y - mu) ** 2))
    mu = np.clip(mu, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(mu) + (1 - y) * np.log1p(-mu)))


def degenet_fit(frame, target: str, model: str, *, seed: int) -> dict:
    start = time.perf_counter()
    fitted = degenet.fit(frame, target=target, model=model, features=FEATURES, seed=seed)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "epochs": fitted.epochs, "val_loss": float(fitted.val_loss),
            "compile": fitted.training.compile_seconds, "train": fitted.training.train_seconds,
            "predict": fitted}


def degenet_test_loss(fitted, test, target: str) -> float:
    eta = fitted.linear_predictor(test[FEATURES]).astype(np.float64)
    y = fitted.family.encode_target(test[target]).y
    return float(np.mean(fitted.family.loss_np(y, eta)))


def child(args) -> None:
    """One way, in this process: the four models, their figures as JSON on the last line."""
    n = 20_000 if args.quick else args.n
    frame = balloons(n, seed=args.seed)
    test = balloons(n, seed=args.seed + 1_000_003)
    jax.numpy.zeros(1).block_until_ready()  # backend start-up is nobody's fit time
    results = []
    for target, model in MODELS:
        if args.way == "keras":
            r = keras_fit(frame, target, model, seed=args.seed, patience=args.patience)
            r["test_loss"] = keras_test_loss(r.pop("predict"), test, target)
        else:
            r = degenet_fit(frame, target, model, seed=args.seed)
            r["test_loss"] = degenet_test_loss(r.pop("predict"), test, target)
        results.append(r)
    print(json.dumps(results))


def run_child(args, way: str, env: dict) -> list:
    command = [sys.executable, __file__, "--child", way, "--n", str(args.n), "--seed",
               str(args.seed), "--patience", str(args.patience)] + (
                   ["--quick"] if args.quick else [])
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"{way} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="people (rows); default 100000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--patience", type=int, default=5, help="Keras EarlyStopping patience")
    parser.add_argument("--quick", action="store_true", help="20,000 people")
    parser.add_argument("--skip-keras", action="store_true", help="time degenet only")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        args.way = args.child
        child(args)
        return 0
    n = 20_000 if args.quick else args.n
    print(f"# seed experiment: n={n}, seed={args.seed}, backend={keras.backend.backend()}, "
          f"devices={jax.devices()}, keras patience={args.patience}; "
          f"load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory() as cache:
        on = {"DEGENET_COMPILE_CACHE": "1", "DEGENET_CACHE_DIR": cache}
        ways = {"keras": None if args.skip_keras else
                run_child(args, "keras", {"DEGENET_COMPILE_CACHE": "0"}),
                "degenet (empty cache)": run_child(args, "degenet", on),
                "degenet (warm cache)": run_child(args, "degenet", on)}
    print(f"{'target':<13}{'model':<9}{'way':<22}{'wall s':>8}{'compile':>8}{'train':>8}"
          f"{'epochs':>7}{'val_loss':>12}{'test_loss':>12}")
    for i, (target, model) in enumerate(MODELS):
        for way, results in ways.items():
            if results is None:
                continue
            r = results[i]
            compile_ = f"{r['compile']:8.2f}" if "compile" in r else f"{'-':>8}"
            train = f"{r['train']:8.2f}" if "train" in r else f"{'-':>8}"
            print(f"{target:<13}{model:<9}{way:<22}{r['seconds']:8.2f}{compile_}{train}"
                  f"{r['epochs']:7d}{r['val_loss']:12.5g}{r['test_loss']:12.5g}")
    for way in ("degenet (empty cache)", "degenet (warm cache)"):
        summarize(way, ways[way], ways["keras"],
                  16 if "warm" in way else 12)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


def summarize(way, ours, theirs, target) -> None:
    total = sum(r["seconds"] for r in ours)
    compile_ = sum(r["compile"] for r in ours)
    train = sum(r["train"] for r in ours)
    print(f"\n{way}: total {total:.2f} s (compile {compile_:.2f} s, train {train:.2f} s, "
          f"other {total - compile_ - train:.2f} s)")
    if theirs is None:
        return
    keras_total = sum(r["seconds"] for r in theirs)
    worst_val = max(a["val_loss"] / b["val_loss"] for a, b in zip(ours, theirs))
    worst_test = max(a["test_loss"] / b["test_loss"] for a, b in zip(ours, theirs))
    print(f"  speed-up against plain Keras ({keras_total:.2f} s): {keras_total / total:.1f}x "
          f"(target >= {target}x, goal 20x); worst val_loss ratio degenet/keras "
          f"{worst_val:.3f} (target <= 1.05), worst test_loss ratio {worst_test:.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
