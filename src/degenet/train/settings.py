"""Training by gradient descent: its settings, its result, and the rules for their defaults."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Callable, NamedTuple

import numpy as np
import pandas as pd

from degenet._keras import keras
from degenet.checks import positive_int
from degenet.errors import DegenetError
from degenet.spelling import option


@dataclass(frozen=True)
class TrainSettings:
    """How gradient descent runs. Every field is a keyword of :func:`degenet.fit`; the CLI
    sets ``max_epochs``, ``batch_size``, ``optimizer``, ``learning_rate``, ``patience`` and
    ``validation``.

    Attributes
    ----------
    max_epochs : int or None
        Upper bound on passes over the training rows. ``None`` (the default): 200 for a
        network, 2000 for a single-layer model, which trains until it reaches its exact
        optimum and stops there (see :func:`model_defaults`).
    batch_size : int or None
        Rows per step (the last partial batch is padded and masked, not dropped). ``None``
        (the default): the largest power of two from 32 to 4096 that still leaves at least
        256 steps per epoch (see :func:`batch_size_for`).
    optimizer : str
        A Keras optimizer name (``adam``, ``sgd``, ``rmsprop``, ...).
    learning_rate : float or None
        ``None`` (the default): 0.01 for a regression (one Dense layer), 0.003 for a
        network (see :func:`learning_rate_for`; the figures are in ``bench/defaults.md``).
    patience : int
        Epochs without a better validation loss before stopping; the best weights are restored.
    min_delta : float
        The least decrease in validation loss that counts as better.
    plateau_factor : float
        The learning rate is multiplied by this after every epoch without a better
        validation loss (Keras's ``ReduceLROnPlateau`` with patience 1); 1.0 keeps it fixed.
    validation : float or None
        Share of the rows held out for validation, from 0 (none: gradient descent then
        stops on the training loss) to below 1. ``None`` (the default): 0.2 for gradient
        descent, 0 for the exact solver, which uses every row (see :func:`validation_for`).
    """

    max_epochs: int | None = None
    batch_size: int | None = None
    optimizer: str = "adam"
    learning_rate: float | None = None
    patience: int = 5
    min_delta: float = 0.0
    plateau_factor: float = 1.0
    validation: float | None = None

    def __post_init__(self):
        for name in ("max_epochs", "batch_size", "patience"):
            if getattr(self, name) is not None or name == "patience":
                positive_int(name, getattr(self, name))
        if self.learning_rate is not None and not (
                isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise DegenetError(
                f"learning_rate must be a positive number; received {self.learning_rate!r}")
        if not (isinstance(self.min_delta, (int, float)) and self.min_delta >= 0):
            raise DegenetError(f"min_delta must be >= 0; received {self.min_delta!r}")
        if not (isinstance(self.plateau_factor, (int, float)) and 0 < self.plateau_factor <= 1):
            raise DegenetError("plateau_factor must be in (0, 1] (1 keeps the learning rate "
                               f"fixed); received {self.plateau_factor!r}")
        if self.validation is not None and not (
                isinstance(self.validation, (int, float)) and not isinstance(self.validation, bool)
                and 0 <= self.validation < 1):
            raise DegenetError(
                "validation must be a share from 0 (no validation rows) to below 1, e.g. 0.2, "
                f"or None for the default; received {option('validation', self.validation)}")
        _optimizer_class(self.optimizer)  # fail now, with the name, not mid-training

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrainResult:
    """What training did. The model's weights are already the best ones.

    Attributes
    ----------
    history : DataFrame
        One row per epoch: ``epoch`` (from 1), ``loss`` (training), ``val_loss``.
    best_epoch : int
        The epoch whose weights were kept.
    stopped_early : bool
        Whether early stopping ended training before ``max_epochs``.
    compile_seconds, train_seconds : float
    engine : str
        ``"jax-scan"`` or ``"keras-fit"``.
    watched : str
        What stopped training and chose the best epoch (:class:`Watch`): ``"val_loss"``,
        ``"loss"`` (no validation rows) or ``"optimum"`` (a convex model's gap to its
        exact optimum).
    best_watched : float
        Its best value (for ``"optimum"``: the distance from the optimum as a share of the
        tolerance, at most 1 once there; see the engine's ``_distance``).
    """

    history: pd.DataFrame
    best_epoch: int
    stopped_early: bool
    compile_seconds: float
    train_seconds: float
    engine: str
    watched: str = "val_loss"
    best_watched: float = float("nan")

    @property
    def epochs(self) -> int:
        return len(self.history)

    @property
    def val_loss(self) -> float:
        return float(self.history["val_loss"].iloc[self.best_epoch - 1])


ProgressCallback = Callable[[int, int], None]  # (epochs done, max epochs)

# Without validation rows, an epoch counts as progress when it lowers the training loss by
# more than this (per row, on the standardized target): scikit-learn's MLP ``tol``.
LOSS_TOL = 1e-4
DEFAULT_VALIDATION = 0.2
# Towards a known optimum, training stops with every coefficient within this many std errors
# of it: half the tolerance of the check after training (exact.results.MAX_STD_ERRORS).
GD_STD_ERRORS = 0.5


@dataclass(frozen=True)
class Optimum:
    """The exact optimum a convex (single-layer) model trains towards.

    Attributes
    ----------
    weights : tuple of ndarray
        Its kernel ``(n_features, n_outputs)`` and bias ``(n_outputs,)`` (no bias without
        an intercept), in the coordinates training sees (standardized design and target).
    inverse_std_errors : tuple of ndarray
        Shaped as ``weights``: one over the std error of each coefficient in the data's
        units (the intercept's, not the centred bias's), times the target's scale; 0 where
        there is none (a dropped column, the reference class of a softmax). Training has
        reached the optimum when no coefficient is farther from it than
        :data:`GD_STD_ERRORS` std errors, and (under whitening) the slopes' joint distance
        ``d' C^-1 d = joint_scale * |v - v*|^2`` is at most ``joint_limit``.
    joint_scale, joint_limit : float
    whitening : ndarray, shape (n_features, n_features), optional
        Training decorrelates the inputs with it: the trained kernel ``v`` stands for
        ``kernel = whitening @ v``, i.e. the layer sees ``Z @ whitening`` (LeCun et al.
        1998, "Efficient BackProp", 4.3: shift, scale and decorrelate the inputs). The
        loss is the same function of ``kernel``; only the path to it changes.
    """

    weights: tuple
    inverse_std_errors: tuple
    joint_scale: float = 0.0
    joint_limit: float = 1.0
    whitening: np.ndarray | None = None


class Watch(NamedTuple):
    """What training watches to choose its best epoch and to stop.

    ``kind``: ``"val_loss"`` (early stopping on the validation rows), ``"loss"`` (no
    validation rows: the epoch's training loss, improving by more than ``min_delta``, as
    scikit-learn's ``tol`` / ``n_iter_no_change``) or ``"optimum"`` (the distance to a
    known optimum in std errors, until it is within :attr:`Optimum.distance`).
    """

    kind: str
    min_delta: float
    whitened: bool = False


def watch_for(settings: TrainSettings, *, has_validation: bool,
              optimum: Optimum | None) -> Watch:
    """The :class:`Watch` of a run: a known optimum first, else validation rows, else the
    training loss."""
    if optimum is not None:
        return Watch("optimum", 0.0, optimum.whitening is not None)
    if has_validation:
        return Watch("val_loss", float(settings.min_delta))
    return Watch("loss", max(float(settings.min_delta), LOSS_TOL))


def validation_for(settings: TrainSettings, *, solver: str) -> TrainSettings:
    """``settings`` with the validation share filled in when the user left it to degenet:
    none for the exact solver (every row counts in the estimates), else 0.2."""
    if settings.validation is not None:
        return settings
    share = 0.0 if solver == "exact" else DEFAULT_VALIDATION
    return dataclasses.replace(settings, validation=share)


def batch_size_for(settings: TrainSettings, n_train: int) -> int:
    """The batch size used on ``n_train`` training rows.

    An explicit ``settings.batch_size`` (at most ``n_train``), else the largest power of two
    in [32, 4096] with ``n_train / batch >= 256``: big batches cut the per-step overhead on
    large data (1,600,000 rows: 4096), small data keep enough steps per epoch (on 455 rows,
    batch 256 left the logistic unconverged after 200 epochs; bench/defaults.md).
    """
    if settings.batch_size is not None:
        return max(1, min(settings.batch_size, n_train))
    size = 2 ** int(np.log2(max(n_train, 1) / 256)) if n_train >= 512 else 32
    return max(1, min(4096, max(32, size), n_train))


def learning_rate_for(settings: TrainSettings, *, regression: bool) -> TrainSettings:
    """``settings`` with its learning rate filled in when the user left it to degenet.

    A regression is convex and, on standardized columns, well conditioned: 0.01 reaches its
    optimum in fewer epochs and, with the engine's averaged iterates, lands closer to the
    exact optimum (demo logistic: 0.6-0.7 std errors at 0.01 against 0.8-2.4 at 0.003;
    bench/defaults.md). Networks lost accuracy at 0.01, so they keep 0.003.
    """
    if settings.learning_rate is not None:
        return settings
    return dataclasses.replace(settings, learning_rate=1e-2 if regression else 3e-3)


def model_defaults(settings: TrainSettings, *, regression: bool, optimum: bool = False
                   ) -> TrainSettings:
    """``settings`` with what depends on the model filled in where the user left it:
    the learning rate (:func:`learning_rate_for`) and ``max_epochs``.

    Early stopping ends within 200 epochs. A model that trains towards its known
    ``optimum`` stops as soon as it is there; its bound of 2000 is for tiny or collinear
    tables, whose epochs are one cheap step each (longley, 16 rows: 280-300 epochs;
    committee, 20 rows: 1100-1350; bench/optimum.md).
    """
    settings = learning_rate_for(settings, regression=regression)
    if settings.max_epochs is not None:
        return settings
    return dataclasses.replace(settings, max_epochs=2000 if optimum else 200)


def _optimizer_class(name: str) -> type:
    try:
        return type(keras.optimizers.get(name))
    except ValueError:
        raise DegenetError(
            f"unknown optimizer {name!r}; use a Keras optimizer name such as "
            "'adam', 'sgd', 'rmsprop', 'adamw'") from None


def make_optimizer(settings: TrainSettings) -> keras.optimizers.Optimizer:
    """A fresh Keras optimizer from the settings; errors name the optimizer received."""
    rate = settings.learning_rate if settings.learning_rate is not None else 3e-3
    return _optimizer_class(settings.optimizer)(learning_rate=rate)


def history_frame(loss: np.ndarray, val_loss: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"epoch": np.arange(1, len(loss) + 1), "loss": np.asarray(loss, float),
                         "val_loss": np.asarray(val_loss, float)})


def row_weights(sample_weight: np.ndarray | None, train_rows: np.ndarray,
                val_rows: np.ndarray) -> np.ndarray | None:
    """Sample weights rescaled to mean 1 on the training rows and on the validation rows.

    A batch loss stays a mean over its rows (``sum w_i loss_i / batch_size``), an unbiased
    estimate of the weighted mean loss, and the learning rate keeps its meaning; the epoch
    and validation losses are weighted means.
    """
    if sample_weight is None:
        return None
    weight = np.asarray(sample_weight, dtype=np.float64).copy()
    for rows in (train_rows, val_rows):
        total = weight[rows].sum()
        if total > 0:
            weight[rows] *= len(rows) / total
    return weight
