"""Exceptions and warnings raised by degenet."""

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning


class DegenetError(ValueError):
    """Bad input or settings; the message names the value received and what would be right."""


class ConvergenceWarning(_SklearnConvergenceWarning):
    """A fit that is not at its optimum; the message says how far from it."""


class DataWarning(UserWarning):
    """Something in the data that changes the fit (a dropped or constant column, dropped rows)."""
