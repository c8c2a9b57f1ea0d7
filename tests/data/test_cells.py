"""Cells and messages (issue 12): a column of dicts or lists was a TypeError traceback; a
formula naming a column with a space in backticks failed in formulaic's parser; messages
printed numpy's reprs (row np.int64(5), np.True_)."""

import re

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet import DegenetError


@pytest.fixture
def table():
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"x1": rng.normal(size=80), "x2": rng.normal(size=80),
                          "g": rng.choice(["a", "b"], size=80)})
    frame["y"] = frame.x1 + rng.normal(size=80)
    return frame


@pytest.mark.parametrize("cell, kind", [({"a": 1}, "dict"), ([1, 2], "list"), ({1, 2}, "set")])
def test_unhashable_cells_name_the_column(table, cell, kind):
    frame = table.assign(x1=[cell] * len(table))
    with pytest.raises(DegenetError, match=f"column 'x1' holds {kind} values"):
        degenet.fit(frame, "y", solver="exact")


def test_a_backticked_name_with_a_space_fits(table):
    frame = table.rename(columns={"x1": "my col"})
    fitted = degenet.fit(frame, formula="y ~ `my col` + x2", solver="exact")
    assert list(fitted.coefficients.index) == ["my col", "x2", "intercept"]
    np.testing.assert_allclose(fitted.predict(frame), degenet.fit(
        table, "y", features=["x1", "x2"], solver="exact").predict(table), rtol=1e-10)


def test_a_backticked_name_inside_a_function_is_checked(table):
    frame = table.rename(columns={"x1": "my col"}).assign(**{"my col": lambda f: f["my col"] + 5})
    fitted = degenet.fit(frame, formula="y ~ np.log(`my col`) + x2", solver="exact")
    assert fitted.coefficients.shape[0] == 3
    with pytest.raises(DegenetError, match="uses 'no col'"):
        degenet.fit(frame, formula="y ~ np.log(`no col`) + x2", solver="exact")


NUMPY_REPR = re.compile(r"np\.[a-z_]+[0-9]*\(|np\.(True|False)_")


@pytest.mark.parametrize("change", [lambda f: f.assign(g=f.x1 > 0),
                                    lambda f: f.assign(g=np.arange(len(f)) % 3),
                                    lambda f: f.assign(g=1.5)])
def test_messages_print_numbers_not_numpy_reprs(table, change):
    fitted = degenet.fit(table, "y", solver="exact")
    with pytest.raises(DegenetError, match="column 'g' held text") as raised:
        fitted.predict(change(table.drop(columns=["y"])))
    assert not NUMPY_REPR.search(str(raised.value)), str(raised.value)


def test_every_error_is_one_line():
    error = DegenetError(f"row {np.int64(5)!r} holds {np.float64(1.5)!r}, {np.True_!r}\nnext")
    assert str(error) == "row 5 holds 1.5, True\\nnext"
