"""Held-out metrics: one float64 implementation of each, shared by every model.

Every model of a comparison (and the intercept-only baseline) is scored here, from its
linear predictor ``eta`` on held-out rows, so no two models are ever judged by two
different pieces of code. The primary metric is the family's **deviance per
observation**, the mean unit deviance (McCullagh & Nelder 1989, section 2.3):

    gaussian      (y - mu)^2                          (the squared error: MSE)
    bernoulli     2 * (softplus(eta) - y * eta)       (twice the log loss)
    categorical   2 * (logsumexp(eta) - eta[y])       (twice the cross-entropy)
    poisson       2 * (y log(y / mu) - (y - mu))

It is the family's training loss minus its value at the saturated model, scaled as the
deviance is; a difference of two models' deviances is therefore a difference of their
losses (times 2 except for gaussian), and it is never negative for a single model.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from degenet.model.families import Family

PRIMARY = "deviance"

# Whether a larger value is better (for the report's highlighting and for readers).
HIGHER_IS_BETTER = {"deviance": False, "r2": True, "rmse": False, "log_loss": False,
                    "accuracy": True, "brier": False, "roc_auc": True}


def metric_names(family: Family) -> tuple[str, ...]:
    """``("deviance", ...)``: the metrics :func:`score` returns for ``family``."""
    return (PRIMARY, *family.metrics)


def unit_deviance(family: Family, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """The deviance of each row, shape ``(n_samples,)``; it sums to ``family.deviance``.

    Parameters
    ----------
    y : ndarray, shape (n_samples,)
        The encoded target (0/1, class codes or values).
    eta : ndarray, shape (n_samples,) or (n_samples, n_outputs)
        The linear predictor.
    """
    eta = family.squeeze(np.asarray(eta, dtype=np.float64))
    return family.unit_deviance(np.asarray(y, dtype=np.float64), eta)


def mean_prediction(family: Family, eta: np.ndarray) -> np.ndarray:
    """The predicted mean ``mu`` of a regression family, shape ``(n_samples,)``."""
    return family.mean(family.squeeze(np.asarray(eta, dtype=np.float64)))


def score(family: Family, y: np.ndarray, eta: np.ndarray) -> dict[str, float]:
    """Every metric of ``family`` on held-out rows, as ``{name: value}``.

    ``r2`` is ``1 - SSE / SST`` around the held-out mean; ``rmse`` the root mean squared
    error; ``log_loss`` the mean cross-entropy computed from the logits (no clipping);
    ``accuracy`` the share of rows whose most probable class is the true one; ``brier``
    the mean over rows of ``sum_k (p_k - [y = k])^2`` for classes (Brier 1950; for two
    classes, the mean of ``(p - y)^2`` as scikit-learn reports it); ``roc_auc`` the area
    under the ROC curve (one-vs-rest, macro-averaged for more than two classes; NaN when
    the rows hold a single class).
    """
    y = np.asarray(y, dtype=np.float64)
    eta = np.asarray(eta, dtype=np.float64)
    result = {PRIMARY: float(np.mean(unit_deviance(family, y, eta)))}
    result.update({name: METRICS[name](family, y, eta) for name in family.metrics})
    return result


def _r2(family, y, eta):
    residual = y - mean_prediction(family, eta)
    total = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(residual @ residual) / total if total > 0 else float("nan")


def _rmse(family, y, eta):
    residual = y - mean_prediction(family, eta)
    return float(np.sqrt(np.mean(residual**2)))


def _log_loss(family, y, eta):
    return float(np.mean(family.loss_np(y, family.squeeze(eta))))


def _accuracy(family, y, eta):
    return float(np.mean(family.probabilities(eta).argmax(axis=1) == y.astype(np.int64)))


def _brier(family, y, eta):
    proba = family.probabilities(eta)
    brier = np.sum((proba - np.eye(proba.shape[1])[y.astype(np.int64)]) ** 2, axis=1)
    if proba.shape[1] == 2:
        brier = brier / 2.0  # (1-p - (1-y))^2 + (p - y)^2 = 2 (p - y)^2
    return float(np.mean(brier))


def _roc_auc(family, y, eta):
    return roc_auc(y.astype(np.int64), family.probabilities(eta))


def roc_auc(codes: np.ndarray, proba: np.ndarray) -> float:
    """The area under the ROC curve of class probabilities ``(n, n_classes)``.

    Two classes: the positive class's. More: one-vs-rest, macro-averaged (NaN unless every
    class is among the rows). NaN when the rows hold a single class.
    """
    present = np.unique(codes)
    if len(present) < 2:
        return float("nan")  # AUC is undefined when the rows hold one class
    if proba.shape[1] == 2:
        return float(roc_auc_score(codes, proba[:, 1]))
    if len(present) < proba.shape[1]:
        return float("nan")  # one-vs-rest needs every class among the rows
    return float(roc_auc_score(codes, proba, multi_class="ovr", average="macro"))


# Every metric beyond the deviance, by the name a family lists it under (Family.metrics).
METRICS = {"r2": _r2, "rmse": _rmse, "log_loss": _log_loss, "accuracy": _accuracy,
           "brier": _brier, "roc_auc": _roc_auc}


def baseline_eta(family: Family, y_train: np.ndarray, n_rows: int,
                 n_classes: int | None = None, *, offset: np.ndarray | None = None,
                 test_offset: np.ndarray | None = None, weight: np.ndarray | None = None
                 ) -> np.ndarray:
    """The intercept-only model's ``eta`` for ``n_rows`` rows, computed, not trained.

    Its mean is the training rows' mean (gaussian, poisson) or their class frequencies
    (bernoulli, categorical); ``eta`` is the link of that, from the family's own
    :meth:`~degenet.model.family.Family.optimal_constant`. A class absent from the training
    rows gets probability 0 (``eta = -inf``), as the frequencies say. With an ``offset`` of
    the training rows, the constant is the best one beside it
    (:meth:`~degenet.model.family.Family.offset_constant`) and ``test_offset``, the held-out
    rows' offset, is added. ``weight`` counts each training value as that many rows (a
    streamed table's distinct values and their counts).

    Returns
    -------
    ndarray, shape (n_rows,), or (n_rows, n_classes) for categorical.
    """
    y_train = np.asarray(y_train, dtype=np.float64)
    weight = np.ones_like(y_train) if weight is None else np.asarray(weight, dtype=np.float64)
    if offset is not None:
        return family.offset_constant(y_train, weight, offset)[0] + test_offset
    with np.errstate(divide="ignore"):
        constant = family.optimal_constant(y_train, weight)
    padded = np.full(family.n_outputs(n_classes or len(constant)), -np.inf)
    padded[:len(constant)] = constant
    return family.squeeze(np.tile(padded, (n_rows, 1)))


__all__ = ["HIGHER_IS_BETTER", "METRICS", "PRIMARY", "baseline_eta", "mean_prediction",
           "metric_names", "roc_auc", "score", "unit_deviance"]
