"""The exact check: the float64 optimum of a single-layer model, its diagnostics and inference."""

from degenet._lazy import exports

__getattr__, __dir__, __all__ = exports(__name__, {
    "solve": "solve", "Solution": "solution", "Diagnostics": "diagnostics",
    "diagnose": "diagnostics", "RegressionResults": "results",
    "read_regression": "results", "Covariance": "robust", "robust_covariance": "robust",
    "variance_inflation": "inflation"})
