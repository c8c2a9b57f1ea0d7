"""A fit: the trained Keras network of one rung of the ladder, and how to read and reuse it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from degenet import display
from degenet._keras import keras
from degenet.data.carried import OffsetSpec
from degenet.data.encoding import Encoding
from degenet.data.scaling import Scaling
from degenet.errors import DegenetError
from degenet.exact.results import RegressionResults
from degenet.exact.summary import Summary
from degenet.model.family import Family
from degenet.model.specs import ModelSpec
from degenet.modelfile import save as save_model
from degenet.prediction import Predictor
from degenet.train import TrainResult, TrainSettings


@dataclass(frozen=True)
class Fit(Predictor):
    """A trained model of the ladder and everything needed to read and reuse it.

    Attributes
    ----------
    spec : ModelSpec
    family : Family
    model : keras.Model
        Reads the encoded design in its own units and outputs the mean (probabilities for
        classes). Its ``eta`` layer gives the linear predictor; for a regression the
        ``eta`` kernel is beta and its bias alpha.
    encoding : Encoding
    scaling : Scaling
        The standardization used in training (already folded into the model's weights).
    classes : tuple or None
        Class labels; for bernoulli ``classes[1]`` is the positive class.
    settings : TrainSettings
    seed : int
    train_rows, val_rows : ndarray
        Row indices of the split (positions in the prepared table).
    intercept : bool
    reference : optional
        The reference class of a softmax fit's coefficients.
    data_sha256 : str or None
        Of the training design, target and weights (:func:`degenet.data.prepare.data_hash`).
    solver : {'gd', 'exact'}
    training : TrainResult or None
        What gradient descent did; None for ``solver="exact"`` (no training).
    exact : RegressionResults or None
        A single-layer fit read as a regression (None for networks).
    offset : OffsetSpec or None
        Where the offset (or exposure) added to the linear predictor comes from.
    """

    spec: ModelSpec
    family: Family
    model: keras.Model
    encoding: Encoding
    scaling: Scaling
    classes: tuple | None
    settings: TrainSettings
    seed: int
    train_rows: np.ndarray
    val_rows: np.ndarray
    intercept: bool = True
    reference: object = None
    data_sha256: str | None = None
    solver: str = "gd"
    training: TrainResult | None = None
    exact: RegressionResults | None = None
    offset: OffsetSpec | None = None

    def exact_weights(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The float64 optimum of a ``solver="exact"`` fit: it predicts from these, not from
        the network's float32 copy of them (7 digits; longley's predictions moved by 0.18)."""
        if self.solver != "exact" or self.exact is None:
            return None
        return self.exact.solution.beta, self.exact.solution.alpha

    def __repr__(self) -> str:
        """One line: what was fitted and how it went (the dataclass's repr ran to 6,000
        characters of arrays)."""
        return f"<Fit {self._headline()}>"

    def _headline(self) -> str:
        how = ("exact solver" if self.training is None else
               f"{self.epochs} epochs, best {self.best_epoch}")
        check = ""
        if self.exact is not None and self.solver == "gd":
            check = f", {self.exact.max_std_diff:.2g} std errors from the exact optimum"
        return (f"{self.spec.text} ({self.family.name}) of {self.encoding.target!r}: "
                f"{len(self.terms)} terms, {how}, val_loss {self.val_loss:.6g}{check}")

    def _repr_html_(self) -> str:
        """The fit at a glance in a notebook: training, the exact check, the coefficients."""
        facts = [("family", self.family.name), ("target", self.encoding.target),
                 ("terms", len(self.terms)), ("parameters", int(self.model.count_params())),
                 ("val_loss", f"{self.val_loss:.6g}"), ("seed", self.seed)]
        if self.training is not None:
            facts[4:4] = [("epochs", self.epochs), ("best epoch", self.best_epoch),
                          ("engine", self.training.engine)]
        parts = [display.facts(facts)]
        if self.exact is not None:
            exact = self.exact
            tone = "network" if exact.at_optimum else "warning"
            text = ("exact solver" if self.solver == "exact" else
                    f"{exact.max_std_diff:.2g} std errors from the exact optimum")
            parts += [display.badge(text, tone),
                      display.table(self.coefficients.drop(columns="statistic"),
                                    index_name="term")]
            if exact.withheld:
                parts.append(display.paragraph(f"p-values and intervals withheld: "
                                               f"{exact.withheld}", muted=True))
        else:
            widths = ", ".join(map(str, self.spec.hidden))
            parts.append(display.paragraph(f"hidden layers {widths}: a network has no "
                                           "coefficients to read", muted=True))
        return display.card(f"degenet fit: {self.spec.text}", *parts)

    def save(self, path, *, estimator: dict | None = None, optimizer_state: bool = False) -> None:
        """Write this fit as a model folder (``.keras`` + JSON sidecar); see ``degenet.load``.

        The network is saved compiled with its optimizer's configuration;
        ``optimizer_state=True`` also saves the state of ``self.model``'s optimizer (real
        once the model was trained further with Keras; see :mod:`degenet.modelfile.compiled`).
        """
        save_model(self, path, estimator=estimator, optimizer_state=optimizer_state)

    @property
    def history(self) -> pd.DataFrame:
        """Training and validation loss per epoch (no rows for ``solver="exact"``)."""
        if self.training is None:
            return pd.DataFrame({"epoch": np.zeros(0, int), "loss": np.zeros(0),
                                 "val_loss": np.zeros(0)})
        return self.training.history

    @property
    def val_loss(self) -> float:
        """The best validation loss: the one of the weights the model holds."""
        return self.exact.val_loss if self.training is None else self.training.val_loss

    @property
    def epochs(self) -> int:
        return 0 if self.training is None else self.training.epochs

    @property
    def best_epoch(self) -> int:
        """The epoch whose weights the model holds (0: none, e.g. ``solver="exact"``)."""
        return 0 if self.training is None else self.training.best_epoch

    @property
    def terms(self) -> tuple[str, ...]:
        return self.encoding.terms

    @property
    def coefficients(self) -> pd.DataFrame:
        """The regression's coefficients in the data's units (single-layer models only).

        Indexed by term, ``intercept`` last; categorical fits have a ``(class, term)`` index
        with each class compared against :attr:`reference`. Columns ``estimate, std_error,
        statistic, p_value, ci_low, ci_high`` (95% intervals; see :meth:`coefficient_table`).
        """
        return self.coefficient_table()

    def coefficient_table(self, level: float = 0.95) -> pd.DataFrame:
        """The coefficients with intervals at confidence ``level``.

        ``estimate`` is the exact (float64) optimum on the training rows, whatever the
        solver: std errors come from the inverse Fisher information there, and statistics
        and intervals are centred on it. For ``solver="gd"`` the columns ``gd_estimate``
        (the network's own weights) and ``gd_std_diff`` (their distance in std errors) sit
        beside it. p-values and intervals are NaN when they cannot be trusted (separation,
        no convergence): ``table.attrs["withheld"]`` says why.
        """
        return self._regression().coefficient_table(level)

    def summary(self, level: float = 0.95) -> Summary:
        """A statsmodels-like summary of a single-layer fit: header, table, notes.

        ``print(fit.summary())`` prints the text; in a notebook it renders as tables."""
        return self._regression().summary(level)

    def _regression(self) -> RegressionResults:
        if self.exact is None:
            raise DegenetError(
                f"model {self.spec.text!r} has hidden layers; only single-layer models "
                "(linear, logistic, softmax, poisson) have coefficients")
        return self.exact
