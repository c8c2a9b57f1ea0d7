"""Names that cannot collide (issue 12): a CSV header x1,x1,y was read as x1, x1.1 without a
word; a column 'intercept', or 'g[b]' beside a text column 'g', gave two coefficient rows
of one name, and `fit --json` kept one of them."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import degenet
from degenet import DegenetError


@pytest.fixture
def table():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x1": rng.normal(size=60), "x2": rng.normal(size=60),
                          "g": rng.choice(["a", "b", "c"], size=60)})
    frame["y"] = frame.x1 - frame.x2 + rng.normal(size=60)
    return frame


def test_a_csv_with_a_repeated_header_name_is_refused(tmp_path, table):
    path = tmp_path / "dup.csv"
    path.write_text("x1,x1,y\n" + "\n".join(f"{a},{b},{c}" for a, b, c in
                                            table[["x1", "x2", "y"]].to_numpy()) + "\n")
    with pytest.raises(DegenetError, match="duplicate column name.*'x1'"):
        degenet.read_table(path)
    with pytest.raises(DegenetError, match="'x1'"):
        degenet.fit(path, "y", solver="exact")


def test_a_quoted_header_is_read_as_written(tmp_path, table):
    path = tmp_path / "quoted.csv"
    table[["x1", "y"]].rename(columns={"x1": "a,b"}).to_csv(path, index=False)
    assert list(degenet.read_table(path).columns) == ["a,b", "y"]


def test_a_parquet_file_with_a_repeated_name_is_one_line(tmp_path, table):
    path = tmp_path / "dup.parquet"
    pq.write_table(pa.table([pa.array(table.x1), pa.array(table.x2), pa.array(table.y)],
                            names=["x1", "x1", "y"]), path)
    with pytest.raises(DegenetError, match="duplicate column name.*'x1'") as raised:
        degenet.read_table(path)
    assert "\n" not in str(raised.value)


def test_a_column_named_intercept_is_refused(table):
    with pytest.raises(DegenetError, match="term 'intercept'.*rename the column"):
        degenet.fit(table.assign(intercept=table.x1 * 2), "y", solver="exact")


def test_a_column_named_like_a_level_term_is_refused(table):
    frame = table.assign(**{"g[b]": np.random.default_rng(2).normal(size=len(table))})
    with pytest.raises(DegenetError, match=r"term 'g\[b\]' would name two coefficients; "
                                           r"columns 'g', 'g\[b\]' both make it"):
        degenet.fit(frame, "y", solver="exact")


def test_distinct_names_still_fit(table):
    fitted = degenet.fit(table.assign(**{"g_b": table.x1 ** 2}), "y", solver="exact")
    assert list(fitted.coefficients.index) == ["x1", "x2", "g[b]", "g[c]", "g_b", "intercept"]
