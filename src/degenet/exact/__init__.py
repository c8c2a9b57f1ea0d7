"""The exact check: the float64 optimum of a single-layer model, its diagnostics and inference."""

from degenet.exact.diagnostics import Diagnostics, diagnose
from degenet.exact.results import RegressionResults, read_regression
from degenet.exact.solution import Solution
from degenet.exact.solve import solve

__all__ = ["Diagnostics", "RegressionResults", "Solution", "diagnose", "read_regression",
           "solve"]
