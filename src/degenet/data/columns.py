"""The table as columns, read one at a time: a DataFrame's, a 2-D array's, or a Parquet file's.

The design is built a column at a time (:mod:`degenet.data.design_buffer`), so the table
need not be one DataFrame: :func:`table_columns` opens a DataFrame (its own columns), a
2-D numeric array (views of its columns, no DataFrame copy) or a Parquet file (pyarrow
reads only the column asked for, when asked). Anything else :func:`~degenet.data.tables.
read_table` reads (CSV, polars, Arrow tables, structured arrays) becomes a DataFrame first.
:meth:`Columns.frame` gives the whole table as a DataFrame for the general path (formulas,
missing values, and the canonical error messages).
"""

from __future__ import annotations

import abc
from pathlib import Path

import numpy as np
import pandas as pd

from degenet.data.design_buffer import FLOAT32_INTEGERS, exactly_float32
from degenet.data.tables import PARQUET_SUFFIXES, read_table


class Columns(abc.ABC):
    """A table read column by column.

    Attributes
    ----------
    names : tuple of str
    n_rows : int
    resident : bool
        Whether the columns are in memory already (reading one costs nothing).
    """

    names: tuple[str, ...]
    n_rows: int
    resident: bool = True

    @abc.abstractmethod
    def series(self, name: str) -> pd.Series:
        """The column as pandas holds it, ``(n_rows,)``."""

    @abc.abstractmethod
    def is_numeric(self, name: str) -> bool:
        """Whether the column is plain numbers (numpy integers or floats, not booleans)."""

    @abc.abstractmethod
    def numbers(self, name: str) -> np.ndarray:
        """A numeric column as a numpy array ``(n_rows,)``, not copied where avoidable;
        missing values (if any) as NaN."""

    @abc.abstractmethod
    def frame(self) -> pd.DataFrame:
        """The whole table as a DataFrame."""

    def exactly_float32(self, name: str) -> bool:
        """Whether every value of a numeric column is exactly a float32
        (:func:`degenet.data.design_buffer.exactly_float32`)."""
        return exactly_float32(self.numbers(name))

    def bounds(self, name: str) -> tuple | None:
        """A numeric column's ``(min, max)`` known without reading it, or None."""
        return None


def _plain_numeric(dtype) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind in "iuf"


class FrameColumns(Columns):
    """The columns of a DataFrame (with string names, as ``read_table`` makes them)."""

    def __init__(self, frame: pd.DataFrame):
        self._frame = frame
        self.names = tuple(frame.columns)
        self.n_rows = len(frame)

    def series(self, name):
        return self._frame[name]

    def is_numeric(self, name):
        return _plain_numeric(self._frame[name].dtype)

    def numbers(self, name):
        return self._frame[name].to_numpy()  # a view of pandas' block for numpy dtypes

    def frame(self):
        return self._frame


class ArrayColumns(Columns):
    """The columns of a 2-D numeric array ``(n_rows, n_columns)``, named, and further named
    1-D columns (``extra``: an estimator's target)."""

    def __init__(self, array: np.ndarray, names, extra: dict | None = None):
        self._array, self._extra = array, dict(extra or {})
        self._position = {str(name): j for j, name in enumerate(names)}
        self.names = (*self._position, *self._extra)
        self.n_rows = len(array)

    def _values(self, name) -> np.ndarray:
        if name in self._extra:
            return np.asarray(self._extra[name])
        return self._array[:, self._position[name]]

    def series(self, name):
        return pd.Series(self._values(name), name=name)

    def is_numeric(self, name):
        return _plain_numeric(self._values(name).dtype)

    def numbers(self, name):
        return self._values(name)

    def frame(self):
        frame = pd.DataFrame(self._array, columns=list(self._position))
        for name, values in self._extra.items():
            frame[name] = values
        return frame


class ParquetColumns(Columns):
    """The columns of a Parquet file, each read from the file when asked for.

    Numeric columns come straight from pyarrow (no pandas conversion); others through
    ``pd.read_parquet(path, columns=[name])``, so they hold what pandas would read.
    """

    resident = False

    def __init__(self, path: Path, parquet_file):
        self._path, self._file = path, parquet_file
        schema = parquet_file.schema_arrow
        indexes = (schema.pandas_metadata or {}).get("index_columns", [])
        stored = {name for name in indexes if isinstance(name, str)}
        self._types = {field.name: field.type for field in schema if field.name not in stored}
        self.names = tuple(self._types)
        self.n_rows = parquet_file.metadata.num_rows

    def series(self, name):
        return pd.read_parquet(self._path, columns=[name], engine="pyarrow")[name]

    def is_numeric(self, name):
        import pyarrow as pa  # here: start-up time (pyarrow loads with a Parquet file)

        kind = self._types[name]
        return pa.types.is_integer(kind) or pa.types.is_floating(kind)

    def numbers(self, name):
        # One thread: on 2 busy cores pyarrow's decoding threads made reading the 100 columns
        # of 2,000,000 rows 2.4x slower (3.9 s against 1.6 s).
        column = self._file.read(columns=[name], use_threads=False,
                                 use_pandas_metadata=False).column(0)
        return column.to_numpy()  # one chunk without nulls: no copy; nulls become NaN

    def exactly_float32(self, name):
        import pyarrow as pa  # here: start-up time (pyarrow loads with a Parquet file)

        kind = self._types[name]
        if pa.types.is_floating(kind):
            return kind.bit_width <= 32
        if kind.bit_width <= 16:
            return True
        bounds = self.bounds(name)  # the file's statistics bound an integer column
        if bounds is not None:
            return -FLOAT32_INTEGERS <= bounds[0] and bounds[1] <= FLOAT32_INTEGERS
        return super().exactly_float32(name)

    def bounds(self, name):
        """From the file's statistics (NaNs are not in them: the caller still reads)."""
        metadata, column = self._file.metadata, self._file.schema_arrow.get_field_index(name)
        statistics = [metadata.row_group(g).column(column).statistics
                      for g in range(metadata.num_row_groups)]
        if not all(s is not None and s.has_min_max for s in statistics):
            return None
        return min(s.min for s in statistics), max(s.max for s in statistics)

    def frame(self):
        return read_table(self._path)


def table_columns(data, *, columns: list[str] | None = None, delimiter: str | None = None,
                  file_encoding: str | None = None) -> Columns:
    """``data`` (anything :func:`~degenet.data.tables.read_table` reads, or Columns) as
    :class:`Columns`; errors are ``read_table``'s."""
    if isinstance(data, Columns):
        return data
    if isinstance(data, (str, Path)) and columns is None:
        parquet = _parquet_file(Path(data))
        if parquet is not None:
            return ParquetColumns(Path(data), parquet)
    if (isinstance(data, np.ndarray) and data.ndim == 2 and data.dtype.names is None
            and _plain_numeric(data.dtype)):
        names = [f"x{j}" for j in range(data.shape[1])] if columns is None else list(columns)
        if len(names) == data.shape[1] and len(set(map(str, names))) == len(names):
            return ArrayColumns(data, names)
    return FrameColumns(read_table(data, columns=columns, delimiter=delimiter,
                                   file_encoding=file_encoding))


def _parquet_file(path: Path):
    """The opened Parquet file, or None when ``read_table`` should read it (not Parquet,
    missing, empty, unreadable, no rows, duplicate names: its errors say so)."""
    if path.suffix.lower() not in PARQUET_SUFFIXES or not path.is_file():
        return None
    if path.stat().st_size == 0:
        return None
    import pyarrow.parquet as pq  # here: start-up time (loaded with a Parquet file)

    try:
        parquet = pq.ParquetFile(path)
    except (OSError, ValueError):
        return None
    names = parquet.schema_arrow.names
    if parquet.metadata.num_rows == 0 or not names or len(set(names)) != len(names):
        return None
    return parquet
