"""Exceptions and warnings raised by degenet.

``ConvergenceWarning`` subclasses scikit-learn's, so a filter on scikit-learn's catches
degenet's too. It is made on first use (PEP 562): importing scikit-learn takes seconds,
and ``degenet --help`` must not.
"""


class DegenetError(ValueError):
    """Bad input or settings; the message names the value received and what would be right."""


class DataWarning(UserWarning):
    """Something in the data that changes the fit (a dropped or constant column, dropped rows)."""


def warning_classes() -> tuple[type, ...]:
    """degenet's warning classes made so far: no ConvergenceWarning was raised if none exists."""
    return tuple(c for c in (DataWarning, globals().get("ConvergenceWarning")) if c is not None)


def __getattr__(name: str):
    if name != "ConvergenceWarning":
        raise AttributeError(f"module 'degenet.errors' has no attribute {name!r}")
    from sklearn.exceptions import ConvergenceWarning as sklearn_warning

    warning = type("ConvergenceWarning", (sklearn_warning,), {
        "__doc__": "A fit that is not at its optimum; the message says how far from it.",
        "__module__": __name__})
    globals()[name] = warning
    return warning
