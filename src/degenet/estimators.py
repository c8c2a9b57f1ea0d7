"""scikit-learn estimators: a thin shell over :func:`degenet.fit`.

Each estimator validates ``X`` and ``y`` the scikit-learn way, hands them to
:func:`degenet.fit` as a table with one column per feature, and keeps the :class:`~degenet.Fit`
it gets back as ``fit_``. Nothing is computed here that the core does not compute: the
network, the training, the exact solver and the coefficient table are the core's.

Columns are named ``feature_names_in_`` when ``X`` was a DataFrame with string column names,
else ``x0, x1, ...`` (the names :func:`degenet.data.tables.read_table` gives an array), so a model
saved from an estimator reads the same tables back through :func:`degenet.load`.

Sparse ``X`` (any ``scipy.sparse`` matrix or array, as scikit-learn's estimators take it) is
made dense, when that takes at most :data:`MAX_DENSE_BYTES` of float64, else refused with
the size it would take. Dense, because every stage reads dense rows: the network's first
layer and the compiled engine gather dense minibatches, and the exact solver standardizes
the columns (``(x - mean) / scale`` has no zeros left), so a sparse design would be made
dense block by block anyway, while the table, the training copy and the predictions are
dense already.
"""

from __future__ import annotations

import abc

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from scipy import sparse
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from degenet.errors import DegenetError
from degenet.jsonvalues import plain
from degenet.fitting import fit
from degenet.model.family import single_class_error
from degenet.model.network import regression_weights
from degenet.model.specs import parse_spec
from degenet.train.settings import TrainSettings

# Sparse X is made dense up to this many bytes of float64 (1 GiB: 1,000,000 x 134 values).
MAX_DENSE_BYTES = 2**30
SPARSE_FORMATS = ("csr", "csc", "coo", "bsr", "lil", "dok", "dia")


class _DegenetEstimator(BaseEstimator, metaclass=abc.ABCMeta):
    """What every degenet estimator shares: validation, the call to the core, the readers.

    Subclasses give :meth:`_spec_text` and ``_family`` (or override :meth:`_family_for`).
    """

    _family: str | None = None

    # -- the model this estimator trains ---------------------------------------------------
    @abc.abstractmethod
    def _spec_text(self) -> str:
        """The model spec this estimator trains (``linear``, ``mlp:64,32``, ...)."""

    def _family_for(self, y: np.ndarray) -> str:
        return self._family

    def _settings(self) -> dict:
        return {"max_epochs": self.max_epochs, "batch_size": self.batch_size,
                "optimizer": self.optimizer, "learning_rate": self.learning_rate,
                "patience": self.patience, "validation": self.validation}

    # -- fitting -----------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None) -> "_DegenetEstimator":
        spec = parse_spec(self._spec_text())
        frame = self._frame(X)
        target = _free_name(frame.columns)
        frame[target] = y
        self.fit_ = fit(frame, target, model=spec, family=self._family_for(y),
                        seed=self.random_state, intercept=self.fit_intercept,
                        solver=self.solver, sample_weight=sample_weight, **self._settings())
        self.keras_model_ = self.fit_.model
        self.n_iter_ = self.fit_.epochs
        if spec.is_regression:
            self.coef_, self.intercept_ = self._coefficients()
        return self

    def _frame(self, X: np.ndarray) -> pd.DataFrame:
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = [f"x{j}" for j in range(X.shape[1])]
        return pd.DataFrame(np.asarray(X, dtype=np.float64), columns=list(map(str, names)))

    def _coefficients(self) -> tuple[np.ndarray, np.ndarray | float]:
        """``coef_`` and ``intercept_`` in scikit-learn's shapes: the float64 optimum of an
        exact fit (as its predictions), else the network's eta layer.

        Terms are matched to features by name, so a column the encoding set aside (a
        constant one, with a DataWarning) keeps a zero coefficient.
        """
        beta, alpha = self.fit_.exact_weights() or regression_weights(self.fit_.model)
        columns = [f"x{j}" for j in range(self.n_features_in_)] if not hasattr(
            self, "feature_names_in_") else list(map(str, self.feature_names_in_))
        position = {name: j for j, name in enumerate(self.fit_.encoding.terms)}
        full = np.zeros((self.n_features_in_, beta.shape[1]))
        for j, name in enumerate(columns):
            if name in position:
                full[j] = beta[position[name]]
        return self._shape_coefficients(full.T, alpha)

    def _shape_coefficients(self, coef: np.ndarray, alpha: np.ndarray):
        """Regressors: ``coef_`` ``(n_features,)``, ``intercept_`` a float."""
        return coef[0], float(alpha[0]) if self.fit_intercept else 0.0

    # -- reading the fit ---------------------------------------------------------------------
    def _checked_frame(self, X) -> pd.DataFrame:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64, accept_sparse=SPARSE_FORMATS)
        return self._frame(_dense(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def summary(self, level: float = 0.95):
        """The fit's summary (single-layer models), as :meth:`degenet.Fit.summary`: header,
        coefficient table in the data's units, notes; ``summary().table`` is the table."""
        check_is_fitted(self)
        return self.fit_.summary(level)

    def save(self, path) -> None:
        """Write the fitted model to ``path`` (see :mod:`degenet.modelfile`)."""
        check_is_fitted(self)
        self.fit_.save(path, estimator={"class": type(self).__name__,
                                        "params": _json_params(self.get_params())})


class _Regressor(RegressorMixin, _DegenetEstimator):
    def fit(self, X, y, sample_weight=None) -> "_Regressor":
        """Train on ``X`` ``(n_samples, n_features)`` and ``y`` ``(n_samples,)``.

        ``sample_weight`` ``(n_samples,)``: non-negative weights of the rows' losses.
        """
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True,
                             ensure_min_samples=2, accept_sparse=SPARSE_FORMATS)
        X = _dense(X)
        return self._fit(X, y, _weights(sample_weight, X))

    def predict(self, X) -> np.ndarray:
        """The mean ``mu`` for each row, shape ``(n_samples,)``."""
        frame = self._checked_frame(X)
        return np.asarray(self.fit_.predict(frame), dtype=np.float64)


class _Classifier(ClassifierMixin, _DegenetEstimator):
    def _family_for(self, y):
        return "bernoulli" if len(self.classes_) == 2 else "categorical"

    def fit(self, X, y, sample_weight=None) -> "_Classifier":
        """Train on ``X`` ``(n_samples, n_features)`` and labels ``y`` ``(n_samples,)``.

        ``sample_weight`` ``(n_samples,)``: non-negative weights of the rows' losses.
        """
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2,
                             accept_sparse=SPARSE_FORMATS)
        X = _dense(X)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        weight = _weights(sample_weight, X)
        present = np.unique(y if weight is None else y[weight > 0])
        if len(present) < 2:
            raise single_class_error(
                "y", repr(present.tolist()[0]),
                "" if weight is None else " among the rows with sample_weight > 0")
        return self._fit(X, y, weight)

    def _shape_coefficients(self, coef, alpha):
        """``coef_`` ``(1, n_features)`` for two classes, else ``(n_classes, n_features)``."""
        intercept = alpha if self.fit_intercept else np.zeros_like(alpha)
        return coef, intercept

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)``, columns in ``classes_`` order."""
        frame = self._checked_frame(X)
        return self.fit_.predict_proba(frame)

    def predict_log_proba(self, X) -> np.ndarray:
        """The logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class for each row, shape ``(n_samples,)``."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]


_SHARED_DOC = """
    solver : {'gd', 'exact'}
        ``gd``: the Keras network trained by gradient descent with early stopping, as
        :func:`degenet.fit` does; ``exact``: the exact optimum of the same model and loss on
        the same training rows (single-layer models only).
    fit_intercept : bool
    max_epochs, batch_size, optimizer, learning_rate, patience, validation
        :class:`~degenet.TrainSettings` fields, with its defaults: ``validation=None``
        holds 20% of the rows out for gradient descent's early stopping and none for
        ``solver='exact'``, which then fits every row (as scikit-learn's own estimators).
    random_state : int
        degenet's ``seed``: the validation split, the initial weights and the shuffling.

    Attributes
    ----------
    fit_ : degenet.Fit
        The fit of the core (history, coefficient table, the exact check).
    keras_model_ : keras.Model
        The trained network; reads the features in their own units.
    coef_, intercept_ : ndarray
        Single-layer models, in the data's units: the float64 optimum for ``solver='exact'``
        (its predictions too), else the ``eta`` layer's kernel and bias.
    n_features_in_, feature_names_in_, n_iter_ (epochs run), classes_ (classifiers)
"""


def _init_doc(cls):
    """Append the parameters every estimator shares to its docstring."""
    doc = cls.__doc__.rstrip()
    if "Parameters\n" not in doc:
        doc += "\n\n    Parameters\n    ----------"
    cls.__doc__ = doc + _SHARED_DOC
    return cls


# Defaults come from TrainSettings, the one place they are set.
_D = TrainSettings


class _SingleLayer:
    """The parameters of the single-layer (regression) estimators; ``_spec`` names the model."""

    _spec: str

    def __init__(self, *, solver: str = "gd", fit_intercept: bool = True,
                 max_epochs: int | None = _D.max_epochs, batch_size: int | None = _D.batch_size,
                 optimizer: str = _D.optimizer, learning_rate: float | None = _D.learning_rate,
                 patience: int = _D.patience, validation: float | None = _D.validation,
                 random_state: int = 0):
        self.solver = solver
        self.fit_intercept = fit_intercept
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.patience = patience
        self.validation = validation
        self.random_state = random_state

    def _spec_text(self):
        return self._spec


class _Network(_SingleLayer):
    """The parameters of the network estimators: the single-layer ones and the hidden layers."""

    def __init__(self, *, hidden_layer_sizes: tuple[int, ...] = (64, 32), solver: str = "gd",
                 fit_intercept: bool = True, max_epochs: int | None = _D.max_epochs,
                 batch_size: int | None = _D.batch_size, optimizer: str = _D.optimizer,
                 learning_rate: float | None = _D.learning_rate, patience: int = _D.patience,
                 validation: float | None = _D.validation, random_state: int = 0):
        super().__init__(solver=solver, fit_intercept=fit_intercept, max_epochs=max_epochs,
                         batch_size=batch_size, optimizer=optimizer,
                         learning_rate=learning_rate, patience=patience,
                         validation=validation, random_state=random_state)
        self.hidden_layer_sizes = hidden_layer_sizes

    def _spec_text(self):
        return _mlp_spec(self.hidden_layer_sizes)


@_init_doc
class LinearRegression(_SingleLayer, _Regressor):
    """Multiple regression: one Dense layer, squared error (gaussian family, identity link)."""

    _family, _spec = "gaussian", "linear"


@_init_doc
class PoissonRegressor(_SingleLayer, _Regressor):
    """Poisson regression: Dense(1) under ``exp`` (log link), loss ``exp(eta) - y * eta``."""

    _family, _spec = "poisson", "poisson"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        return tags


@_init_doc
class LogisticRegression(_SingleLayer, _Classifier):
    """Logistic regression: Dense(1) + sigmoid for two classes, Dense(k) + softmax for more.

    Loss: the cross-entropy from the logits. ``coef_`` has shape ``(1, n_features)`` for
    two classes and ``(n_classes, n_features)`` for more (softmax logits, identified only up
    to a common shift: :meth:`summary` gives the contrasts against the reference class).
    """

    _spec = "logistic"


def _mlp_spec(hidden_layer_sizes) -> str:
    sizes = (hidden_layer_sizes,) if np.isscalar(hidden_layer_sizes) else hidden_layer_sizes
    try:
        sizes = [int(size) for size in sizes]
    except (TypeError, ValueError):
        sizes = []
    if not sizes or min(sizes) < 1:
        raise DegenetError(f"hidden_layer_sizes must be positive integers, e.g. (64, 32); "
                           f"received hidden_layer_sizes={hidden_layer_sizes!r}")
    return "mlp:" + ",".join(map(str, sizes))


@_init_doc
class MLPRegressor(_Network, _Regressor):
    """A network with ReLU hidden layers under the gaussian head (squared error).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers.
    """

    _family = "gaussian"


@_init_doc
class MLPClassifier(_Network, _Classifier):
    """A network with ReLU hidden layers under the sigmoid (two classes) or softmax head.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the hidden layers.
    """


def _dense(X) -> np.ndarray:
    """``X`` as a dense float64 array; sparse input within :data:`MAX_DENSE_BYTES`."""
    if not sparse.issparse(X):
        return X
    n_bytes = 8 * X.shape[0] * X.shape[1]
    if n_bytes > MAX_DENSE_BYTES:
        raise DegenetError(
            f"X is a sparse {X.shape[0]:,} x {X.shape[1]:,} matrix; degenet reads dense rows "
            f"and it would take {_size(n_bytes)} as float64, more than "
            f"degenet.estimators.MAX_DENSE_BYTES ({_size(MAX_DENSE_BYTES)}): select or reduce "
            "the columns first (e.g. scikit-learn's TruncatedSVD), or raise that limit")
    return X.toarray()


def _size(n_bytes: int) -> str:
    """``9.4 KiB``, ``1.0 GiB``: a size in binary units."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n_bytes < 1024 or unit == "GiB":
            return f"{n_bytes:.1f} {unit}" if unit != "B" else f"{n_bytes} B"
        n_bytes /= 1024


def _weights(sample_weight, X) -> np.ndarray | None:
    """scikit-learn's checks of shape and type; the core checks the values."""
    return None if sample_weight is None else _check_sample_weight(sample_weight, X)


def _free_name(columns) -> str:
    """A target column name that no feature uses."""
    name = "y"
    while name in set(map(str, columns)):
        name = f"_{name}"
    return name


def _json_params(params: dict) -> dict:
    """Estimator parameters as JSON values (tuples become lists)."""
    return {key: plain(value) for key, value in params.items()}


__all__ = ["LinearRegression", "LogisticRegression", "MLPClassifier", "MLPRegressor",
           "PoissonRegressor"]
