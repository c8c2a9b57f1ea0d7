"""What one pass over a streamed table learns, record batch by record batch, mergeable.

:func:`tally_batch` reads one record batch of the columns a fit uses and counts, per
column: missing values (nulls and NaN, as pandas counts them), infinite numbers (with the
first one's position), and over the rows kept (complete rows, under ``missing='drop'``):
each number column's extremes and, over the training rows, its count, mean and sum of
squared deviations (two-pass within the batch, in float64); each categorical column's
levels, with their counts. The target's distinct values are kept too, up to
:data:`MAX_TARGET_VALUES` (a continuous target keeps its extremes instead).

:meth:`Tally.merge` adds tallies of other batches, threads or processes. Moments merge by
the pairwise update of Chan, Golub & LeVeque (1979), which never subtracts two large
sums, so a column of mean 1e6 and spread 1 keeps all its digits. Tallies are plain JSON
(:meth:`Tally.to_json`), so the processes of a run gather theirs and merge them in rank
order: every process ends with the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from degenet.data.schema import NUMERIC

MAX_TARGET_VALUES = 1000  # a number target with more distinct values keeps its extremes


def merge_moments(first: list, second: list) -> list:
    """``[count, mean, m2]`` of two sets of rows together (Chan, Golub & LeVeque 1979)."""
    (count_a, mean_a, m2_a), (count_b, mean_b, m2_b) = first, second
    if count_a == 0 or count_b == 0:
        return list(second if count_a == 0 else first)
    total = count_a + count_b
    delta = mean_b - mean_a
    return [total, mean_a + delta * (count_b / total),
            m2_a + m2_b + delta * delta * (count_a * count_b / total)]


def moments_of(x: np.ndarray) -> list:
    """``[count, mean, m2]`` of ``x`` in float64 (einsum: multi-threaded BLAS ``ddot`` on
    50k values took 10 ms here beside pyarrow's threads, einsum 0.04 ms)."""
    if len(x) == 0:
        return [0, 0.0, 0.0]
    mean = float(x.sum(dtype=np.float64)) / len(x)
    deviations = x.astype(np.float64) - mean
    return [len(x), mean, float(np.einsum("i,i->", deviations, deviations))]


def _add(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        out[key] = out.get(key, 0) + value
    return out


def _merge_levels(a: dict, b: dict) -> dict:
    """Level counts ``{level: [kept, train, first seen]}`` of two tallies together."""
    out = {level: list(counts) for level, counts in a.items()}
    for level, (kept, train, seen) in b.items():
        if level in out:
            old = out[level]
            out[level] = [old[0] + kept, old[1] + train, min(old[2], seen)]
        else:
            out[level] = [kept, train, seen]
    return out


@dataclass(frozen=True)
class Tally:
    """What a pass learned; :meth:`merge` is associative (up to rounding in the moments).

    Attributes
    ----------
    rows, incomplete, train, val : int
        Rows read, rows with a missing value in a used column, and the training and
        validation rows kept.
    groups : dict
        Row group start -> ``[training rows, validation rows]`` kept.
    missing : dict
        Column -> missing values (every row).
    infinite : dict
        Number column -> ``[count, first position]`` of infinite values in the rows kept.
    moments : dict
        Number column -> ``[count, mean, m2]`` over the training rows kept.
    extremes : dict
        Number column -> ``[min, max]`` over the rows kept.
    levels : dict
        Categorical column (or the target) -> ``{level: [kept, train, first seen]}``;
        "first seen" orders a dictionary column's levels as pandas would read them.
    values : list or None
        None when a number target has more than :data:`MAX_TARGET_VALUES` distinct values
        (then ``levels`` leaves it out); else empty.
    number_targets : frozenset
        The number target's name (its levels are counted while they are few).
    """

    rows: int = 0
    incomplete: int = 0
    train: int = 0
    val: int = 0
    groups: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)
    infinite: dict = field(default_factory=dict)
    moments: dict = field(default_factory=dict)
    extremes: dict = field(default_factory=dict)
    levels: dict = field(default_factory=dict)
    values: list | None = field(default_factory=list)
    number_targets: frozenset = frozenset()

    def merge(self, other: "Tally") -> "Tally":
        levels = {name: _merge_levels(self.levels.get(name, {}), other.levels.get(name, {}))
                  for name in {**self.levels, **other.levels}}
        values = [] if self.values is not None and other.values is not None else None
        if values is None or any(len(found) > MAX_TARGET_VALUES and name in self.number_targets
                                 for name, found in levels.items()):
            values = None
            levels = {name: found for name, found in levels.items()
                      if name not in self.number_targets | other.number_targets}
        return Tally(
            rows=self.rows + other.rows, incomplete=self.incomplete + other.incomplete,
            train=self.train + other.train, val=self.val + other.val,
            groups={**self.groups, **{k: [a + b for a, b in zip(self.groups.get(k, [0, 0]), v)]
                                      for k, v in other.groups.items()}},
            missing=_add(self.missing, other.missing),
            infinite={name: _first_infinite(self.infinite.get(name), other.infinite.get(name))
                      for name in {**self.infinite, **other.infinite}},
            moments={name: merge_moments(self.moments.get(name, [0, 0.0, 0.0]),
                                         other.moments.get(name, [0, 0.0, 0.0]))
                     for name in {**self.moments, **other.moments}},
            extremes={name: _wider(self.extremes.get(name), other.extremes.get(name))
                      for name in {**self.extremes, **other.extremes}},
            levels=levels, values=values,
            number_targets=self.number_targets | other.number_targets)

    def to_json(self) -> dict:
        """Plain JSON (levels as ``[level, kept, train, first seen]`` lists)."""
        return {"rows": self.rows, "incomplete": self.incomplete, "train": self.train,
                "val": self.val, "groups": [[k, *v] for k, v in self.groups.items()],
                "missing": self.missing, "infinite": self.infinite, "moments": self.moments,
                "extremes": self.extremes,
                "levels": {name: [[level, *counts] for level, counts in found.items()]
                           for name, found in self.levels.items()},
                "values": self.values, "number_targets": sorted(self.number_targets)}

    @classmethod
    def from_json(cls, data: dict) -> "Tally":
        return cls(rows=data["rows"], incomplete=data["incomplete"], train=data["train"],
                   val=data["val"], groups={k: [a, b] for k, a, b in data["groups"]},
                   missing=data["missing"], infinite=data["infinite"],
                   moments=data["moments"], extremes=data["extremes"],
                   levels={name: {entry[0]: list(entry[1:]) for entry in found}
                           for name, found in data["levels"].items()},
                   values=data["values"],
                   number_targets=frozenset(data.get("number_targets", ())))


def _first_infinite(a, b):
    if a is None or b is None:
        return a if b is None else b
    return [a[0] + b[0], min(a[1], b[1])]


def _wider(a, b):
    if a is None or b is None:
        return a if b is None else b
    return [min(a[0], b[0]), max(a[1], b[1])]


def numbers(column) -> np.ndarray:
    """A number column of a record batch as a float numpy array, nulls as NaN (no copy
    where Arrow allows: one chunk without nulls)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_decimal(column.type):
        column = pc.cast(column, pa.float64())
    values = column.to_numpy(zero_copy_only=False)
    return values if values.dtype.kind == "f" else values.astype(np.float64)


def complete_rows(columns: dict, kinds: dict) -> np.ndarray | None:
    """Rows with no missing value in ``columns`` (name -> Arrow array); None: all of them."""
    complete = None
    for name, column in columns.items():
        if kinds[name] == NUMERIC:
            bad = np.isnan(numbers(column))
        elif column.null_count:
            bad = column.is_null().to_numpy(zero_copy_only=False)
        else:
            continue
        if bad.any():
            complete = ~bad if complete is None else complete & ~bad
    return complete


def tally_batch(columns: dict, kinds: dict, target: str, *, train: np.ndarray,
                kept: np.ndarray, positions: np.ndarray, group_start: int,
                incomplete: int = 0) -> Tally:
    """The tally of one record batch of the row group starting at ``group_start``.

    ``columns`` maps each used column (the target included) to its Arrow array, ``kinds``
    to ``numeric`` or ``categorical``; ``train`` and ``kept`` are ``(n,)`` masks of the
    training rows and of the rows kept; ``positions`` the rows' positions; ``incomplete``
    the rows with a missing value.
    """
    missing, infinite, moments, extremes, levels = {}, {}, {}, {}, {}
    train_kept = train & kept
    for name, column in columns.items():
        if kinds[name] != NUMERIC:
            missing[name] = column.null_count
            levels[name] = _level_counts(column, kept, train_kept, positions)
            continue
        x = numbers(column)
        finite = np.isfinite(x)
        missing[name] = int(np.isnan(x).sum())
        bad = kept & ~finite & ~np.isnan(x)
        if bad.any():
            infinite[name] = [int(bad.sum()), int(positions[bad.argmax()])]
        usable = x[kept & finite]
        if len(usable):
            extremes[name] = [float(usable.min()), float(usable.max())]
        moments[name] = moments_of(x[train_kept & finite])
    values = None
    if kinds[target] == NUMERIC:  # a number target's distinct values, while they are few
        y = numbers(columns[target])
        finite = np.isfinite(y)
        found = {}
        for mask, slot in ((kept & finite, 0), (train_kept & finite, 1)):
            for value, count in zip(*np.unique(y[mask], return_counts=True)):
                found.setdefault(float(value), [0, 0, 0])[slot] = int(count)
        values = [] if len(found) <= MAX_TARGET_VALUES else None
        if values is not None:
            levels[target] = found
    n_train, n_val = int(train_kept.sum()), int((kept & ~train).sum())
    return Tally(rows=len(kept), incomplete=incomplete, train=n_train, val=n_val,
                 groups={group_start: [n_train, n_val]}, missing=missing, infinite=infinite,
                 moments=moments, extremes=extremes, levels=levels,
                 values=[] if kinds[target] != NUMERIC else values,
                 number_targets=frozenset([target] if kinds[target] == NUMERIC else []))


def _level_counts(column, kept: np.ndarray, train: np.ndarray, positions: np.ndarray) -> dict:
    """``{level: [kept, train, first seen]}`` of a categorical column's batch."""
    import pyarrow as pa
    import pyarrow.compute as pc

    order = {}
    if pa.types.is_dictionary(column.type):
        order = {value: i for i, value in enumerate(column.dictionary.to_pylist())}
        column = column.dictionary_decode()
    out = {}
    for mask, slot in ((kept, 0), (train, 1)):
        counted = pc.value_counts(column.filter(pa.array(mask)).drop_null())
        for value, count in zip(counted.field("values").to_pylist(),
                                counted.field("counts").to_pylist()):
            entry = out.setdefault(value, [0, 0, 0])
            entry[slot] = int(count)
    first = int(positions[0]) if len(positions) else 0
    for value, entry in out.items():  # position of the batch, then place in its dictionary
        entry[2] = (first << 32) + order.get(value, 0)
    return out
