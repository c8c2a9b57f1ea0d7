"""Families: the head of every network and the loss it is trained on.

A family is one small object that every stage asks: the activation of its head, its
loss on the linear predictor ``eta`` (never on clipped probabilities), the derivatives
the exact solver needs, and how its target is encoded. The losses come twice: once in
``keras.ops`` for training on any backend, once in float64 numpy for the exact solver
and for reporting.

Conventions: ``y`` has shape ``(n_samples,)`` (class codes ``0..n_classes-1`` for the
categorical family), ``eta`` has shape ``(n_samples,)`` or ``(n_samples, 1)`` for
single-output families and ``(n_samples, n_classes)`` for the categorical family.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from degenet._keras import keras
from degenet.errors import DegenetError

ops = keras.ops


@dataclass(frozen=True)
class Target:
    """An encoded target: ``y`` as the network sees it, and the labels it stands for.

    Attributes
    ----------
    y : ndarray, shape (n_samples,)
        float64 values, or 0/1 for bernoulli, or class codes for categorical.
    classes : tuple or None
        The original labels, sorted; for bernoulli ``classes[1]`` is the positive class.
    """

    y: np.ndarray
    classes: tuple | None = None


class Family(abc.ABC):
    """A response distribution with its canonical link."""

    name: str
    link: str
    activation: str  # Keras activation that maps eta to the mean
    regression: str  # the model spec of its single-layer network
    keras_loss: str  # the Keras loss on the mean, for users who keep training
    is_classifier: bool = False
    exact_solver: str = "newton"  # how degenet.exact.solvers finds the optimum: newton or least_squares
    scale_estimated: bool = False  # a dispersion estimated from the residuals (gaussian)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def n_outputs(self, n_classes: int | None) -> int:
        """Width of the head: 1, or the number of classes."""
        return 1

    def target_scaling(self, y: np.ndarray, intercept: bool = True) -> tuple[float, float]:
        """``(center, scale)`` the target is standardized by for training (none by default)."""
        return 0.0, 1.0

    @abc.abstractmethod
    def loss(self, y, eta):
        """Per-sample loss in ``keras.ops``; shape ``(n_samples,)``."""

    @abc.abstractmethod
    def loss_np(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """Per-sample loss in float64 numpy, equal to :meth:`loss`."""

    @abc.abstractmethod
    def gradient(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """d loss / d eta, same shape as ``eta``."""

    @abc.abstractmethod
    def hessian_weight(self, eta: np.ndarray) -> np.ndarray:
        """d^2 loss / d eta^2 (single-output families), shape ``(n_samples,)``."""

    @abc.abstractmethod
    def mean(self, eta: np.ndarray) -> np.ndarray:
        """The inverse link: the mean ``mu`` for each row."""

    @abc.abstractmethod
    def encode_target(self, values: pd.Series) -> Target:
        """Check the target column and encode it; errors name the column and the value."""

    def optimal_constant(self, y: np.ndarray, weight: np.ndarray,
                         n_classes: int | None = None) -> np.ndarray:
        """The exact optimal constant ``eta`` (the intercept-only model), ``(n_outputs,)``.

        The link of the weighted mean; the exact solver starts Newton from it.
        """
        return np.atleast_1d(self.link_np(np.average(y, weights=weight)))

    def link_np(self, mu):
        """The link: ``eta`` of a mean ``mu`` (families whose constant is not the link of
        the mean, like the categorical one, override :meth:`optimal_constant` instead)."""
        raise DegenetError(f"the {self.name} family has no scalar link")

    def log_likelihood(self, y: np.ndarray, eta: np.ndarray, weight: np.ndarray) -> float:
        """The full log-likelihood, constants included (weights count as frequencies)."""
        return -float(weight @ self.loss_np(y, eta))

    def deviance(self, y: np.ndarray, eta: np.ndarray, weight: np.ndarray) -> float:
        """Twice the log-likelihood gap to the saturated model."""
        return 2.0 * float(weight @ self.loss_np(y, eta))


def _column_eta(eta):
    # The network's head has shape (n, 1); the loss wants (n,).
    return eta[:, 0] if len(eta.shape) == 2 else eta


def _numeric_target(values: pd.Series, family: str) -> np.ndarray:
    if not (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        raise DegenetError(
            f"target column {values.name!r} has dtype {values.dtype}; the {family} family "
            "needs numbers"
        )
    y = values.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(y)):
        bad = values[~np.isfinite(y)].iloc[0]
        raise DegenetError(f"target column {values.name!r} holds {bad!r}; it needs finite numbers")
    return y


class Gaussian(Family):
    """Normal response, identity link: ``mu = eta``.

    Loss: the squared error ``(y - eta)^2``, the negative log-likelihood up to scale.
    """

    name, link, activation, regression, keras_loss = (
        "gaussian", "identity", "linear", "linear", "mean_squared_error")
    exact_solver, scale_estimated = "least_squares", True

    def target_scaling(self, y, intercept=True):
        # Squared error is not scale-free: a target in the thousands would crawl under a
        # learning rate tuned for unit scale. Training sees (y - center) / scale; the eta
        # layer is rescaled afterwards and the losses are reported in the target's units.
        # Without an intercept there is no bias to carry a center: scale by the RMS.
        if not intercept:
            return 0.0, float(np.sqrt(np.mean(y**2))) or 1.0
        return float(np.mean(y)), float(np.std(y)) or 1.0

    def loss(self, y, eta):
        return ops.square(y - _column_eta(eta))

    def loss_np(self, y, eta):
        return (y - _column_eta(eta)) ** 2

    def gradient(self, y, eta):
        return 2.0 * (eta - y)

    def hessian_weight(self, eta):
        return np.full(np.shape(eta)[0], 2.0)

    def mean(self, eta):
        return eta

    def link_np(self, mu):
        return mu

    def log_likelihood(self, y, eta, weight):
        # Normal density with sigma^2 at its MLE, RSS / n: -n/2 (log(2 pi RSS / n) + 1).
        n, rss = weight.sum(), float(weight @ self.loss_np(y, eta))
        return -0.5 * n * (np.log(2.0 * np.pi * rss / n) + 1.0)

    def deviance(self, y, eta, weight):
        return float(weight @ self.loss_np(y, eta))

    def encode_target(self, values):
        y = _numeric_target(values, self.name)
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

    def loss(self, y, eta):
        eta = _column_eta(eta)
        return ops.softplus(eta) - y * eta

    def loss_np(self, y, eta):
        eta = _column_eta(eta)
        return np.logaddexp(0.0, eta) - y * eta

    def gradient(self, y, eta):
        return special.expit(eta) - y

    def hessian_weight(self, eta):
        mu = special.expit(eta)
        return mu * (1.0 - mu)

    def mean(self, eta):
        return special.expit(eta)

    def link_np(self, mu):
        return special.logit(mu)

    def encode_target(self, values):
        classes = _levels(values)
        if len(classes) != 2:
            raise DegenetError(
                f"target column {values.name!r} has {len(classes)} distinct value(s) "
                f"{_preview(classes)}; the bernoulli family needs exactly 2")
        return Target((values.to_numpy() == classes[1]).astype(np.float64), classes)


class Categorical(Family):
    """Response with ``n_classes`` levels, softmax link: ``mu_k = softmax(eta)_k``.

    Loss: the categorical cross-entropy from the logits, ``logsumexp(eta) - eta[y]``.
    """

    name, link, activation, regression, keras_loss = (
        "categorical", "softmax", "softmax", "softmax", "sparse_categorical_crossentropy")
    is_classifier = True

    def n_outputs(self, n_classes):
        return int(n_classes)

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

    def hessian_weight(self, eta):
        raise DegenetError("the categorical family has a block Hessian; use its solver")

    def mean(self, eta):
        return special.softmax(eta, axis=1)

    def optimal_constant(self, y, weight, n_classes=None):
        # Log class shares against class 0: the softmax of this is the class frequencies.
        shares = np.bincount(y.astype(np.int64), weights=weight,
                             minlength=n_classes or int(y.max()) + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(shares) - np.log(shares[0])

    def encode_target(self, values):
        classes = _levels(values)
        if len(classes) < 2:
            raise DegenetError(
                f"target column {values.name!r} has a single class {_preview(classes)}; "
                "a classifier needs at least 2")
        codes = pd.Categorical(values, categories=list(classes)).codes
        return Target(codes.astype(np.float64), classes)


class Poisson(Family):
    """Count response, log link: ``mu = exp(eta)``.

    Loss: the Poisson negative log-likelihood without its constant, ``exp(eta) - y * eta``.
    """

    name, link, activation, regression, keras_loss = (
        "poisson", "log", "exponential", "poisson", "poisson")

    def loss(self, y, eta):
        eta = _column_eta(eta)
        return ops.exp(eta) - y * eta

    def loss_np(self, y, eta):
        eta = _column_eta(eta)
        return np.exp(eta) - y * eta

    def gradient(self, y, eta):
        return np.exp(eta) - y

    def hessian_weight(self, eta):
        return np.exp(eta)

    def mean(self, eta):
        return np.exp(eta)

    def link_np(self, mu):
        return np.log(mu)

    def log_likelihood(self, y, eta, weight):
        # Poisson density: the loss plus its constant log(y!).
        return -float(weight @ (self.loss_np(y, eta) + special.gammaln(y + 1.0)))

    def deviance(self, y, eta, weight):
        # 2 sum(y log(y / mu) - (y - mu)), with 0 log 0 = 0.
        mu = np.exp(_column_eta(eta))
        return 2.0 * float(weight @ (special.xlogy(y, y / mu) - (y - mu)))

    def encode_target(self, values):
        y = _numeric_target(values, self.name)
        if (y < 0).any():
            raise DegenetError(
                f"target column {values.name!r} holds {y[y < 0][0]:g}; the poisson family "
                "needs counts >= 0")
        if not (y > 0).any():
            raise DegenetError(f"target column {values.name!r} is all zeros; nothing to predict")
        return Target(y)


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
    levels = values.dropna().unique()
    if len(levels) == 2:
        return FAMILIES["bernoulli"]
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    return FAMILIES["gaussian"] if numeric else FAMILIES["categorical"]


def _levels(values: pd.Series) -> tuple:
    levels = pd.unique(values.dropna())
    try:
        levels = sorted(levels)
    except TypeError:  # mixed label types: order by their text
        levels = sorted(levels, key=str)
    return tuple(level.item() if isinstance(level, np.generic) else level for level in levels)


def _preview(levels: tuple, most: int = 5) -> str:
    shown = ", ".join(repr(level) for level in levels[:most])
    return f"({shown}{', ...' if len(levels) > most else ''})"
