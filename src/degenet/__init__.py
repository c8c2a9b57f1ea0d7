"""degenet: every regression is a degenerate neural network.

Multiple regression is one Dense layer with a squared-error loss, logistic regression is
Dense(1) with a sigmoid and binary cross-entropy, and a neural network adds hidden layers
under the same heads. degenet builds that ladder from one spec, trains every rung the same
way, reads the single-layer ones as regression models, and says whether the network is
worth it.

The public names load on first use (PEP 562), so ``import degenet`` and the command line's
``--help`` start without Keras or JAX.
"""

from importlib.metadata import PackageNotFoundError, version

from degenet._lazy import exports
from degenet.errors import DataWarning, DegenetError

try:
    __version__ = version("degenet")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

__getattr__, __dir__, __all__ = exports(__name__, {
    "fit": "fitting", "Fit": "fitted", "compare": "comparison", "Comparison": "comparison",
    "load": "modelfile", "SavedModel": "modelfile", "TrainSettings": "train",
    "get_family": "model", "parse_spec": "model", "read_table": "data",
    "prediction_frame": "prediction", "ConvergenceWarning": "errors",
    "LinearRegression": "estimators", "LogisticRegression": "estimators",
    "MLPClassifier": "estimators", "MLPRegressor": "estimators",
    "PoissonRegressor": "estimators"}, modules={"datasets": "datasets"})
__all__ += ["ConvergenceWarning", "DataWarning", "DegenetError", "__version__"]
