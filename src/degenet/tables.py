"""Read the user's table: a CSV or Parquet path, a pandas DataFrame, or an array."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from degenet.errors import DegenetError

TableLike = "str | Path | pd.DataFrame | np.ndarray"


def read_table(data, *, columns: list[str] | None = None) -> pd.DataFrame:
    """Return ``data`` as a DataFrame; never modifies the caller's object.

    Parameters
    ----------
    data : str, Path, DataFrame or ndarray
        A ``.csv``/``.tsv``/``.txt`` or ``.parquet``/``.pq`` file, a DataFrame, or a 2-D array.
    columns : list of str, optional
        Names for the columns of an array (default ``x0, x1, ...``).
    """
    if isinstance(data, (str, Path)):
        return _read_file(Path(data))
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise DegenetError(f"an array table must be 2-D; received shape {data.shape}")
        names = columns or [f"x{j}" for j in range(data.shape[1])]
        return pd.DataFrame(data, columns=names)
    raise DegenetError(
        f"cannot read a table from {type(data).__name__}; pass a CSV or Parquet path, "
        "a pandas DataFrame or a 2-D numpy array")


def _read_file(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DegenetError(f"file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        elif suffix in (".csv", ".tsv", ".txt"):
            frame = pd.read_csv(path, sep=None, engine="python")
        else:
            raise DegenetError(f"cannot read {path}: expected a .csv, .tsv or .parquet file")
    except pd.errors.EmptyDataError:
        raise DegenetError(f"file {path} is empty; it needs a header row and data rows") from None
    if frame.empty:
        raise DegenetError(f"file {path} has no data rows")
    return frame
