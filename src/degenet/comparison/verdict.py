"""Is the network worth it? A paired difference in held-out deviance, with its interval.

Sign convention: ``loss_difference = network deviance - regression deviance`` per
held-out observation; **negative means the network is better**. ``ci_low``/``ci_high``
bound that difference.

Two ways to get the interval, both paired (the models are scored on the same rows, so
row-to-row difficulty cancels out of the difference):

* **One split** (``cv=None``): a percentile bootstrap of the mean of the per-row
  differences over the held-out rows (Efron & Tibshirani 1993, ch. 13), seeded from
  ``derive(seed, "bootstrap")``. It treats the trained models as fixed: it says how sure
  we are about *these* models on new rows from the same population, not about retraining.
* **K folds, repeated** (``cv=K``): one mean difference per fold, and the corrected
  resampled t interval of Nadeau & Bengio (2003), ``mean +- t_{J-1} sqrt((1/J + n_test /
  n_train) s^2)`` over the ``J = K * repeats`` folds. The plain paired t would treat the
  folds as independent, but their training sets overlap, which makes its interval too
  narrow and its test too eager (Dietterich 1998); the correction widens it by the
  ``n_test / n_train`` term, and Bouckaert & Frank (2004) found it the most replicable
  choice for repeated k-fold CV. Here the interval includes the variation from
  retraining.

The decision needs more than an interval that misses zero: a difference smaller than
``tolerance`` times the regression's deviance (default 1 %) is of no practical
importance. ``prefer`` is ``"network"`` only when the whole interval lies below
``-margin``, ``"regression"`` only when it lies above ``+margin``, and ``"either"``
otherwise. So on data where a regression is all there is to find, the verdict cannot
come out for the network by chance fluctuations of a negligible size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from degenet.errors import DegenetError
from degenet.jsonvalues import plain
from degenet import display
from degenet.randomness import derive

CONFIDENCE = 0.95
TOLERANCE = 0.01
RESAMPLES = 2000
SIGN_CONVENTION = ("loss_difference = network deviance - regression deviance per held-out "
                   "observation; negative means the network is better")


@dataclass(frozen=True)
class Verdict:
    """The network against its regression, on the same held-out rows.

    Attributes
    ----------
    network, regression : str
        The two model specs.
    loss_difference : float
        ``network_loss - regression_loss`` (deviance per observation); negative: the
        network is better.
    ci_low, ci_high : float
        The ``confidence`` interval of ``loss_difference``.
    prefer : str
        ``"network"``, ``"regression"`` or ``"either"``.
    network_loss, regression_loss : float
        Each model's held-out deviance per observation.
    margin : float
        The smallest difference counted as mattering (``tolerance * regression_loss``).
    confidence : float
    method : str
        ``"paired bootstrap"`` or ``"corrected resampled t"``.
    n_rows, n_folds : int
        Held-out rows (all folds together) and folds the interval rests on.
    regression_fit : str
        What stood for the regression: its gradient-descent fit at the optimum, the exact
        optimum, or an early-stopped fit under separation.
    """

    network: str
    regression: str
    loss_difference: float
    ci_low: float
    ci_high: float
    prefer: str
    network_loss: float
    regression_loss: float
    margin: float
    confidence: float
    method: str
    n_rows: int
    n_folds: int
    regression_fit: str = ""

    @property
    def sentence(self) -> str:
        """One plain sentence saying what the data says."""
        level = f"{self.confidence:.0%} CI"
        if self.prefer == "network":
            share = -self.loss_difference / self.regression_loss if self.regression_loss else 0
            return (f"The network {self.network} is better than the regression "
                    f"{self.regression}: its held-out deviance per observation is lower by "
                    f"{-self.loss_difference:.4g} ({level} {-self.ci_high:.4g} to "
                    f"{-self.ci_low:.4g}), {100 * share:.4g}% of the regression's "
                    f"{self.regression_loss:.4g}.")
        if self.prefer == "regression":
            return (f"The regression {self.regression} is better than the network "
                    f"{self.network}: the network's held-out deviance per observation is "
                    f"higher by {self.loss_difference:.4g} ({level} {self.ci_low:.4g} to "
                    f"{self.ci_high:.4g}).")
        difference = (f"the difference in held-out deviance per observation is "
                      f"{self.loss_difference:+.4g} ({level} {self.ci_low:+.4g} to "
                      f"{self.ci_high:+.4g})")
        practical = f"{self.margin / self.regression_loss:.0%}" if self.regression_loss else ""
        if self.ci_high < 0 or self.ci_low > 0:  # clear of zero, not of the margin
            better, worse = ((f"network {self.network}", f"regression {self.regression}")
                             if self.ci_high < 0 else
                             (f"regression {self.regression}", f"network {self.network}"))
            sign = "-" if self.ci_high < 0 else "+"
            return (f"The {better} is better than the {worse}, by less than the {practical} "
                    f"of the regression's deviance that counts as practical: {difference}, "
                    f"not clearly beyond {sign}{self.margin:.3g}.")
        bound = f", not clearly beyond +-{self.margin:.3g}" if self.margin else ""
        return (f"The data gives no reason to prefer the network {self.network} over the "
                f"regression {self.regression}: {difference}{bound}.")

    def __repr__(self) -> str:
        return (f"<Verdict {self.network} vs {self.regression}: prefer {self.prefer}; "
                f"loss_difference {self.loss_difference:+.4g} ({self.confidence:.0%} CI "
                f"{self.ci_low:+.4g} to {self.ci_high:+.4g})>")

    def _repr_html_(self) -> str:
        return display.card(f"{self.network} vs {self.regression}", self.html_block())

    def html_block(self) -> str:
        """The badge (what to prefer) and the sentence, for a notebook."""
        label = {"network": f"prefer the network {self.network}",
                 "regression": f"prefer the regression {self.regression}",
                 "either": "no reason to prefer the network"}[self.prefer]
        return (f'<div style="margin:0.3em 0">{display.badge(label, self.prefer)}</div>'
                + display.paragraph(self.sentence))

    def to_dict(self) -> dict:
        """The JSON form: every field, the sentence and the sign convention."""
        fields = {key: plain(value) for key, value in asdict(self).items()}
        return {**fields, "sentence": self.sentence, "sign": SIGN_CONVENTION}


def decide(ci_low: float, ci_high: float, margin: float) -> str:
    """``"network"``, ``"regression"`` or ``"either"`` from an interval and a margin >= 0."""
    if ci_high < -margin:
        return "network"
    if ci_low > margin:
        return "regression"
    return "either"


def bootstrap_interval(differences: np.ndarray, *, seed: int, confidence: float = CONFIDENCE,
                       n_resamples: int = RESAMPLES) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of paired per-row ``differences``.

    Parameters
    ----------
    differences : ndarray, shape (n_rows,)
        Network minus regression, row by row.
    """
    differences = np.asarray(differences, dtype=np.float64)
    if len(differences) < 2:
        raise DegenetError(
            f"a bootstrap interval needs at least 2 held-out rows; received {len(differences)}")
    if np.ptp(differences) == 0:
        return float(differences[0]), float(differences[0])
    # Percentile, not BCa: BCa's jackknife costs n^2 on tens of thousands of rows, and the
    # mean of that many differences is close to normal anyway.
    result = stats.bootstrap((differences,), np.mean, n_resamples=n_resamples,
                             confidence_level=confidence, method="percentile",
                             vectorized=True, batch=max(1, 2_000_000 // len(differences)),
                             rng=np.random.default_rng(derive(seed, "bootstrap")))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def corrected_t_interval(fold_differences: np.ndarray, *, n_train: int, n_test: int,
                         confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Nadeau & Bengio's corrected resampled t interval of the mean fold difference.

    Parameters
    ----------
    fold_differences : ndarray, shape (n_folds,)
        Mean network-minus-regression difference on each fold's held-out rows.
    n_train, n_test : int
        Rows a fold trains on and holds out (their ratio sets the correction).
    """
    d = np.asarray(fold_differences, dtype=np.float64)
    n_folds = len(d)
    if n_folds < 2:
        raise DegenetError(f"a fold interval needs at least 2 folds; received {n_folds}")
    variance = (1.0 / n_folds + n_test / n_train) * np.var(d, ddof=1)
    half = stats.t.ppf(0.5 + confidence / 2.0, df=n_folds - 1) * np.sqrt(variance)
    return float(d.mean() - half), float(d.mean() + half)


def judge(network: str, regression: str, differences: list[np.ndarray],
          network_loss: float, regression_loss: float, *, seed: int,
          n_train: int | None = None, confidence: float = CONFIDENCE,
          tolerance: float = TOLERANCE, regression_fit: str = "") -> Verdict:
    """The verdict from per-row deviance differences, one array per fold.

    One array: a paired bootstrap over its rows. Several (folds): the corrected resampled
    t over their means, with ``n_train`` the rows each fold trained on.
    """
    if not 0.0 < confidence < 1.0:
        raise DegenetError(f"confidence must be between 0 and 1; received {confidence!r}")
    if not tolerance >= 0.0:
        raise DegenetError(f"tolerance must be >= 0; received {tolerance!r}")
    n_rows = int(sum(len(d) for d in differences))
    if len(differences) == 1:
        low, high = bootstrap_interval(differences[0], seed=seed, confidence=confidence)
        method, estimate = "paired bootstrap", float(np.mean(differences[0]))
    else:
        means = np.array([np.mean(d) for d in differences])
        n_test = n_rows / len(differences)
        low, high = corrected_t_interval(means, n_train=n_train, n_test=n_test,
                                         confidence=confidence)
        method, estimate = "corrected resampled t", float(means.mean())
    margin = float(tolerance * abs(regression_loss))
    return Verdict(network=network, regression=regression, loss_difference=estimate,
                   ci_low=low, ci_high=high, prefer=decide(low, high, margin),
                   network_loss=float(network_loss), regression_loss=float(regression_loss),
                   margin=margin, confidence=confidence, method=method, n_rows=n_rows,
                   n_folds=len(differences), regression_fit=regression_fit)


__all__ = ["CONFIDENCE", "SIGN_CONVENTION", "TOLERANCE", "Verdict", "bootstrap_interval",
           "corrected_t_interval", "decide", "judge"]
