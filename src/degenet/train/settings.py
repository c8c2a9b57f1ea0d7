"""Training by gradient descent: its settings, its result, and the rules for their defaults."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import pandas as pd

from degenet._keras import keras
from degenet.checks import positive_int, real_number
from degenet.errors import DegenetError


@dataclass(frozen=True)
class TrainSettings:
    """How gradient descent runs. Every field is a keyword of :func:`degenet.fit`; the CLI
    sets ``max_epochs``, ``batch_size``, ``optimizer``, ``learning_rate``, ``patience`` and
    ``validation``.

    Attributes
    ----------
    max_epochs : int
        Upper bound on passes over the training rows.
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
    validation : float
        Share of the rows held out for validation.
    """

    max_epochs: int = 200
    batch_size: int | None = None
    optimizer: str = "adam"
    learning_rate: float | None = None
    patience: int = 5
    min_delta: float = 0.0
    plateau_factor: float = 1.0
    validation: float = 0.2

    def __post_init__(self):
        for name in ("max_epochs", "batch_size", "patience"):
            if getattr(self, name) is not None or name != "batch_size":
                positive_int(name, getattr(self, name))
        # Numbers are stored as floats: Keras refuses an int learning rate, JSON keeps 0.01.
        if self.learning_rate is not None:
            rate = real_number("learning_rate", self.learning_rate)
            if rate <= 0:
                raise DegenetError(
                    f"learning_rate must be a positive number; received {self.learning_rate!r}")
            object.__setattr__(self, "learning_rate", rate)
        object.__setattr__(self, "min_delta", real_number("min_delta", self.min_delta))
        if self.min_delta < 0:
            raise DegenetError(f"min_delta must be >= 0; received {self.min_delta!r}")
        factor = real_number("plateau_factor", self.plateau_factor)
        if not 0 < factor <= 1:
            raise DegenetError("plateau_factor must be in (0, 1] (1 keeps the learning rate "
                               f"fixed); received {self.plateau_factor!r}")
        object.__setattr__(self, "plateau_factor", factor)
        object.__setattr__(self, "validation", real_number("validation", self.validation))
        if not isinstance(self.optimizer, str):
            raise DegenetError(f"optimizer must be a Keras optimizer's name such as 'adam'; "
                               f"received optimizer={self.optimizer!r}")
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
    """

    history: pd.DataFrame
    best_epoch: int
    stopped_early: bool
    compile_seconds: float
    train_seconds: float
    engine: str

    @property
    def epochs(self) -> int:
        return len(self.history)

    @property
    def val_loss(self) -> float:
        return float(self.history["val_loss"].iloc[self.best_epoch - 1])


ProgressCallback = Callable[[int, int], None]  # (epochs done, max epochs)


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
