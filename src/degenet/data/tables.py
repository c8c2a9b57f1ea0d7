"""Read the user's table: a CSV or Parquet file, a pandas or polars DataFrame, or an array.

Every reader returns a pandas DataFrame with string column names and never modifies the
caller's object. File problems (missing, empty, unreadable, undecodable) become a
:class:`~degenet.errors.DegenetError` that names the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from degenet.errors import DegenetError

logger = logging.getLogger(__name__)

CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".dat")
PARQUET_SUFFIXES = (".parquet", ".pq")
# Tried in order when no encoding is given: UTF-8 (with or without a byte-order mark), then
# Windows-1252, the usual encoding of spreadsheets saved on Western Windows, then Latin-1,
# which decodes every byte sequence.
FALLBACK_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024


def read_table(data, *, columns: list[str] | None = None, delimiter: str | None = None,
               file_encoding: str | None = None) -> pd.DataFrame:
    """Return ``data`` as a pandas DataFrame; never modifies the caller's object.

    Parameters
    ----------
    data : str, Path, pandas or polars DataFrame, pyarrow Table, or ndarray
        A ``.csv``/``.tsv``/``.txt`` or ``.parquet``/``.pq`` file, a DataFrame, a 2-D array
        ``(n_samples, n_columns)`` or a structured (record) array.
    columns : list of str, optional
        Names for the columns of a 2-D array (default ``x0, x1, ...``).
    delimiter : str, optional
        The CSV field separator; default detected from the file's first lines
        (one of ``, ; tab |``).
    file_encoding : str, optional
        The CSV text encoding (``utf-8``, ``latin-1``, ...); default: UTF-8, else
        Windows-1252, else Latin-1.

    Returns
    -------
    DataFrame, shape (n_samples, n_columns)
        With string column names.
    """
    if isinstance(data, (str, Path)):
        frame = _read_file(Path(data), delimiter=delimiter, file_encoding=file_encoding)
    elif isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, np.ndarray):
        frame = _from_array(data, columns)
    elif _is_polars(data) or _is_arrow(data):
        frame = _from_arrow_like(data)
    else:
        raise DegenetError(
            f"cannot read a table from {type(data).__name__}; pass a CSV or Parquet path, "
            "a pandas or polars DataFrame or a 2-D numpy array")
    if columns is not None and not isinstance(data, np.ndarray):
        raise DegenetError("columns=[...] names the columns of an array; this table has its own")
    return _string_columns(frame)


def _from_array(data: np.ndarray, columns) -> pd.DataFrame:
    if data.dtype.names is not None:  # a structured array names its own fields
        if data.ndim != 1:
            raise DegenetError(f"a structured array must be 1-D; received shape {data.shape}")
        return pd.DataFrame(data)
    if data.ndim != 2:
        raise DegenetError(
            f"an array table must be 2-D (n_samples, n_columns); received shape {data.shape}")
    names = [f"x{j}" for j in range(data.shape[1])] if columns is None else list(columns)
    if len(names) != data.shape[1]:
        raise DegenetError(
            f"columns= gives {len(names)} name(s) for an array with {data.shape[1]} columns")
    return pd.DataFrame(data, columns=names)


def _is_polars(data) -> bool:
    # Checked by module name so polars stays optional: it is imported by whoever made `data`.
    return type(data).__module__.split(".")[0] == "polars"


def _is_arrow(data) -> bool:
    return type(data).__module__.split(".")[0] == "pyarrow" and hasattr(data, "to_pandas")


def _from_arrow_like(data) -> pd.DataFrame:
    if _is_polars(data) and hasattr(data, "collect"):  # a LazyFrame: run its query first
        data = data.collect()
    if not hasattr(data, "to_pandas"):
        raise DegenetError(f"cannot read a table from {type(data).__name__}; pass a DataFrame")
    return data.to_pandas()


def _string_columns(frame: pd.DataFrame) -> pd.DataFrame:
    names = [str(name) for name in frame.columns]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise DegenetError(
            f"the table has duplicate column name(s): {', '.join(map(repr, duplicated))}; "
            "every column needs its own name")
    if list(frame.columns) == names:
        return frame
    return frame.rename(columns=dict(zip(frame.columns, names)))  # a new frame, not in place


def _read_file(path: Path, *, delimiter: str | None, file_encoding: str | None) -> pd.DataFrame:
    if not path.exists():
        raise DegenetError(f"file not found: {path}")
    if path.is_dir():
        raise DegenetError(f"{path} is a folder; pass a CSV or Parquet file")
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        frame = _read_parquet(path)
    elif suffix in CSV_SUFFIXES:
        frame = _read_csv(path, delimiter=delimiter, file_encoding=file_encoding)
    else:
        raise DegenetError(
            f"cannot read {path}: expected a .csv, .tsv, .txt or .parquet file; "
            f"received suffix {suffix!r}")
    if frame.shape[1] == 0:
        raise DegenetError(f"file {path} has no columns; it needs a header row and data rows")
    if len(frame) == 0:
        raise DegenetError(f"file {path} has a header but no data rows")
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise DegenetError(f"file {path} is empty; it needs a header row and data rows")
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise DegenetError(f"cannot read {path} as Parquet: {error}") from None


def _read_csv(path: Path, *, delimiter: str | None, file_encoding: str | None) -> pd.DataFrame:
    raw = path.read_bytes()[:SNIFF_BYTES]
    if not raw.strip():
        raise DegenetError(f"file {path} is empty; it needs a header row and data rows")
    file_encoding = file_encoding or _detect_encoding(path)
    try:
        codecs.lookup(file_encoding)
    except LookupError:
        raise DegenetError(
            f"unknown file_encoding={file_encoding!r}; use e.g. 'utf-8' or 'latin-1'") from None
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(
            raw.decode(file_encoding, errors="replace"))
    elif not isinstance(delimiter, str) or len(delimiter) != 1:
        raise DegenetError(f"delimiter must be one character; received delimiter={delimiter!r}")
    try:
        return pd.read_csv(path, sep=delimiter, encoding=file_encoding, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DegenetError(f"file {path} is empty; it needs a header row and data rows") from None
    except UnicodeDecodeError as error:
        raise DegenetError(
            f"cannot decode {path} as {file_encoding}: {error.reason} at byte {error.start}; "
            "pass the file's encoding, e.g. file_encoding='latin-1'") from None
    except pd.errors.ParserError as error:
        raise DegenetError(
            f"cannot read {path} as CSV with delimiter {delimiter!r}: {error}") from None


def read_csv_bytes(raw: bytes, *, name: str = "standard input", delimiter: str | None = None,
                   file_encoding: str | None = None) -> pd.DataFrame:
    """A CSV table from its bytes (``degenet fit -`` reads standard input whole: it cannot
    be read twice); errors name ``name``. Encoding and delimiter as :func:`read_table`."""
    if not raw.strip():
        raise DegenetError(f"{name} is empty; it needs a header row and data rows")
    if file_encoding is None:
        file_encoding = next(e for e in FALLBACK_ENCODINGS if _bytes_decode(raw, e))
    try:
        text = raw.decode(file_encoding)
    except LookupError:
        raise DegenetError(
            f"unknown file_encoding={file_encoding!r}; use e.g. 'utf-8' or 'latin-1'") from None
    except UnicodeDecodeError as error:
        raise DegenetError(f"cannot decode {name} as {file_encoding}: {error.reason} at byte "
                           f"{error.start}; pass its encoding, e.g. --encoding latin-1") from None
    if delimiter is None:
        delimiter = _sniff_delimiter(text[:SNIFF_BYTES])
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, skipinitialspace=True)
    except pd.errors.ParserError as error:
        raise DegenetError(
            f"cannot read {name} as CSV with delimiter {delimiter!r}: {error}") from None
    if len(frame) == 0:
        raise DegenetError(f"{name} has a header but no data rows")
    return _string_columns(frame)


def _bytes_decode(raw: bytes, file_encoding: str) -> bool:
    try:
        raw.decode(file_encoding)
    except UnicodeDecodeError:
        return False
    return True


def _detect_encoding(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """The first of :data:`FALLBACK_ENCODINGS` that decodes the whole file."""
    for candidate in FALLBACK_ENCODINGS:
        if _decodes(path, candidate, chunk_bytes):
            if candidate != FALLBACK_ENCODINGS[0]:
                logger.info("%s is not UTF-8; reading it as %s", path, candidate)
            return candidate
    return FALLBACK_ENCODINGS[-1]  # unreachable: Latin-1 decodes every byte


def _decodes(path: Path, file_encoding: str, chunk_bytes: int) -> bool:
    # Incremental, so a large file is never held in memory whole.
    decoder = codecs.getincrementaldecoder(file_encoding)()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(chunk_bytes):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _sniff_delimiter(text: str) -> str:
    """The separator of a CSV sample; a file with one column has none, so ``,``."""
    lines = text.splitlines()
    sample = "\n".join(lines[:-1] if len(lines) > 1 else lines)  # the last line may be cut
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","
