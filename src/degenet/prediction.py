"""Predictions on a new table as a table: what ``degenet predict`` writes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from degenet.data.tables import read_table


def prediction_frame(fit, data) -> pd.DataFrame:
    """The predictions of ``fit`` for each row of ``data``, in the input's row order.

    Parameters
    ----------
    fit : Fit
        A fitted model (:func:`degenet.fit`); its encoding rebuilds the design of ``data``.
    data : path, DataFrame or ndarray
        The new table; it needs the columns the model was fitted on.

    Returns
    -------
    DataFrame, shape (n_samples, 1 + n_classes)
        Indexed like ``data``. Column ``prediction``: the mean for regression families, the
        most probable class for classifiers; classifiers add ``proba_<class>`` per class,
        in ``fit.classes`` order.
    """
    frame = read_table(data)
    if not fit.family.is_classifier:
        return pd.DataFrame({"prediction": fit.predict(frame)}, index=frame.index)
    proba = fit.predict_proba(frame)
    labels = np.asarray(fit.classes, dtype=object)[proba.argmax(axis=1)]  # as Fit.predict
    out = pd.DataFrame({"prediction": labels}, index=frame.index)
    for k, label in enumerate(fit.classes):
        out[f"proba_{label}"] = proba[:, k]
    return out
