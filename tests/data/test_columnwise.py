"""The lean path: the same encoding and design as the general path, in the dtype the rule
gives, without copying columns that already lie side by side."""

import warnings

import numpy as np
import pandas as pd
import pytest

from degenet.data import columnwise, encoding as encoding_module
from degenet.data.columns import ArrayColumns
from degenet.data.encoding import encode
from degenet.errors import DataWarning


def mixed_table(n=200, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "a": rng.normal(size=n).astype(np.float32),
        "b": rng.normal(size=n),
        "count": rng.integers(0, 50, n),
        "city": rng.choice(["Oslo", "Bergen", "Tromsø"], n),
        "owner": rng.choice([True, False], n),
        "kind": pd.Categorical(rng.choice(["z", "y"], n), categories=["z", "y"]),
        "flat": np.full(n, 2.5),
        "y": rng.normal(size=n),
    })


def general_path(monkeypatch, *args, **kwargs):
    """``encode`` with the lean path switched off: the general path's answer."""
    with monkeypatch.context() as patch:
        patch.setattr(encoding_module, "encode_columns", lambda *a, **k: None)
        return encode(*args, **kwargs)


@pytest.mark.parametrize("coding", ["treatment", "effect", "sum"])
def test_the_lean_path_gives_the_general_paths_encoding_and_design(monkeypatch, coding):
    table = mixed_table()
    with warnings.catch_warnings(record=True) as lean_warnings:
        warnings.simplefilter("always")
        lean, X, y = encode(table, "y", coding=coding)
    with warnings.catch_warnings(record=True) as general_warnings:
        warnings.simplefilter("always")
        general, X_general, y_general = general_path(monkeypatch, table, "y", coding=coding)
    assert lean == general and lean.excluded == ("flat",)
    np.testing.assert_array_equal(X, X_general)  # the same values, whatever the dtype
    pd.testing.assert_series_equal(y, y_general)
    assert ([str(w.message) for w in lean_warnings]
            == [str(w.message) for w in general_warnings])
    np.testing.assert_array_equal(lean.transform(table), X_general)


def test_the_dtype_holds_every_value_exactly():
    table = mixed_table()
    assert encode(table, "y", features=["a", "count", "city"])[1].dtype == np.float32
    assert encode(table, "y", features=["a", "b"])[1].dtype == np.float64  # float64 in
    table["count"] = table["count"] + 2**24  # beyond float32's integers
    assert encode(table, "y", features=["a", "count"])[1].dtype == np.float64
    # Effect coding of three levels is in thirds, which float32 rounds.
    assert encode(table, "y", features=["a", "city"], coding="effect")[1].dtype == np.float64
    assert encode(table, "y", features=["a", "owner"], coding="effect")[1].dtype == np.float32


def test_columns_side_by_side_are_not_copied(tmp_path):
    table = pd.DataFrame(np.random.default_rng(1).normal(size=(300, 4)).astype(np.float32),
                         columns=["x0", "x1", "x2", "x3"])
    table["y"] = np.arange(300.0)
    _, X, _ = encode(table, "y")
    assert np.shares_memory(X, table["x0"].to_numpy()) and not X.flags.writeable
    np.testing.assert_array_equal(X, table[["x0", "x1", "x2", "x3"]].to_numpy())
    table.to_parquet(tmp_path / "t.parquet")
    from_file = pd.read_parquet(tmp_path / "t.parquet")
    _, X_file, _ = encode(from_file, "y")
    assert np.shares_memory(X_file, from_file["x0"].to_numpy())
    _, X_path, y_path = encode(tmp_path / "t.parquet", "y")  # read column by column
    np.testing.assert_array_equal(X_path, X)
    np.testing.assert_array_equal(y_path, table.y)
    array = table.to_numpy(dtype=np.float32)
    _, X_array, _ = encode(ArrayColumns(array[:, :4], ["x0", "x1", "x2", "x3"],
                                        {"y": array[:, 4]}), "y")
    assert np.shares_memory(X_array, array)


@pytest.mark.filterwarnings("ignore:column.s. 'flat' constant")
def test_a_table_with_a_gap_takes_the_general_path(monkeypatch):
    table = mixed_table()
    table.loc[3, "b"] = np.nan
    calls = []
    original = columnwise.encode_columns

    def spy(*args, **kwargs):
        calls.append(result := original(*args, **kwargs))
        return result

    monkeypatch.setattr(encoding_module, "encode_columns", spy)
    with pytest.warns(DataWarning, match="dropped 1 of 200 rows"):
        encoding, X, _ = encode(table, "y", missing="drop")
    assert calls == [None] and X.shape[0] == 199 and encoding.dropped_rows == 1


@pytest.mark.filterwarnings("ignore:column.s. 'flat' constant")
def test_predict_time_problems_are_the_general_paths(monkeypatch):
    table = mixed_table()
    encoding, _, _ = encode(table, "y")
    new = table.iloc[:5].copy()
    new.loc[new.index[2], "city"] = "Paris"
    with pytest.raises(Exception) as lean_error:
        encoding.transform(new)
    monkeypatch.setattr(encoding_module, "transform_columns", lambda *a, **k: None)
    with pytest.raises(Exception) as general_error:
        encoding.transform(new)
    assert str(lean_error.value) == str(general_error.value)
    assert "'Paris'" in str(lean_error.value)


@pytest.mark.filterwarnings("ignore:column.s. 'flat' constant")
def test_a_parquet_file_gives_the_tables_design(tmp_path):
    table = mixed_table().drop(columns="b")  # float32, small integers, categories
    table.to_parquet(tmp_path / "t.parquet")
    from_file, X_file, _ = encode(tmp_path / "t.parquet", "y")
    in_memory, X, _ = encode(table, "y")
    assert from_file == in_memory and X_file.dtype == np.float32  # int64 bound by statistics
    np.testing.assert_array_equal(X_file, X)
    table["count"] = table["count"] * 2**20  # beyond float32's integers
    table.to_parquet(tmp_path / "big.parquet")
    assert encode(tmp_path / "big.parquet", "y")[1].dtype == np.float64


@pytest.mark.filterwarnings("ignore:column.s. 'flat' constant")
@pytest.mark.parametrize("kind", ["side by side", "mixed", "parquet"])
def test_the_magnitudes_are_checked_from_the_extremes_the_lean_path_read(
        tmp_path, monkeypatch, kind):
    """The design's columns are checked for their magnitudes as they are built, from the
    minima and maxima the lean path read anyway (numbers) or knows (a contrast matrix's
    values): no second pass over the design, and the same refusals."""
    from degenet import DegenetError
    from degenet.data import magnitudes

    table = mixed_table() if kind != "side by side" else pd.DataFrame(
        np.random.default_rng(2).normal(size=(200, 3)), columns=["x0", "x1", "y"])
    data = table
    if kind == "parquet":
        data = tmp_path / "t.parquet"
        table.to_parquet(data)
    checked, passes = [], []
    check, minimum = magnitudes.check_design, np.min
    monkeypatch.setattr(encoding_module, "check_design",
                        lambda X, terms, extremes=None: (checked.append((X, extremes)),
                                                         check(X, terms, extremes))[1])
    monkeypatch.setattr(magnitudes.np, "min", lambda *a, **k: (passes.append(1),
                                                               minimum(*a, **k))[1])
    _, X, _ = encode(data, "y")
    (design, (low, high)), = checked
    assert design is X and not passes  # no pass of its own over the design
    np.testing.assert_array_equal(low, X.min(axis=0))
    np.testing.assert_array_equal(high, X.max(axis=0))
    huge = table.assign(x1=np.full(len(table), 3e35) * np.linspace(1, 2, len(table)))
    if kind == "parquet":
        huge.to_parquet(data)
    with pytest.raises(DegenetError, match="column 'x1' holds values up to 6e\\+35"):
        encode(data if kind == "parquet" else huge, "y")
