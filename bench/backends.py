"""The post's four models on each installed Keras backend: degenet's route against plain
Keras ``model.fit`` on the same backend, each backend in its own process.

Usage::

    python bench/backends.py                          # every backend this Python has
    python bench/backends.py --n 20000 --backends torch
    python bench/backends.py --python torch=.venv-torch/bin/python \\
        --python tensorflow=/path/to/tf-venv/bin/python

For each backend and model (``num_balloons``: linear, mlp; ``color``: logistic, mlp on
``balloons(n, seed)``) both routes train the same network from the same start on the same
split with the same settings (degenet's batch size, learning rate, patience, restore of the
best weights): degenet's route (the JAX engine, the TensorFlow XLA program, the torch loop)
and Keras's own ``model.fit`` (degenet's fallback route, the peer). Printed per backend:
seconds (wall and CPU of the process, imports and data excluded), the validation loss, the
held-out loss on a fresh table of n/5 rows (the family's loss per row), and for the
regressions the distance to the exact optimum in std errors (``fit.exact.max_std_diff``).

torch runs on one thread on both routes (``torch.set_num_threads(1)``): at torch's default
of two threads on a busy 2-core machine Keras's loop took 713 s for one MLP instead of 17 s.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
import warnings

MODELS = [("num_balloons", "linear"), ("num_balloons", "mlp"),
          ("color", "logistic"), ("color", "mlp")]
FEATURES = ["relationship", "children", "age"]
ROUTES = ("degenet", "keras")


def _worker(n: int, seed: int) -> None:
    """One backend (KERAS_BACKEND is set by the parent): every model on both routes."""
    import numpy as np

    import degenet
    from degenet._keras import backend
    from degenet.datasets import balloons
    from degenet.train import loop

    if backend() == "torch":
        import torch

        torch.set_num_threads(1)
    data, test = balloons(n, seed=seed), balloons(n // 5, seed=seed + 1)
    route_of = {"degenet": (loop._backend_route, loop.dense_stack),
                "keras": (lambda net, settings: None, lambda net: None)}
    for route in ROUTES:
        loop._backend_route, loop.dense_stack = route_of[route]
        for target, model in MODELS:
            wall, cpu = time.perf_counter(), time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = degenet.fit(data, target=target, model=model, features=FEATURES,
                                  seed=seed)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            eta = fit.linear_predictor(test)
            held_out = float(np.mean(fit.family.loss_np(
                fit.family.encode_target(test[target]).y, eta.astype(np.float64))))
            print(json.dumps({
                "backend": backend(), "route": route, "target": target, "model": model,
                "engine": fit.training.engine, "wall": wall, "cpu": cpu,
                "epochs": fit.epochs, "val_loss": fit.val_loss, "held_out": held_out,
                "std_errors": None if fit.exact is None else fit.exact.max_std_diff}),
                flush=True)


def _run_backend(name: str, python: str, n: int, seed: int) -> list[dict]:
    env = {**os.environ, "KERAS_BACKEND": name}
    done = subprocess.run([python, __file__, "--worker", "--n", str(n), "--seed", str(seed)],
                          env=env, capture_output=True, text=True)
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0:
        print(f"{name}: failed ({done.stderr.strip().splitlines()[-1:]})", file=sys.stderr)
    return rows


def _table(rows: list[dict]) -> str:
    lines = []
    for name in dict.fromkeys(r["backend"] for r in rows):
        mine = [r for r in rows if r["backend"] == name]
        lines.append(f"\n{name}")
        lines.append(f"  {'model':<22}{'route':<10}{'engine':<12}{'wall s':>8}{'cpu s':>8}"
                     f"{'epochs':>7}{'val_loss':>12}{'held-out':>12}{'std err':>9}")
        for r in mine:
            distance = "" if r["std_errors"] is None else f"{r['std_errors']:.2f}"
            lines.append(f"  {r['target'] + ' ' + r['model']:<22}{r['route']:<10}"
                         f"{r['engine']:<12}{r['wall']:8.2f}{r['cpu']:8.2f}{r['epochs']:7d}"
                         f"{r['val_loss']:12.6g}{r['held_out']:12.6g}{distance:>9}")
        totals = {route: (sum(r["wall"] for r in mine if r["route"] == route),
                          sum(r["cpu"] for r in mine if r["route"] == route)) for route in ROUTES}
        if all(totals[route][1] > 0 for route in ROUTES):
            (dw, dc), (kw, kc) = totals["degenet"], totals["keras"]
            lines.append(f"  four models: degenet {dw:.1f} s wall / {dc:.1f} s CPU, keras "
                         f"{kw:.1f} / {kc:.1f}: {kw / dw:.1f}x wall, {kc / dc:.1f}x CPU faster")
            for target, model in MODELS:
                pair = {r["route"]: r for r in mine if (r["target"], r["model"]) == (target, model)}
                if len(pair) == 2:
                    ratio = pair["degenet"]["held_out"] / pair["keras"]["held_out"]
                    lines.append(f"  {target} {model}: held-out loss degenet / keras = "
                                 f"{ratio:.4f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backends", nargs="*", default=None)
    parser.add_argument("--python", action="append", default=[],
                        help="BACKEND=PYTHON: the interpreter that has that backend")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.n, args.seed)
        return
    pythons = dict(item.split("=", 1) for item in args.python)
    names = args.backends or [name for name in ("jax", "tensorflow", "torch")
                              if name in pythons or importlib.util.find_spec(name)]
    rows = []
    for name in names:
        rows += _run_backend(name, pythons.get(name, sys.executable), args.n, args.seed)
    print(f"balloons(n={args.n:,}, seed={args.seed}); one process per backend")
    print(_table(rows))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
