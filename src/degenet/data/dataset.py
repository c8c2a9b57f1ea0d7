"""A Parquet dataset as a list of row groups: the files, row positions, the split, the shares.

A dataset is one file, a folder (every ``*.parquet`` / ``*.pq`` below it, leaving out
names that start with ``_`` or ``.``, such as Spark's ``_SUCCESS`` and ``_metadata``) or a
glob. Only the files' footers are read here.

**A row's position.** Files are sorted by absolute path (as strings, so the order is the
same on every machine that sees the same names); row groups keep their order in the file,
rows their order in the row group. A row's position is the number of rows before it in that
order: it depends on the files' names and contents, not on the order the file system lists
them in, the number of processes, or which process reads the row.

**The validation rows** are those whose position, hashed with the seed, falls below the
validation share (:func:`validation_mask`): a pure function of (position, seed), so every
process, epoch and pass agrees on it without reading anything.

**Shares.** :func:`balanced_shares` deals the row groups out to shares of nearly equal rows
(largest first to the emptiest share, Graham's LPT rule: within 4/3 of the best balance,
within one row group of it in practice).
"""

from __future__ import annotations

import glob
import heapq
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from degenet.data.tables import PARQUET_SUFFIXES
from degenet.errors import DegenetError
from degenet.randomness import derive

MEMORY_SHARE = 0.25  # of the machine's memory: the default budget of an in-memory fit
IN_MEMORY_FACTOR = 3  # an in-memory fit held ~3x the columns' bytes (table, design, copy)


@dataclass(frozen=True)
class RowGroup:
    """One row group: its file, index in the file, rows, and its first row's position."""

    path: str
    index: int
    n_rows: int
    start: int


@dataclass(frozen=True)
class Dataset:
    """The files of a Parquet dataset, their row groups in position order, and the schema.

    Attributes
    ----------
    source : str
        As the user named it.
    files : tuple of str
    row_groups : tuple of RowGroup
    schema : pyarrow.Schema
        Without the pandas index columns a DataFrame may have stored.
    column_bytes : dict
        Uncompressed bytes of each column over every file.
    """

    source: str
    files: tuple
    row_groups: tuple
    schema: object
    column_bytes: dict

    @property
    def n_rows(self) -> int:
        return sum(group.n_rows for group in self.row_groups)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.schema.names)

    def bytes_of(self, columns) -> int:
        """Uncompressed bytes of ``columns`` in every file."""
        return sum(self.column_bytes.get(name, 0) for name in columns)


def is_dataset(data) -> bool:
    """Whether ``data`` names a Parquet dataset: a .parquet/.pq file, a folder, or a glob."""
    if not isinstance(data, (str, os.PathLike)):
        return False
    text = os.fspath(data)
    if glob.has_magic(text):
        return True
    return os.path.isdir(text) or Path(text).suffix.lower() in PARQUET_SUFFIXES


def list_files(source) -> list[str]:
    """The Parquet files of ``source`` (a file, a folder or a glob), sorted by absolute path."""
    text = os.fspath(source)
    if glob.has_magic(text):
        paths = [p for p in glob.glob(text, recursive=True) if os.path.isfile(p)]
    elif os.path.isdir(text):
        paths = [str(p) for p in Path(text).rglob("*")
                 if p.is_file() and p.suffix.lower() in PARQUET_SUFFIXES
                 and not any(part.startswith(("_", ".")) for part in p.relative_to(text).parts)]
    elif os.path.isfile(text):
        paths = [text]
    else:
        raise DegenetError(f"no such file, folder or glob: {text!r}")
    if not paths:
        raise DegenetError(f"{text!r} holds no Parquet files (*.parquet, *.pq)")
    return sorted(os.path.abspath(p) for p in paths)


def open_dataset(source, *, threads: int = 8) -> Dataset:
    """The row groups of every file of ``source``, from the footers, in position order.

    Every file must have the columns and types of the first; errors name the file.
    """
    files = list_files(source)
    with ThreadPoolExecutor(min(threads, len(files))) as pool:
        footers = list(pool.map(_footer, files))
    schema = footers[0][0]
    groups, start, column_bytes = [], 0, {}
    for path, (file_schema, counts, sizes) in zip(files, footers):
        if not file_schema.equals(schema):
            raise DegenetError(
                f"{path} has columns ({_describe(file_schema)}) but {files[0]} has "
                f"({_describe(schema)}); every file of a dataset needs the same columns")
        for index, n_rows in enumerate(counts):
            groups.append(RowGroup(path, index, n_rows, start))
            start += n_rows
        for name, size in sizes.items():
            column_bytes[name] = column_bytes.get(name, 0) + size
    if start == 0:
        raise DegenetError(f"{os.fspath(source)!r} has no rows")
    return Dataset(source=os.fspath(source), files=tuple(files), row_groups=tuple(groups),
                   schema=schema, column_bytes=column_bytes)


def _footer(path: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_metadata(path)
    except (OSError, pa.ArrowException) as error:
        raise DegenetError(f"cannot read {path} as Parquet: {error}") from None
    schema = metadata.schema.to_arrow_schema()
    index = (schema.pandas_metadata or {}).get("index_columns", [])
    stored = [name for name in index if isinstance(name, str)]
    schema = schema.remove_metadata()
    for name in stored:  # a DataFrame's saved index is not a column of the table
        schema = schema.remove(schema.get_field_index(name))
    counts, sizes = [], {}
    for i in range(metadata.num_row_groups):
        group = metadata.row_group(i)
        counts.append(group.num_rows)
        for j in range(group.num_columns):
            column = group.column(j)
            name = column.path_in_schema
            sizes[name] = sizes.get(name, 0) + column.total_uncompressed_size
    return schema, counts, sizes


def _describe(schema) -> str:
    return ", ".join(f"{field.name}: {field.type}" for field in schema)


def memory_budget() -> int:
    """The default budget of an in-memory fit: :data:`MEMORY_SHARE` of the machine's memory."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not POSIX: assume 16 GiB
        total = 16 << 30
    return int(MEMORY_SHARE * total)


def needs_streaming(dataset: Dataset, columns, budget: int | None = None) -> bool:
    """Whether fitting ``columns`` of ``dataset`` in memory would exceed ``budget`` bytes."""
    budget = memory_budget() if budget is None else budget
    return IN_MEMORY_FACTOR * dataset.bytes_of(columns) > budget


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (Steele, Lea & Flood 2014): a bijection of uint64."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def validation_mask(positions: np.ndarray, *, seed: int, share: float) -> np.ndarray:
    """Which rows are validation rows, from their positions: ``(n,)`` bool.

    ``u = splitmix64(position + splitmix64(key)) / 2^64``, with ``key`` the seed's split
    seed (:func:`degenet.randomness.derive`), is uniform on [0, 1); a row is held out when
    ``u < share``. The share held out is binomial around ``share`` (20M rows at 0.2:
    0.2 +- 0.0001).
    """
    key = _splitmix64(np.array([derive(seed, "split")], dtype=np.uint64))[0]
    with np.errstate(over="ignore"):
        hashed = _splitmix64(np.asarray(positions, dtype=np.uint64) + key)
    return (hashed >> np.uint64(11)).astype(np.float64) * 2.0**-53 < share


def balanced_shares(groups: tuple, n_shares: int) -> tuple[tuple[RowGroup, ...], ...]:
    """Deal ``groups`` into ``n_shares`` shares of nearly equal rows, deterministically.

    Largest first, each to the share with the fewest rows so far (ties: the lowest share);
    each share keeps its row groups in position order.
    """
    order = sorted(range(len(groups)), key=lambda i: (-groups[i].n_rows, i))
    heap = [(0, share) for share in range(n_shares)]
    members: list[list[int]] = [[] for _ in range(n_shares)]
    for i in order:
        rows, share = heapq.heappop(heap)
        members[share].append(i)
        heapq.heappush(heap, (rows + groups[i].n_rows, share))
    return tuple(tuple(groups[i] for i in sorted(m)) for m in members)


def process_shards(n_shards: int, rank: int, world: int) -> tuple[int, ...]:
    """The shards process ``rank`` of ``world`` reads: ``rank, rank + world, ...``.

    The shards, not the processes, define gradient descent's batches
    (:mod:`degenet.train.stream`): a run on ``world`` processes takes the steps of a run on
    one with the same number of shards.
    """
    if n_shards % world:
        raise DegenetError(f"shards={n_shards} must be a multiple of the number of processes "
                           f"({world})")
    return tuple(range(rank, n_shards, world))


@dataclass(frozen=True)
class HashedRows:
    """One part of a streamed table's split: how many rows, and the rule that chose them
    (:func:`validation_mask` with ``seed`` and ``share``); ``len()`` is the count."""

    count: int
    seed: int
    share: float
    validation: bool

    def __len__(self) -> int:
        return self.count


def fingerprint(dataset: Dataset) -> str:
    """sha256 of the dataset's files in position order: each one's size and footer (its
    schema, row groups, and every column chunk's offsets, sizes and statistics)."""
    import hashlib

    digest = hashlib.sha256()
    for path in dataset.files:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            file.seek(max(size - 8, 0))
            tail = file.read(8)
            length = int.from_bytes(tail[:4], "little") if len(tail) == 8 else 0
            file.seek(max(size - 8 - length, 0))
            digest.update(str(size).encode())
            digest.update(file.read(length + 8))
    return digest.hexdigest()


def read_whole(dataset: Dataset, columns: list[str] | None = None):
    """The dataset as one DataFrame, rows in position order (files, row groups, rows)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(path, columns=columns) for path in dataset.files]
    return pa.concat_tables(tables).to_pandas()
