"""The four families: gaussian, bernoulli, categorical and poisson.

Each is one small class; the methods are those of :class:`degenet.model.family.Family`, and
each class's docstring gives its density's loss. Losses come twice: in ``keras.ops`` for
training on any backend, and in float64 numpy for the exact solver and for reporting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse, special

from degenet._keras import keras
from degenet.errors import DataWarning, DegenetError, warn
from degenet.spelling import option
from degenet.model.family import (Family, Target, levels, numeric_target, preview,
                                  single_class_error)

ops = keras.ops
CLASS_METRICS = ("log_loss", "accuracy", "brier", "roc_auc")


def _column(eta):
    # The network's head has shape (n, 1); the loss wants (n,).
    return eta[:, 0] if len(eta.shape) == 2 else eta


# A classifier's target with more classes than this share of its rows is not classes.
MAX_SHARE_CLASSES = 0.5


class Gaussian(Family):
    """Normal response, identity link: ``mu = eta``.

    Loss: the squared error ``(y - eta)^2``, the negative log-likelihood up to scale.
    """

    name, link, activation, regression, keras_loss = (
        "gaussian", "identity", "linear", "linear", "mean_squared_error")
    exact_solver, scale_estimated = "least_squares", True
    metrics = ("r2", "rmse")

    def target_scaling(self, y, intercept=True):
        # Squared error is not scale-free: a target in the thousands would crawl under a
        # learning rate tuned for unit scale. Training sees (y - center) / scale; the eta
        # layer is rescaled afterwards and the losses are reported in the target's units.
        # Without an intercept there is no bias to carry a center: scale by the RMS.
        if not intercept:
            return 0.0, float(np.sqrt(np.mean(y**2))) or 1.0
        return float(np.mean(y)), float(np.std(y)) or 1.0

    def loss(self, y, eta):
        return ops.square(y - _column(eta))

    def loss_scale(self, dispersion):
        return 2.0 * dispersion  # -log L = (y - eta)^2 / (2 sigma^2) + constant

    def loss_np(self, y, eta):
        return (y - _column(eta)) ** 2

    def gradient(self, y, eta):
        return 2.0 * (eta - y)

    def curvature(self, eta):
        return np.full((np.shape(eta)[0], 1, 1), 2.0)

    def mean(self, eta):
        return eta

    def variance(self, mu):
        return np.ones_like(mu)

    def link_np(self, mu):
        return mu

    def unit_deviance(self, y, eta):
        return self.loss_np(y, eta)  # the squared error is its own deviance

    def log_likelihood(self, y, eta, weight):
        # Normal density with sigma^2 at its MLE, RSS / n: -n/2 (log(2 pi RSS / n) + 1).
        n, rss = weight.sum(), float(weight @ self.loss_np(y, eta))
        return -0.5 * n * (np.log(2.0 * np.pi * rss / n) + 1.0)

    def encode_target(self, values):
        y = numeric_target(values, self.name)
        if np.ptp(y) == 0:
            raise DegenetError(
                f"target column {values.name!r} is constant ({y[0]:g}); there is nothing to predict")
        return Target(y)


class Bernoulli(Family):
    """Binary response, logit link: ``mu = sigmoid(eta) = P(y = classes[1])``.

    Loss: the binary cross-entropy from the logit, ``softplus(eta) - y * eta``.
    """

    name, link, activation, regression, keras_loss = (
        "bernoulli", "logit", "sigmoid", "logistic", "binary_crossentropy")
    is_classifier = True
    metrics = CLASS_METRICS

    def loss(self, y, eta):
        eta = _column(eta)
        return ops.softplus(eta) - y * eta

    def loss_np(self, y, eta):
        eta = _column(eta)
        # softplus as np.logaddexp(0, eta) to 1e-14, 3x faster (Newton's every row and pass)
        return np.maximum(eta, 0.0) + np.log1p(np.exp(-np.abs(eta))) - y * eta

    def gradient(self, y, eta):
        return special.expit(eta) - y

    def curvature(self, eta):
        mu = special.expit(_column(eta))
        return (mu * (1.0 - mu))[:, None, None]

    def loss_gradient_curvature(self, y, eta):
        t = np.exp(-np.abs(eta))  # serves the softplus and the mean (49,932 rows: 326 us, not 738)
        mu = np.where(eta >= 0.0, 1.0, t) / (1.0 + t)  # expit's own two branches
        return np.maximum(eta, 0.0) + np.log1p(t) - y * eta, mu - y, mu * (1.0 - mu)

    def mean(self, eta):
        return special.expit(eta)

    def variance(self, mu):
        return mu * (1.0 - mu)

    def probabilities(self, eta):
        p = special.expit(_column(np.asarray(eta, dtype=np.float64)))
        return np.column_stack([1.0 - p, p])

    def full_logits(self, eta):
        eta = _column(np.asarray(eta, dtype=np.float64))
        return np.column_stack([np.zeros_like(eta), eta])

    def separation_margins(self, A, y, n_classes):
        # s_i a_i' b with s_i = +1 for the positive class, -1 for the other.
        return A * (2.0 * y - 1.0)[:, None]

    def link_np(self, mu):
        return special.logit(mu)

    def encode_target(self, values):
        classes = levels(values)
        if len(classes) != 2:
            raise DegenetError(
                f"target column {values.name!r} has {len(classes)} distinct value(s) "
                f"{preview(classes)}; the bernoulli family needs exactly 2")
        return Target((values.to_numpy() == classes[1]).astype(np.float64), classes)

    def check_encoded(self, y, weight, n_classes):
        if not ((y == 0.0) | (y == 1.0)).all():
            raise DegenetError(f"bernoulli y must be 0 or 1; received {y[~np.isin(y, (0, 1))][0]:g}")
        _check_two_classes(self, y, weight)
        return 2


class Categorical(Family):
    """Response with ``n_classes`` levels, softmax link: ``mu_k = softmax(eta)_k``.

    Loss: the categorical cross-entropy from the logits, ``logsumexp(eta) - eta[y]``.
    """

    name, link, activation, regression, keras_loss = (
        "categorical", "softmax", "softmax", "softmax", "sparse_categorical_crossentropy")
    is_classifier, contrasts, y_dtype = True, True, "int32"
    metrics = CLASS_METRICS
    offset_refused = ("an offset adds the same amount to every class's logit, which the "
                      "softmax ignores")

    def n_outputs(self, n_classes):
        return int(n_classes)

    def n_free(self, n_outputs):
        return n_outputs - 1  # class 0 is the reference, pinned at eta = 0

    def squeeze(self, eta):
        return eta

    def free(self, values):
        return values[:, 1:]

    def free_targets(self, y, n_outputs):
        return np.eye(n_outputs)[y.astype(np.int64)][:, 1:]

    def loss(self, y, eta):
        picked = ops.take_along_axis(eta, ops.expand_dims(ops.cast(y, "int32"), -1), axis=-1)
        return ops.logsumexp(eta, axis=-1) - picked[:, 0]

    def loss_np(self, y, eta):
        y = y.astype(np.int64)
        return special.logsumexp(eta, axis=1) - eta[np.arange(len(y)), y]

    def gradient(self, y, eta):
        mu = special.softmax(eta, axis=1)
        mu[np.arange(len(y)), y.astype(np.int64)] -= 1.0
        return mu

    def curvature(self, eta):
        # The softmax's Jacobian on classes 1..: diag(mu) - mu mu'.
        mu = special.softmax(eta, axis=1)[:, 1:]
        return mu[:, :, None] * (np.eye(mu.shape[1])[None] - mu[:, None, :])

    def mean(self, eta):
        return special.softmax(eta, axis=1)

    def variance(self, mu):
        return mu * (1.0 - mu)  # each class's indicator, a Bernoulli variable

    def probabilities(self, eta):
        return special.softmax(np.asarray(eta, dtype=np.float64), axis=1)

    def full_logits(self, eta):
        return np.asarray(eta, dtype=np.float64)

    def separation_margins(self, A, y, n_classes):
        # Row i, class k != y_i: a_i' (b_{y_i} - b_k) with b_0 = 0; sparse, one block per k.
        codes = y.astype(np.int64)
        blocks = []
        for k in range(n_classes):
            rows = codes != k  # rows of class k give 0: skipped
            pieces = [sparse.csr_matrix(A[rows] * ((codes[rows] == c) - float(k == c))[:, None])
                      for c in range(1, n_classes)]
            blocks.append(sparse.hstack(pieces))
        return sparse.vstack(blocks).tocsr()

    def optimal_constant(self, y, weight, n_classes=None):
        # Log class shares against class 0: the softmax of this is the class frequencies.
        shares = np.bincount(y.astype(np.int64), weights=weight,
                             minlength=n_classes or int(y.max()) + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(shares) - np.log(shares[0])

    def encode_target(self, values):
        classes = levels(values)
        if len(classes) < 2:
            raise single_class_error(f"target column {values.name!r}", preview(classes))
        _check_classes(values, classes)
        codes = pd.Categorical(values, categories=list(classes)).codes
        return Target(codes.astype(np.float64), classes)

    def check_encoded(self, y, weight, n_classes):
        n_classes = int(y.max()) + 1 if n_classes is None else int(n_classes)
        if (y != np.round(y)).any() or y.min() < 0 or y.max() >= n_classes or n_classes < 2:
            raise DegenetError(f"categorical y must hold class codes 0..{n_classes - 1} "
                               f"(n_classes={n_classes}); received values "
                               f"{', '.join(f'{v:g}' for v in np.unique(y)[:5])}")
        _check_two_classes(self, y, weight)
        return n_classes


def _check_classes(values: pd.Series, classes: tuple) -> None:
    """Refuse a continuous target given to a classifier: fractional numbers, or a class
    for nearly every row (200 classes from 200 rows of measurements)."""
    numbers = [c for c in classes if isinstance(c, float) and not isinstance(c, bool)]
    fractional = [c for c in numbers if not float(c).is_integer()]
    if fractional or len(classes) > max(MAX_SHARE_CLASSES * len(values), 20):
        example = fractional[0] if fractional else classes[0]
        raise DegenetError(
            f"target column {values.name!r} looks continuous: {len(classes)} distinct values "
            f"in {len(values)} rows (e.g. {example!r}); a classifier needs classes. Use "
            "model='linear' (or 'mlp') for numbers, or group the values into classes")


class Poisson(Family):
    """Count response, log link: ``mu = exp(eta)``.

    Loss: the Poisson negative log-likelihood without its constant, ``exp(eta) - y * eta``.
    """

    name, link, activation, regression, keras_loss = (
        "poisson", "log", "exponential", "poisson", "poisson")

    def loss(self, y, eta):
        eta = _column(eta)
        return ops.exp(eta) - y * eta

    def loss_np(self, y, eta):
        eta = _column(eta)
        return np.exp(eta) - y * eta

    def gradient(self, y, eta):
        return np.exp(eta) - y

    def curvature(self, eta):
        return np.exp(_column(eta))[:, None, None]

    def loss_gradient_curvature(self, y, eta):
        return (mu := np.exp(eta)) - y * eta, mu - y, mu

    def mean(self, eta):
        return np.exp(eta)

    def variance(self, mu):
        return mu

    def link_np(self, mu):
        return np.log(mu)

    def unit_deviance(self, y, eta):
        # 2 (y log(y / mu) - (y - mu)), with 0 log 0 = 0.
        mu = np.exp(_column(np.asarray(eta, dtype=np.float64)))
        return 2.0 * (special.xlogy(y, y) - special.xlogy(y, mu) - (y - mu))

    def log_likelihood(self, y, eta, weight):
        # Poisson density: the loss plus its constant log(y!).
        return -float(weight @ (self.loss_np(y, eta) + special.gammaln(y + 1.0)))

    def encode_target(self, values):
        y = numeric_target(values, self.name)
        if (y < 0).any():
            raise DegenetError(
                f"target column {values.name!r} holds {y[y < 0][0]:g}; the poisson family "
                "needs counts >= 0")
        if not (y > 0).any():
            raise DegenetError(f"target column {values.name!r} is all zeros; nothing to predict")
        return Target(y)

    def check_encoded(self, y, weight, n_classes):
        if (y < 0).any():
            raise DegenetError(f"poisson y must be counts >= 0; received {y[y < 0][0]:g}")
        if not (y[weight > 0] > 0).any():
            raise DegenetError("poisson y is 0 on every row with positive weight; nothing to fit")
        return None


def _check_two_classes(family: Family, y: np.ndarray, weight: np.ndarray) -> None:
    first = y[np.argmax(weight > 0)]  # a class seen; is there another? (no sort of y)
    if np.all((y == first) | (weight == 0)):
        raise single_class_error(f"{family.name} y", f"({first:g})",
                                 " among the rows with positive weight")


FAMILIES: dict[str, Family] = {
    f.name: f for f in (Gaussian(), Bernoulli(), Categorical(), Poisson())}


def get_family(family: str | Family) -> Family:
    """The family named ``family`` (``gaussian``, ``bernoulli``, ``categorical``, ``poisson``)."""
    if isinstance(family, Family):
        return family
    try:
        return FAMILIES[str(family).lower()]
    except KeyError:
        raise DegenetError(
            f"unknown family {family!r}; choose one of: {', '.join(FAMILIES)}") from None


def infer_family(values: pd.Series) -> Family:
    """The family a target column calls for.

    Two distinct values: bernoulli. Strings, booleans or categories with more levels:
    categorical. Other numbers: gaussian (name ``poisson`` explicitly for counts).
    """
    distinct = values.dropna().unique()
    if len(distinct) == 2:
        return FAMILIES["bernoulli"]
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    return FAMILIES["gaussian"] if numeric else FAMILIES["categorical"]


# A numeric target of whole numbers with at most this many distinct values, each seen twice
# on average, may be class labels (scikit-learn's iris, wine and digits frames: 0, 1, 2, ...)
# or counts: degenet reads it as a number, and says so.
FEW_CODES = 20


def warn_if_codes(values: pd.Series, family: Family) -> None:
    """A DataWarning when the ``family`` inferred for a numeric target may not be what its
    numbers mean: a few whole numbers read as measurements (they may be class labels or
    counts), or two numbers other than 0 and 1 read as two classes. It names the family
    and how to choose another."""
    if not (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        return
    present = values.dropna().to_numpy(dtype=np.float64)
    distinct = np.unique(present)
    shown = ", ".join(f"{v:g}" for v in distinct[:5]) + (", ..." if len(distinct) > 5 else "")
    chosen = f"family {family.name!r} ({family.regression})"
    if family.is_classifier:
        if len(distinct) != 2 or set(distinct) <= {0.0, 1.0}:
            return
        message = (f"target {values.name!r} holds two distinct numbers ({shown}); degenet reads "
                   f"them as two classes: {chosen}. If they are measurements, use "
                   f"{option('family', 'gaussian')}.")
    else:
        if not (2 < len(distinct) <= min(FEW_CODES, len(present) / 2)
                and np.all(distinct == np.round(distinct))):
            return
        message = (f"target {values.name!r} holds {len(distinct)} distinct whole numbers "
                   f"({shown}); degenet reads them as measurements: {chosen}. If they are "
                   f"class labels, use {option('family', 'categorical')}; if counts, "
                   f"{option('family', 'poisson')}.")
    warn(message, DataWarning)


__all__ = ["FAMILIES", "Bernoulli", "Categorical", "Family", "Gaussian", "Poisson", "Target",
           "get_family", "infer_family", "warn_if_codes"]
