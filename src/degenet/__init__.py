"""degenet: every regression is a degenerate neural network.

Multiple regression is one Dense layer with a squared-error loss, logistic regression is
Dense(1) with a sigmoid and binary cross-entropy, and a neural network adds hidden layers
under the same heads. degenet builds that ladder from one spec, trains every rung the same
way, reads the single-layer ones as regression models, and says whether the network is
worth it.
"""

from importlib.metadata import PackageNotFoundError, version

from degenet import _keras  # noqa: F401  (sets the JAX backend before anything imports Keras)
from degenet import datasets
from degenet.comparison.comparison import Comparison, compare
from degenet.errors import ConvergenceWarning, DataWarning, DegenetError
from degenet.model.families import get_family
from degenet.estimators import (LinearRegression, LogisticRegression, MLPClassifier,
                                 MLPRegressor, PoissonRegressor)
from degenet.fitting import Fit, fit
from degenet.persistence import SavedModel, load
from degenet.prediction import prediction_frame
from degenet.model.specs import parse_spec
from degenet.data.tables import read_table
from degenet.train.settings import TrainSettings

try:
    __version__ = version("degenet")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

__all__ = ["ConvergenceWarning", "DataWarning", "DegenetError", "Fit", "TrainSettings",
           "datasets", "fit", "get_family", "parse_spec", "__version__",
           "LinearRegression", "LogisticRegression", "MLPClassifier", "MLPRegressor",
           "PoissonRegressor", "SavedModel", "load", "Comparison", "compare",
           "prediction_frame", "read_table"]
