"""degenet: every regression is a degenerate neural network.

Multiple regression is one Dense layer with a squared-error loss, logistic regression is
Dense(1) with a sigmoid and binary cross-entropy, and a neural network adds hidden layers
under the same heads. degenet builds that ladder from one spec, trains every rung the same
way, reads the single-layer ones as regression models, and says whether the network is
worth it.

The public names load on first use (PEP 562), so ``import degenet`` and the command line's
``--help`` start without Keras or JAX.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

from degenet.errors import ConvergenceWarning, DataWarning, DegenetError

try:
    __version__ = version("degenet")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

# Public name -> the module that defines it.
_PUBLIC = {
    "fit": "degenet.fitting", "Fit": "degenet.fitting",
    "compare": "degenet.comparison", "Comparison": "degenet.comparison",
    "load": "degenet.modelfile", "SavedModel": "degenet.modelfile",
    "TrainSettings": "degenet.train", "get_family": "degenet.model",
    "parse_spec": "degenet.model", "read_table": "degenet.data",
    "prediction_frame": "degenet.prediction",
    "LinearRegression": "degenet.estimators", "LogisticRegression": "degenet.estimators",
    "MLPClassifier": "degenet.estimators", "MLPRegressor": "degenet.estimators",
    "PoissonRegressor": "degenet.estimators",
}
_MODULES = {"datasets": "degenet.datasets"}

__all__ = ["ConvergenceWarning", "DataWarning", "DegenetError", "Fit", "TrainSettings",
           "datasets", "fit", "get_family", "parse_spec", "__version__",
           "LinearRegression", "LogisticRegression", "MLPClassifier", "MLPRegressor",
           "PoissonRegressor", "SavedModel", "load", "Comparison", "compare",
           "prediction_frame", "read_table"]


def __getattr__(name: str):
    if name in _MODULES:
        value = import_module(_MODULES[name])
    elif name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name]), name)
    else:
        raise AttributeError(f"module 'degenet' has no attribute {name!r}")
    globals()[name] = value  # once loaded, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
