"""Turn table columns into a design matrix, the same way at fit and at predict time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from degenet.errors import DegenetError


@dataclass(frozen=True)
class Encoding:
    """The fitted encoding of the predictors.

    Attributes
    ----------
    target : str
        The target column.
    columns : tuple of str
        The input columns the design is built from.
    terms : tuple of str
        The names of the design matrix's columns (its coefficients' names).
    """

    target: str
    columns: tuple[str, ...]
    terms: tuple[str, ...]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The design matrix of ``frame``, shape ``(n_samples, n_features)``, float64."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise DegenetError(
                f"column(s) {', '.join(map(repr, missing))} missing from the data; the model "
                f"was fitted on: {', '.join(self.columns)}")
        return _numeric_block(frame, self.columns)

    def to_dict(self) -> dict:
        return {"target": self.target, "columns": list(self.columns), "terms": list(self.terms)}

    @classmethod
    def from_dict(cls, data: dict) -> "Encoding":
        return cls(data["target"], tuple(data["columns"]), tuple(data["terms"]))


def encode(frame: pd.DataFrame, target: str, *, features: list[str] | None = None
           ) -> tuple[Encoding, np.ndarray, pd.Series]:
    """Fit the encoding on ``frame`` and return it with the design matrix and target column."""
    if target not in frame.columns:
        raise DegenetError(
            f"target column {target!r} not found; columns are: "
            f"{', '.join(map(str, frame.columns))}")
    columns = [c for c in frame.columns if c != target] if features is None else list(features)
    unknown = [c for c in columns if c not in frame.columns]
    if unknown:
        raise DegenetError(
            f"feature column(s) {', '.join(map(repr, unknown))} not found; columns are: "
            f"{', '.join(map(str, frame.columns))}")
    if target in columns:
        raise DegenetError(f"target column {target!r} is also listed as a feature")
    if not columns:
        raise DegenetError("no feature columns: the table has only the target column")
    encoding = Encoding(str(target), tuple(map(str, columns)), tuple(map(str, columns)))
    return encoding, _numeric_block(frame, columns), frame[target]


def _numeric_block(frame: pd.DataFrame, columns) -> np.ndarray:
    for column in columns:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            sample = values.dropna().iloc[0] if values.notna().any() else None
            raise DegenetError(
                f"column {column!r} is not numeric (dtype {values.dtype}, e.g. {sample!r}); "
                "convert it to numbers or leave it out with features=[...]")
        if values.isna().any():
            raise DegenetError(
                f"column {column!r} has {int(values.isna().sum())} missing value(s); "
                "fill or drop those rows")
    X = frame[list(columns)].to_numpy(dtype=np.float64)
    if not np.isfinite(X).all():
        j = int(np.where(~np.isfinite(X).all(axis=0))[0][0])
        raise DegenetError(f"column {columns[j]!r} holds infinite values; it needs finite numbers")
    return X
