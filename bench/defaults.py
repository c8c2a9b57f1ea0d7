"""Choose TrainSettings defaults (batch size, learning rate) by measurement.

Usage::

    python bench/defaults.py                 # the grid below on every data set
    python bench/defaults.py --quick         # smaller data, fewer settings

For each data set and model, every (batch_size, learning_rate) of the grid is fitted with
``degenet.fit`` (patience 5, seed 0) and the script prints the epochs, the optimizer steps
(epochs x batches per epoch: the machine-independent cost), the training seconds and the
best validation loss relative to the best one any setting reached for that model. The
chosen defaults and the figures that chose them are in ``bench/defaults.md``.

Data sets (all offline, with a known truth or a standard benchmark):

- ``balloons``: the post's demo, 100,000 rows, its four models.
- ``friedman1``: scikit-learn's ``make_friedman1`` (y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2
  + 10 x4 + 5 x5 + N(0, 1), 10 features of which 5 are noise), 50,000 rows: linear, mlp.
- ``logit``: a logistic regression with 10 correlated features and known coefficients,
  50,000 rows: logistic, mlp.
- ``digits``: scikit-learn's 8x8 digits (1,797 rows, 64 features, 10 classes): softmax, mlp.
- ``cancer``: scikit-learn's breast cancer (569 rows, 30 features): logistic, mlp.
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings

import numpy as np
import pandas as pd
from sklearn import datasets as skdata

import degenet


def balloons(n):
    frame = degenet.datasets.balloons(n, seed=0)
    features = ["relationship", "children", "age"]
    return [(frame, "num_balloons", "linear", features), (frame, "num_balloons", "mlp", features),
            (frame, "color", "logistic", features), (frame, "color", "mlp", features)]


def friedman(n):
    X, y = skdata.make_friedman1(n_samples=n, n_features=10, noise=1.0, random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(10)]).assign(y=y)
    return [(frame, "y", "linear", None), (frame, "y", "mlp", None)]


def logit(n):
    rng = np.random.default_rng(0)
    cov = 0.5 ** np.abs(np.subtract.outer(np.arange(10), np.arange(10)))
    X = rng.multivariate_normal(np.zeros(10), cov, size=n)
    beta = np.linspace(-1.0, 1.0, 10)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(X @ beta + 0.3)))).astype(int)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(10)]).assign(y=y)
    return [(frame, "y", "logistic", None), (frame, "y", "mlp", None)]


def digits(_):
    data = skdata.load_digits(as_frame=True)
    frame = data.frame.rename(columns={"target": "digit"})
    frame["digit"] = frame["digit"].map(lambda d: f"d{d}")
    return [(frame, "digit", "softmax", None), (frame, "digit", "mlp", None)]


def cancer(_):
    data = skdata.load_breast_cancer(as_frame=True)
    return [(data.frame, "target", "logistic", None), (data.frame, "target", "mlp", None)]


DATA = {"balloons": (balloons, 100_000), "friedman1": (friedman, 50_000),
        "logit": (logit, 50_000), "digits": (digits, 0), "cancer": (cancer, 0)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", default=",".join(DATA))
    parser.add_argument("--batch", default="32,128,256,512")
    parser.add_argument("--lr", default="0.001,0.003,0.01")
    args = parser.parse_args(argv)
    batches = [int(b) for b in args.batch.split(",")]
    rates = [float(r) for r in args.lr.split(",")]
    warnings.simplefilter("ignore")
    print(f"{'data':<10}{'model':<9}{'batch':>6}{'lr':>7}{'epochs':>7}{'steps':>8}"
          f"{'train s':>9}{'val_loss':>12}{'vs best':>9}")
    for name in args.data.split(","):
        make, n = DATA[name]
        for frame, target, model, features in make(n // 5 if args.quick else n):
            rows = []
            for batch, rate in itertools.product(batches, rates):
                start = time.perf_counter()
                fitted = degenet.fit(frame, target=target, model=model, features=features,
                                     seed=0, batch_size=batch, learning_rate=rate)
                seconds = time.perf_counter() - start
                steps = fitted.epochs * int(np.ceil(len(fitted.train_rows) / batch))
                rows.append((batch, rate, fitted.epochs, steps, fitted.training.train_seconds,
                             fitted.val_loss, seconds))
            best = min(r[5] for r in rows)
            for batch, rate, epochs, steps, train, val, _ in rows:
                print(f"{name:<10}{model:<9}{batch:6d}{rate:7.3g}{epochs:7d}{steps:8d}"
                      f"{train:9.2f}{val:12.5g}{val / best:9.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
