"""Regressions at their optimum, and verdicts that hold across seeds, on bundled data sets.

    .venv/bin/python bench/optimum.py distance [names]      # GD vs exact, seeds 0-4
    .venv/bin/python bench/optimum.py verdicts [names]      # compare's verdict, seeds 0-4
    .venv/bin/python bench/optimum.py split [names]         # the same with one split (cv=1)

``distance``: ``degenet.fit`` with the defaults (gradient descent, 20% held out) on each data
set that ships with scikit-learn or statsmodels; the largest distance of a coefficient from
the exact optimum on the same training rows, in std errors (``fit.exact.max_std_diff``),
and the epochs, per seed. ``S``: the data are separated (no optimum to reach; the fit is
early-stopped); ``!``: the check after training failed (``fit.exact.at_optimum``). ``verdicts`` / ``split``: ``degenet.compare`` with its defaults (or one
split), the verdict ``prefer`` and the interval per seed. The figures are in
bench/optimum.md.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn import datasets

import degenet

SEEDS = range(5)


def _frame(exog: pd.DataFrame, name: str, endog: pd.Series) -> pd.DataFrame:
    frame = exog.copy()
    frame[name] = np.asarray(endog)
    return frame


def load(name: str) -> tuple[pd.DataFrame, str, str]:
    """``(frame, target, family)``; the family is named, as a user who knows the data would."""
    if name == "diabetes":
        return datasets.load_diabetes(as_frame=True).frame, "target", "gaussian"
    if name in ("iris", "wine", "breast_cancer"):
        frame = getattr(datasets, f"load_{name}")(as_frame=True).frame
        return frame, "target", "bernoulli" if name == "breast_cancer" else "categorical"
    if name == "anes96":
        frame = sm.datasets.anes96.load_pandas().data
        return frame[["logpopul", "selfLR", "age", "educ", "income", "PID"]], "PID", "categorical"
    if name == "cpunish":
        data = sm.datasets.cpunish.load_pandas()
        exog = data.exog.assign(INCOME=np.log(data.exog["INCOME"]))
        return _frame(exog, "EXECUTIONS", data.endog), "EXECUTIONS", "poisson"
    if name == "star98":  # the share above the national median, as a number
        data = sm.datasets.star98.load_pandas()
        share = data.endog["NABOVE"] / (data.endog["NABOVE"] + data.endog["NBELOW"])
        return _frame(data.exog, "share", share), "share", "gaussian"
    if name == "fair":
        return sm.datasets.fair.load_pandas().data, "affairs", "gaussian"
    target, family = {"longley": ("TOTEMP", "gaussian"), "stackloss": ("STACKLOSS", "gaussian"),
                      "copper": ("WORLDCONSUMPTION", "gaussian"),
                      "scotland": ("YES", "gaussian"), "ccard": ("AVGEXP", "gaussian"),
                      "spector": ("GRADE", "bernoulli"), "randhie": ("mdvis", "poisson"),
                      "committee": ("BILLS104", "poisson")}[name]
    data = getattr(sm.datasets, name).load_pandas()
    return _frame(data.exog, target, data.endog), target, family


NAMES = ("diabetes", "longley", "stackloss", "copper", "scotland", "ccard", "fair", "star98",
         "spector", "breast_cancer", "iris", "wine", "anes96", "cpunish", "randhie",
         "committee")


def distance(name: str) -> str:
    frame, target, family = load(name)
    cells = []
    for seed in SEEDS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = degenet.fit(frame, target, family=family, seed=seed)
        separated = fitted.exact.diagnostics.separation is not None
        short = not (separated or fitted.exact.at_optimum)  # the check failed: marked "!"
        cells.append(f"{fitted.exact.max_std_diff:.2f}{'S' if separated else ''}"
                     f"{'!' if short else ''} ({fitted.epochs})")
    return " | ".join(cells)


def verdicts(name: str, **design) -> str:
    frame, target, family = load(name)
    cells = []
    for seed in SEEDS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            comparison = degenet.compare(frame, target, family=family, seed=seed, **design)
        verdict = comparison.verdicts[0]
        cells.append(f"{verdict.prefer} [{verdict.ci_low:+.3g}, {verdict.ci_high:+.3g}]")
    return " | ".join(cells)


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "distance"
    names = sys.argv[2].split(",") if len(sys.argv) > 2 else NAMES
    for name in names:
        start = time.perf_counter()
        if mode == "distance":
            row = distance(name)
        else:
            row = verdicts(name, **({"cv": 1} if mode == "split" else {}))
        rows = len(load(name)[0])
        print(f"| {name} | {rows} | {row} | {time.perf_counter() - start:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
