"""What the regression misses: the interactions and one-variable nonlinearities a network uses.

Friedman and Popescu's H statistic (2008, "Predictive learning via rule ensembles",
section 8), from the network's partial dependence on a seeded sample of ``m`` held-out
rows. For a set of inputs ``S``, ``PD_S(x_S)`` is the network's mean prediction with ``S``
set to ``x_S`` and the other inputs as they are in the sample; one ``m x m`` grid of
predictions gives both ``PD_S`` at the sample's points (averaged one way) and ``PD_-S``
(averaged the other way). Everything is centred over the sample, and:

* **interaction of j and k**: ``sum_i (PD_jk - PD_j - PD_k)^2`` over the sample: what the
  pair does together beyond the sum of what each does alone. Friedman's ``H_jk`` divides it
  by ``sum_i PD_jk^2``; the **strength** here divides it by the total variation of the
  network's output, ``sum_i f(x_i)^2``, so that a strong interaction of two minor inputs
  does not outrank a modest one of two major inputs;
* **nonlinearity of x**: what a straight line in ``x`` leaves of ``PD_x`` (least squares),
  by the same denominator;
* **overall interaction of j** (Friedman's ``H_j``): ``f - PD_j - PD_-j``. Pairs are only
  examined among the :data:`SCREENED` inputs with the strongest overall interaction, as
  Friedman and Popescu advise: the ``O(p^2)`` pairs would otherwise dominate the cost.

The network is read on the scale of its linear predictor ``eta`` (the logit, the log
mean): a regression is additive there, so only what is not additive on that scale is
something a regression's formula must add. (On the probability scale even a plain logistic
regression "interacts": the sigmoid couples every input.) Softmax logits are centred per
row first (:func:`degenet.comparison.probe.identified`).

A term is **supported** when every coefficient it adds to the regression earns its keep:
its strength per added coefficient (1 for an interaction of two numbers, ``k - 1`` per
category of ``k`` levels in it, ``df - 1 = 3`` for a spline, which replaces a straight
line) is at least :data:`FLOOR` of the network's variation and at least
:data:`SHARE_OF_STRONGEST` of the strongest term's per coefficient. The floor keeps the
noise of a network fitted to a linear truth out (below 0.1% in our checks); the relative
bar keeps the terms that matter beside the main one, and counting coefficients keeps a
4-column spline from entering on the strength of one interaction. On the post's balloons
``relationship:children`` accounts for 1% of the network's variation, ``relationship:age``
13%; on ``sin(3x)`` the spline of ``x`` for a quarter.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from degenet.comparison.probe import blocks, design, identified, inputs, linear_predictor
from degenet.data.schema import CATEGORICAL
from degenet.fitted import Fit
from degenet.randomness import derive

SAMPLE_ROWS = 200
MOST_GRID_ROWS = 1_500_000  # predictions of all grids together; the sample shrinks to fit
SCREENED = 8
FLOOR = 0.002
SHARE_OF_STRONGEST = 0.05
SPLINE_DF = 4
MIN_DISTINCT = 10  # a spline needs this many distinct values in the sample
COLUMNS = ("term", "kind", "variables", "strength", "h", "coefficients", "supported")


def formula_name(column: str) -> str:
    """A column as a formula names it: backticks unless it is a plain identifier."""
    return column if column.isidentifier() else f"`{column}`"


def spline_term(column: str) -> str:
    """The natural cubic regression spline of a column (centred: no second intercept)."""
    return f"cr({formula_name(column)}, df={SPLINE_DF}, constraints='center')"


def interaction_term(first: str, second: str) -> str:
    """``first:second``, as formulaic writes an interaction."""
    return f"{formula_name(first)}:{formula_name(second)}"


def rank_terms(fitted: Fit, frame: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    """The interactions and nonlinearities of ``fitted`` on held-out rows ``frame``, ranked.

    Returns a frame with :data:`COLUMNS`, strongest first: ``kind`` is ``"interaction"`` or
    ``"nonlinearity"``, ``variables`` the input columns, ``strength`` the share of the
    network's variation, ``h`` Friedman's H (pairs) or the share of the input's partial
    dependence that is not a straight line (nonlinearities), ``coefficients`` how many it
    adds to a regression, ``supported`` whether the term
    belongs in the regression (see the module's text). ``frame.attrs["sample_rows"]`` is m.
    """
    columns = inputs(fitted)
    names = [c.name for c in columns]
    cost = {c.name: len(c.levels) - 1 if c.kind == CATEGORICAL else 1 for c in columns}
    screened_count = min(len(names), SCREENED)
    n_pairs = screened_count * (screened_count - 1) // 2
    size = int(min(SAMPLE_ROWS, len(frame), np.sqrt(MOST_GRID_ROWS / (len(names) + n_pairs))))
    rng = np.random.default_rng(derive(seed, "sample"))
    sample = frame.iloc[np.sort(rng.choice(len(frame), size=size, replace=False))]
    sample = sample[names].reset_index(drop=True)
    X_sample = design(fitted, sample)
    one = {name: _grid(fitted, sample, X_sample, [name]) for name in names}
    f = _centred(one[names[0]][np.arange(size), np.arange(size)])  # G[i, i] is row i itself
    total = float((f**2).sum())
    if total <= 0:
        return _table([], size)
    pd_one = {name: _centred(grid.mean(axis=1)) for name, grid in one.items()}
    overall = {name: float(((f - pd_one[name] - _centred(grid.mean(axis=0)))**2).sum()) / total
               for name, grid in one.items()}
    rows = [_nonlinearity(column, sample, pd_one[column.name], total) for column in columns
            if column.kind != CATEGORICAL
            and sample[column.name].nunique() >= MIN_DISTINCT]
    screened = sorted(names, key=overall.get, reverse=True)[:SCREENED]
    for first, second in combinations([n for n in names if n in screened], 2):
        joint = _centred(_grid(fitted, sample, X_sample, [first, second]).mean(axis=1))
        excess = float(((joint - pd_one[first] - pd_one[second])**2).sum())
        rows.append({"term": interaction_term(first, second), "kind": "interaction",
                     "variables": (first, second), "strength": excess / total,
                     "coefficients": cost[first] * cost[second],
                     "h": float(np.sqrt(excess / max(float((joint**2).sum()), 1e-300)))})
    return _table(rows, size)


def _grid(fitted: Fit, sample: pd.DataFrame, X_sample: np.ndarray, changed: list[str]
          ) -> np.ndarray:
    """``G[i, l]``: the network on sample row ``l`` with the ``changed`` inputs of row ``i``;
    shape ``(m, m, n_outputs)``. A plain design is changed column by column; a formula's
    is rebuilt from the changed table."""
    m = len(sample)
    columns = blocks(fitted)
    if columns is None:
        table = sample.iloc[np.tile(np.arange(m), m)].reset_index(drop=True)
        for name in changed:
            table[name] = np.repeat(sample[name].to_numpy(), m)
        X = design(fitted, table)
    else:
        X = np.tile(X_sample, (m, 1))
        for j in (j for name in changed for j in columns[name]):
            X[:, j] = np.repeat(X_sample[:, j], m)
    eta = identified(fitted, linear_predictor(fitted, None, X))
    return eta.reshape(m, m, -1)


def _centred(values: np.ndarray) -> np.ndarray:
    return values - values.mean(axis=0, keepdims=True)


def _nonlinearity(column, sample: pd.DataFrame, partial: np.ndarray, total: float) -> dict:
    x = sample[column.name].to_numpy(dtype=np.float64)
    line = np.column_stack([np.ones_like(x), x])
    coefficients, *_ = np.linalg.lstsq(line, partial, rcond=None)
    left = float(((partial - line @ coefficients)**2).sum())
    return {"term": spline_term(column.name), "kind": "nonlinearity",
            "variables": (column.name,), "strength": left / total,
            "coefficients": SPLINE_DF - 1,
            "h": float(np.sqrt(left / max(float((partial**2).sum()), 1e-300)))}


def _table(rows: list[dict], sample_rows: int) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=list(COLUMNS[:-1]))
    table = table.sort_values("strength", ascending=False, kind="stable").reset_index(drop=True)
    per_coefficient = table["strength"] / table["coefficients"].clip(lower=1)
    strongest = float(per_coefficient.max()) if len(table) else 0.0
    table["supported"] = per_coefficient >= max(FLOOR, SHARE_OF_STRONGEST * strongest)
    table.attrs["sample_rows"] = sample_rows
    return table


__all__ = ["COLUMNS", "FLOOR", "SHARE_OF_STRONGEST", "formula_name", "interaction_term",
           "rank_terms", "spline_term"]
