"""Columns carried beside the design: offsets, exposures and cluster groups."""

import numpy as np
import pandas as pd
import pytest

from degenet.data.carried import OffsetSpec
from degenet.data.prepare import prepare
from degenet.errors import DegenetError


@pytest.fixture
def table():
    return pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, np.nan, 6.0],
                         "hours": [1.0, 2.0, 4.0, 8.0, 1.0, 2.0],
                         "team": ["a", "b", "a", None, "b", "a"],
                         "y": [1.0, 0.0, 3.0, 2.0, 5.0, 4.0]})


def test_rows_follow_the_design_when_rows_are_dropped(table):
    # a repeated index label: rows are matched by position, not by label
    table.index = [0, 0, 1, 1, 2, 2]
    with pytest.warns(UserWarning):
        prepared = prepare(table, "y", features=["x"], exposure="hours", groups="team",
                           missing="drop")
    np.testing.assert_array_equal(prepared.X[:, 0], [1.0, 2.0, 3.0, 6.0])
    np.testing.assert_allclose(prepared.offset, np.log([1.0, 2.0, 4.0, 2.0]))
    np.testing.assert_array_equal(prepared.carried.groups, [0, 1, 0, 0])
    assert prepared.encoding.dropped_rows == 2
    assert prepared.carried.spec == OffsetSpec(column="hours", exposure=True)


def test_arrays_are_one_value_per_row_of_the_table(table):
    with pytest.warns(UserWarning):
        prepared = prepare(table, "y", features=["x"], offset=np.arange(6.0), missing="drop")
    np.testing.assert_array_equal(prepared.offset, [0.0, 1.0, 2.0, 3.0, 5.0])
    assert prepared.carried.spec == OffsetSpec(column=None, exposure=False)


def test_default_features_leave_the_carried_columns_out(table):
    prepared = prepare(table.drop(columns=["team"]).dropna(), "y", exposure="hours")
    assert prepared.terms == ("x",)


def test_the_spec_round_trips_and_reads_new_data():
    spec = OffsetSpec(column="hours", exposure=True)
    assert OffsetSpec.from_dict(spec.to_dict()) == spec
    assert OffsetSpec.from_dict(None) is None
    frame = pd.DataFrame({"hours": [1.0, np.e]})
    np.testing.assert_allclose(spec.values(frame), [0.0, 1.0])
    with pytest.raises(DegenetError, match="exposure column 'hours' is missing in row 1"):
        spec.values(pd.DataFrame({"hours": [1.0, np.nan]}))
    with pytest.raises(DegenetError, match="exposure column 'hours' must hold numbers"):
        spec.values(pd.DataFrame({"hours": ["one", "two"]}))
    with pytest.raises(DegenetError, match="not a degenet offset"):
        OffsetSpec.from_dict({"column": "hours", "exposure": "yes"})
