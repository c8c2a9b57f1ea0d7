"""Exceptions and warnings raised by degenet.

``ConvergenceWarning`` subclasses scikit-learn's, so a filter on scikit-learn's catches
degenet's too. It is made on first use (PEP 562): importing scikit-learn takes seconds,
and ``degenet --help`` must not.
"""

import os
import sys
import warnings

# Frames in these files are degenet's own (or the context managers it warns from): a
# warning is attributed to the first frame outside them, the line the user wrote.
_OWN_FILES = (os.path.dirname(os.path.abspath(__file__)) + os.sep,)
_PASSED_FILES = ("contextlib.py",)


class DegenetError(ValueError):
    """Bad input or settings; the message names the value received and what would be right."""


class DataWarning(UserWarning):
    """Something in the data that changes the fit (a dropped or constant column, dropped rows)."""


def warn(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` pointing at the caller's first line outside degenet.

    A fixed ``stacklevel`` points at the right line from one call path only: the same
    DataWarning reached from ``predict_proba`` pointed into fitting internals. (Python 3.12's
    ``skip_file_prefixes`` does this; degenet supports 3.11.)
    """
    frame, level = sys._getframe(1), 2
    while frame is not None and (frame.f_code.co_filename.startswith(_OWN_FILES)
                                 or frame.f_code.co_filename.endswith(_PASSED_FILES)):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


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
