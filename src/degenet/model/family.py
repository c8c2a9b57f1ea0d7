"""The family: the one object every stage asks about a response distribution.

A family names the head of every network (its activation), the loss on the linear
predictor ``eta`` (never on clipped probabilities), the derivatives the exact solver needs,
how its target is encoded and checked, and what its predictions mean. A new family is a new
subclass of :class:`Family`; no stage branches on a family's name.

Conventions: ``y`` has shape ``(n_samples,)`` (class codes ``0..n_classes-1`` for the
categorical family). ``eta`` as the network outputs it has shape ``(n_samples, n_outputs)``;
:meth:`Family.squeeze` turns it into what the family's methods take: ``(n_samples,)`` for
single-output families and ``(n_samples, n_classes)`` for the categorical one.

The exact solver's parameters are the *free* outputs (:meth:`Family.free`): every output of
a single-output family, and the classes 1.. of the categorical family, whose class 0 is
pinned at ``eta = 0`` (softmax only sees differences).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np
import pandas as pd

from degenet.errors import DegenetError

# Rows of the loss evaluated at a time when it is summed over every row: its temporaries
# stay small (on 2,000,000 rows, whole-column temporaries were the fit's peak memory).
LOSS_BLOCK_ROWS = 65536


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

    @property
    def n_classes(self) -> int | None:
        return len(self.classes) if self.classes else None


class Family(abc.ABC):
    """A response distribution with its canonical link."""

    name: str
    link: str
    activation: str  # Keras activation that maps eta to the mean
    regression: str  # the model spec of its single-layer network
    keras_loss: str  # the Keras loss on the mean, for users who keep training
    is_classifier: bool = False
    exact_solver: str = "newton"  # how degenet.exact finds the optimum: newton or least_squares
    scale_estimated: bool = False  # a dispersion estimated from the residuals (gaussian)
    # Whether the coefficients are read as contrasts against a reference class (softmax:
    # the logits are identified only up to a common shift).
    contrasts: bool = False
    y_dtype: str = "float32"  # the target's dtype inside the compiled training program
    # Held-out metrics beyond the deviance (degenet.comparison.metrics.METRICS names them).
    metrics: tuple[str, ...] = ()
    # Why an offset (a known term added to eta row by row) means nothing here, or None.
    offset_refused: str | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    # -- shapes ------------------------------------------------------------------------------
    def n_outputs(self, n_classes: int | None) -> int:
        """Width of the head: 1, or the number of classes."""
        return 1

    def n_free(self, n_outputs: int) -> int:
        """Parameters per term in the exact solver for a head of ``n_outputs``."""
        return n_outputs

    def squeeze(self, eta: np.ndarray) -> np.ndarray:
        """``eta`` as the family's methods take it: ``(n,)`` for a single output."""
        return eta[:, 0] if np.ndim(eta) == 2 else eta

    def free(self, values: np.ndarray) -> np.ndarray:
        """Per-row values of the free outputs, ``(n, n_free)``, from squeezed ``values``."""
        return values[:, None] if np.ndim(values) == 1 else values

    def free_targets(self, y: np.ndarray, n_outputs: int) -> np.ndarray:
        """``Y`` with ``gradient = free(mean) - Y`` row by row, ``(n, n_free)``: ``y`` itself,
        or the categorical family's indicators of classes 1.."""
        return y[:, None]

    # -- the loss and its derivatives --------------------------------------------------------
    @abc.abstractmethod
    def loss(self, y, eta):
        """Per-sample loss in ``keras.ops`` on the network's ``eta``; shape ``(n_samples,)``."""

    @abc.abstractmethod
    def loss_np(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """Per-sample loss in float64 numpy, equal to :meth:`loss`."""

    @abc.abstractmethod
    def gradient(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """d loss / d eta, same shape as the squeezed ``eta``."""

    @abc.abstractmethod
    def curvature(self, eta: np.ndarray) -> np.ndarray:
        """d^2 loss / d eta_free^2 per row, shape ``(n_samples, n_free, n_free)``.

        The Newton (and Fisher information) blocks: the exact solver adds
        ``A' diag(w curvature[:, i, j]) A`` to the ``(i, j)`` block of the Hessian.
        """

    def loss_gradient_curvature(self, y: np.ndarray, eta: np.ndarray
                                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`loss_np`, :meth:`gradient` and the curvature ``(n_samples,)`` of a single
        free output (``eta`` ``(n_samples,)``): what a Newton pass needs of every row, from
        one evaluation of the mean (one exponential) where the family can."""
        return self.loss_np(y, eta), self.gradient(y, eta), self.curvature(eta)[:, 0, 0]

    # -- predictions -------------------------------------------------------------------------
    @abc.abstractmethod
    def mean(self, eta: np.ndarray) -> np.ndarray:
        """The inverse link: the mean ``mu`` of each row (class probabilities for classes)."""

    @abc.abstractmethod
    def variance(self, mu: np.ndarray) -> np.ndarray:
        """The variance function ``V(mu)``: a row's variance over the dispersion (Pearson
        residuals are ``(y - mu) / sqrt(V(mu))``); per class for classes."""

    def probabilities(self, eta: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)`` (classifiers only)."""
        raise DegenetError(f"the {self.name} family predicts a mean, not class probabilities")

    def full_logits(self, eta: np.ndarray) -> np.ndarray:
        """Every class's logit, ``(n_samples, n_classes)``, the reference class's at 0."""
        raise DegenetError(f"the {self.name} family has no classes")

    def separation_margins(self, A: np.ndarray, y: np.ndarray, n_classes: int):
        """Rows ``M`` whose products ``M b`` are the rows' margins along a direction ``b`` of
        the coefficients (classifiers): every margin >= 0 means ``b`` never raises a row's
        loss, and the likelihood then has no maximum (:mod:`degenet.exact.separation`)."""
        raise DegenetError(f"the {self.name} family has no classes to separate")

    # -- fit figures -------------------------------------------------------------------------
    def unit_deviance(self, y: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """The deviance of each row, ``(n_samples,)``: twice the loss's gap to the saturated
        model. The classifiers' losses vanish there, so it is twice the loss."""
        return 2.0 * self.loss_np(y, eta)

    def deviance(self, y: np.ndarray, eta: np.ndarray, weight: np.ndarray) -> float:
        """The (weighted) sum of :meth:`unit_deviance`."""
        return float(weight @ self.unit_deviance(y, eta))

    def loss_scale(self, dispersion: float) -> float:
        """The loss per unit of negative log-likelihood, at the fitted ``dispersion``.

        1 when the loss is the negative log-likelihood. Near the optimum the summed loss
        rises by ``loss_scale / 2`` times the squared distance ``d' C^-1 d`` of the weights
        from it (``C`` the estimates' covariance), so this turns "within so many std errors"
        into a loss gap.
        """
        return 1.0

    def log_likelihood(self, y: np.ndarray, eta: np.ndarray, weight: np.ndarray) -> float:
        """The full log-likelihood, constants included (weights count as frequencies)."""
        return -self.loss_total(y, eta, weight)

    def loss_total(self, y: np.ndarray, eta: np.ndarray, weight: np.ndarray) -> float:
        """``weight @ loss_np(y, eta)``, evaluated :data:`LOSS_BLOCK_ROWS` rows at a time."""
        blocks = (slice(start, start + LOSS_BLOCK_ROWS)
                  for start in range(0, len(y), LOSS_BLOCK_ROWS))
        return float(sum(weight[rows] @ self.loss_np(y[rows], eta[rows]) for rows in blocks))

    def fit_figures(self, y: np.ndarray, eta: np.ndarray, weight: np.ndarray
                    ) -> tuple[float, float, float]:
        """``(mean loss, log-likelihood, deviance)`` of ``eta``: one evaluation of the loss
        when the likelihood and the deviance are the loss's own (this class's methods, as
        for the classifiers), else each from its own method."""
        own = type(self)
        if (own.log_likelihood is Family.log_likelihood
                and own.unit_deviance is Family.unit_deviance):
            total = self.loss_total(y, eta, weight)
            return total / float(weight.sum()), -total, 2.0 * total
        return (float(np.average(self.loss_np(y, eta), weights=weight)),
                self.log_likelihood(y, eta, weight), self.deviance(y, eta, weight))

    def optimal_constant(self, y: np.ndarray, weight: np.ndarray,
                         n_classes: int | None = None) -> np.ndarray:
        """The exact optimal constant ``eta`` (the intercept-only model), ``(n_outputs,)``.

        The link of the weighted mean; the exact solver starts Newton from it.
        """
        return np.atleast_1d(self.link_np(np.average(y, weights=weight)))

    def offset_constant(self, y: np.ndarray, weight: np.ndarray, offset: np.ndarray
                        ) -> np.ndarray:
        """The optimal constant ``c`` of the model ``eta = c + offset``, shape ``(1,)``.

        Single-output families: ``c`` solves ``sum w (mean(c + offset) - y) = 0``, found by
        Newton's method on the mean loss, convex in ``c``, from the constant without the
        offset shifted by the offset's mean (exact for gaussian).
        """
        c = float(self.optimal_constant(y, weight)[0] - np.average(offset, weights=weight))
        loss = np.average(self.loss_np(y, c + offset), weights=weight)
        for _ in range(100):
            eta = c + offset
            step = (np.average(self.gradient(y, eta), weights=weight)
                    / np.average(self.curvature(eta)[:, 0, 0], weights=weight))
            for _ in range(60):  # backtracking: a step that does not lower the loss is halved
                new_loss = np.average(self.loss_np(y, c - step + offset), weights=weight)
                if new_loss <= loss:
                    break
                step /= 2.0
            c, loss = c - step, min(new_loss, loss)
            if abs(step) <= 1e-15 * (1.0 + abs(c)):
                break
        return np.array([c])

    def link_np(self, mu):
        """The link: ``eta`` of a mean ``mu`` (families whose constant is not the link of
        the mean, like the categorical one, override :meth:`optimal_constant` instead)."""
        raise DegenetError(f"the {self.name} family has no scalar link")

    def target_scaling(self, y: np.ndarray, intercept: bool = True) -> tuple[float, float]:
        """``(center, scale)`` the target is standardized by for training (none by default)."""
        return 0.0, 1.0

    # -- the target --------------------------------------------------------------------------
    @abc.abstractmethod
    def encode_target(self, values: pd.Series) -> Target:
        """Check the target column and encode it; errors name the column and the value."""

    def check_encoded(self, y: np.ndarray, weight: np.ndarray, n_classes: int | None
                      ) -> int | None:
        """Check an encoded ``y`` (as :meth:`encode_target` makes it) where its rows have
        weight; return ``n_classes`` (classifiers) or None. Errors name the value."""
        return None


def numeric_target(values: pd.Series, family: str) -> np.ndarray:
    """A target column of numbers as float64; errors name the column and the bad value."""
    if not (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        raise DegenetError(
            f"target column {values.name!r} has dtype {values.dtype}; the {family} family "
            "needs numbers")
    y = values.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(y)):
        bad = values[~np.isfinite(y)].iloc[0]
        raise DegenetError(f"target column {values.name!r} holds {bad!r}; it needs finite numbers")
    return y


def single_class_error(what: str, label: str, where: str = "") -> DegenetError:
    """The one message for a classifier's target that holds a single class."""
    return DegenetError(f"{what} has a single class {label}{where}; a classifier needs at "
                        "least 2 classes")


def levels(values: pd.Series) -> tuple:
    """The distinct labels of a column, sorted (mixed types by their text), as Python values."""
    present = pd.unique(values.dropna())
    try:
        present = sorted(present)
    except TypeError:  # mixed label types: order by their text
        present = sorted(present, key=str)
    return tuple(level.item() if isinstance(level, np.generic) else level for level in present)


def preview(values: tuple, most: int = 5) -> str:
    """``('a', 'b', ...)``: the first few of ``values`` for a message."""
    shown = ", ".join(repr(value) for value in values[:most])
    return f"({shown}{', ...' if len(values) > most else ''})"
