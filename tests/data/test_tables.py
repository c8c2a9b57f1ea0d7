"""Reading tables: every input kind gives the same frame; file problems get clear errors."""

import numpy as np
import pandas as pd
import pytest

from degenet.errors import DegenetError
from degenet.data.tables import read_table

FRAME = pd.DataFrame({
    "age": [31.5, 42.0, 25.25, 58.0],
    "city": ["Zürich", "Köln", "Malmö", "Zürich"],
    "single": [True, False, True, False],
    "children": [0, 2, 1, 3],
})


def assert_same(frame: pd.DataFrame, expected: pd.DataFrame = FRAME):
    assert list(frame.columns) == list(expected.columns)
    for name in expected.columns:
        assert frame[name].tolist() == expected[name].tolist(), name


def test_csv_with_semicolons_and_latin1_is_detected(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(FRAME.to_csv(sep=";", index=False).encode("latin-1"))
    assert_same(read_table(path))
    assert_same(read_table(str(path)))


@pytest.mark.parametrize("sep", [",", "\t", "|"])
def test_csv_delimiters_are_detected(tmp_path, sep):
    path = tmp_path / "people.csv"
    path.write_text(FRAME.to_csv(sep=sep, index=False), encoding="utf-8")
    assert_same(read_table(path))


def test_csv_reader_options_are_used(tmp_path):
    path = tmp_path / "people.txt"
    path.write_bytes(FRAME.to_csv(sep=";", index=False).encode("latin-1"))
    assert_same(read_table(path, delimiter=";", file_encoding="latin-1"))
    with pytest.raises(DegenetError, match="cannot decode .* as utf-8"):
        read_table(path, file_encoding="utf-8")
    with pytest.raises(DegenetError, match="delimiter must be one character; received"):
        read_table(path, delimiter=";;")
    with pytest.raises(DegenetError, match="unknown file_encoding='klingon'"):
        read_table(path, file_encoding="klingon")


def test_utf8_with_byte_order_mark(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(FRAME.to_csv(index=False).encode("utf-8-sig"))
    assert_same(read_table(path))


def test_parquet(tmp_path):
    path = tmp_path / "people.parquet"
    FRAME.to_parquet(path)
    assert_same(read_table(path))


def test_pandas_frame_is_not_copied_or_changed():
    frame = FRAME.copy()
    assert read_table(frame) is frame
    renamed = read_table(pd.DataFrame({0: [1.0], 1: [2.0]}))
    assert list(renamed.columns) == ["0", "1"]


def test_polars_frame():
    pl = pytest.importorskip("polars")
    assert_same(read_table(pl.from_pandas(FRAME)))
    assert_same(read_table(pl.from_pandas(FRAME).lazy()))


def test_numpy_arrays_with_and_without_names():
    X = np.arange(6.0).reshape(3, 2)
    assert list(read_table(X).columns) == ["x0", "x1"]
    named = read_table(X, columns=["a", "b"])
    assert named["b"].tolist() == [1.0, 3.0, 5.0]
    record = np.array([(1.0, "a"), (2.0, "b")], dtype=[("size", "f8"), ("kind", "U1")])
    assert read_table(record)["kind"].tolist() == ["a", "b"]
    with pytest.raises(DegenetError, match="columns= gives 3 name"):
        read_table(X, columns=["a", "b", "c"])
    with pytest.raises(DegenetError, match=r"must be 2-D .* received shape \(6,\)"):
        read_table(np.arange(6.0))


def test_file_errors(tmp_path):
    with pytest.raises(DegenetError, match="file not found: .*nope.csv"):
        read_table(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DegenetError, match="empty.csv is empty"):
        read_table(empty)
    header = tmp_path / "header.csv"
    header.write_text("a,b,c\n")
    with pytest.raises(DegenetError, match="header.csv has a header but no data rows"):
        read_table(header)
    odd = tmp_path / "table.xlsx"
    odd.write_text("x")
    with pytest.raises(DegenetError, match="received suffix '.xlsx'"):
        read_table(odd)
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(DegenetError, match="cannot read .*bad.parquet as Parquet"):
        read_table(bad)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(DegenetError, match="cannot read .*ragged.csv as CSV"):
        read_table(ragged)
    with pytest.raises(DegenetError, match="cannot read a table from dict"):
        read_table({"a": [1]})


def test_duplicate_columns_are_refused():
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DegenetError, match="duplicate column name.*'a'"):
        read_table(frame)
