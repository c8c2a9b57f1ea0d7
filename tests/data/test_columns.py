"""The table column by column: a Parquet file is read a column at a time, as pandas would
read it; arrays and frames give their own columns."""

import numpy as np
import pandas as pd
import pytest

from degenet.data.columns import (ArrayColumns, FrameColumns, ParquetColumns,
                                  table_columns)
from degenet.errors import DegenetError


@pytest.fixture
def parquet(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=30).astype(np.float32),
                          "n": rng.integers(0, 9, 30), "s": rng.choice(["u", "v"], 30),
                          "c": pd.Categorical(rng.choice(["p", "q"], 30))},
                         index=pd.Index([f"r{i}" for i in range(30)], name="key"))
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    return path, frame


def test_a_parquet_file_is_read_a_column_at_a_time(parquet, monkeypatch):
    path, frame = parquet
    source = table_columns(path)
    assert isinstance(source, ParquetColumns)
    assert source.names == ("x", "n", "s", "c") and source.n_rows == 30  # no index column
    asked = []
    read = source._file.read
    monkeypatch.setattr(source._file, "read", lambda columns, **k: asked.append(columns)
                        or read(columns=columns, **k))
    np.testing.assert_array_equal(source.numbers("x"), frame["x"].to_numpy())
    assert asked == [["x"]] and source.is_numeric("n") and not source.is_numeric("s")
    everything = pd.read_parquet(path)
    for name in ("s", "c"):
        pd.testing.assert_series_equal(source.series(name), everything[name])
    pd.testing.assert_frame_equal(source.frame(), everything)


def test_what_parquet_cannot_give_gets_read_tables_errors(tmp_path):
    empty = tmp_path / "e.parquet"
    pd.DataFrame({"x": np.zeros(0)}).to_parquet(empty)
    with pytest.raises(DegenetError, match="no data rows"):
        table_columns(empty)
    with pytest.raises(DegenetError, match="file not found"):
        table_columns(tmp_path / "absent.parquet")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DegenetError, match="cannot read .* as Parquet"):
        table_columns(tmp_path / "bad.parquet")


def test_arrays_give_views_of_their_columns():
    array = np.arange(12.0).reshape(4, 3)
    source = table_columns(array, columns=["a", "b", "c"])
    assert isinstance(source, ArrayColumns) and source.names == ("a", "b", "c")
    assert np.shares_memory(source.numbers("b"), array)
    pd.testing.assert_frame_equal(source.frame(), pd.DataFrame(array, columns=["a", "b", "c"]))
    assert isinstance(table_columns(array.astype(object)), FrameColumns)
