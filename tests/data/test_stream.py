"""A streamed table's encoding is the in-memory one; its blocks are the in-memory design."""

import warnings

import numpy as np
import pandas as pd
import pytest

from degenet.data.blocks import Coder, Source
from degenet.data.dataset import open_dataset, validation_mask
from degenet.data.encoding import encode
from degenet.data.stream import encode_stream, plan_stream
from degenet.data.tally import Tally
from degenet.errors import DataWarning, DegenetError
from tests.streamed_tables import FEATURES, people, write


def _streamed(folder, target="y", **options):
    dataset = open_dataset(folder)
    plan = plan_stream(dataset, target, features=options.pop("features", FEATURES), **options)
    encoding, stats = encode_stream(dataset, plan, dataset.row_groups)
    return dataset, plan, encoding, stats


def _message(action) -> str:
    with pytest.raises(DegenetError) as caught:
        action()
    return str(caught.value)


@pytest.mark.parametrize("coding", ["treatment", "effect", "sum"])
def test_the_encoding_and_the_design_blocks_are_the_in_memory_ones(tmp_path, coding):
    frame = people(4000)
    frame["flat"] = np.float32(2.0)  # constant: left out, with the in-memory warning
    folder = write(frame, tmp_path / "data", files=3, row_group=700)
    features = [*FEATURES, "flat"]
    with pytest.warns(DataWarning, match="column\\(s\\) 'flat' constant in the rows used"):
        dataset, plan, encoding, stats = _streamed(folder, features=features, coding=coding,
                                                   seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        expected, X, y = encode(frame, "y", features=features, coding=coding)
    assert encoding == expected
    val = validation_mask(np.arange(len(frame)), seed=5, share=0.2)
    kept = X[~val].astype(np.float64)  # the in-memory design may be float32: sums in float64
    np.testing.assert_allclose(stats.mean, kept.mean(axis=0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.sqrt(stats.m2 / stats.n_train), kept.std(axis=0),
                               rtol=1e-12)
    assert (stats.n_train, stats.n_val) == (int((~val).sum()), int(val.sum()))
    coder = Coder(plan, encoding, None, stats.dtype)
    parts = list(Source(coder, dataset.row_groups).blocks())
    train = np.vstack([t for t, _ in parts])
    held = np.vstack([v for _, v in parts])
    np.testing.assert_array_equal(train[:, :-1], X[~val].astype(train.dtype))
    np.testing.assert_array_equal(held[:, -1], y.to_numpy()[val])
    # Column-major blocks (Newton's passes): the same rows, each column contiguous.
    columns = list(Source(coder, dataset.row_groups).column_major().blocks())
    assert all(t.flags.f_contiguous and v.flags.f_contiguous for t, v in columns)
    np.testing.assert_array_equal(np.vstack([t for t, _ in columns]), train)
    np.testing.assert_array_equal(np.vstack([v for _, v in columns]), held)
    # effect coding of 3 levels is not exactly float32: the blocks are float64, as in memory
    assert train.dtype == (np.float64 if coding == "effect" else np.float32)


def test_missing_values_are_refused_or_dropped_as_in_memory(tmp_path):
    frame = people(3000)
    frame.loc[[3, 70, 71], "x1"] = np.nan
    frame.loc[[70, 900], "city"] = None
    folder = write(frame, tmp_path / "data", files=2, row_group=500)
    in_memory = _message(lambda: encode(frame, "y", features=FEATURES))
    assert _message(lambda: _streamed(folder)) == in_memory
    with pytest.warns(DataWarning, match=r"dropped 4 of 3000 rows with missing values "
                                         r"\(x1: 3, city: 2\); 2996 rows remain"):
        _, _, encoding, stats = _streamed(folder, missing="drop")
    assert encoding.dropped_rows == 4 and stats.n_train + stats.n_val == 2996


def test_columns_and_values_get_the_in_memory_errors(tmp_path):
    frame = people(1000)
    frame.loc[17, "x2"] = np.inf
    folder = write(frame, tmp_path / "data", files=2, row_group=300)
    assert (_message(lambda: _streamed(folder))
            == "column 'x2' holds 1 infinite value(s) (first in row 17); it needs finite "
               "numbers")
    assert _message(lambda: _streamed(folder, target="nope")).startswith(
        "target column 'nope' not found; columns are: x0, x1")
    assert "feature column(s) 'age' not found" in _message(
        lambda: _streamed(folder, features=["age"]))
    assert "formula= needs the whole table in memory" in _message(
        lambda: _streamed(folder, formula="y ~ x0"))
    single = people(500).assign(y=np.float32(1.5))
    assert "has a single value 1.5 in every row used" in _message(
        lambda: _streamed(write(single, tmp_path / "single")))


def test_tallies_merge_alike_in_any_grouping(tmp_path):
    folder = write(people(3000), tmp_path / "data", files=3, row_group=400)
    dataset, plan, encoding, stats = _streamed(folder)
    groups = dataset.row_groups
    halves = [encode_stream(dataset, plan, part, lambda value: [value])
              for part in (groups[:3], groups[3:])]
    # Two "processes" gathering each other's tallies: the same encoding and moments.
    gathered = []

    def gather(value):
        gathered.append(value)
        return gathered if len(gathered) == 2 else [value]

    encode_stream(dataset, plan, groups[:3], gather)
    merged = encode_stream(dataset, plan, groups[3:], gather)
    assert merged[0] == encoding
    np.testing.assert_allclose(merged[1].mean, stats.mean, rtol=1e-13)
    np.testing.assert_allclose(merged[1].m2, stats.m2, rtol=1e-12)
    assert halves[0][1].n_train + halves[1][1].n_train == stats.n_train
    assert Tally.from_json(Tally().to_json()) == Tally()


def test_float64_columns_stream_as_float64_and_classes_as_codes(tmp_path):
    frame = people(2000).astype({"x0": np.float64})
    val = validation_mask(np.arange(len(frame)), seed=0, share=0.2)
    frame.loc[np.flatnonzero(~val)[0], "x0"] = 0.1  # a training row's value, not a float32
    folder = write(frame, tmp_path / "data")
    dataset, plan, encoding, stats = _streamed(folder, target="kind")
    assert stats.dtype == np.float64
    classes = ("p", "q", "r")
    train = np.vstack([t for t, _ in Source(Coder(plan, encoding, classes, stats.dtype),
                                            dataset.row_groups).blocks()])
    assert train[0, 0] == 0.1
    codes = pd.Categorical(frame["kind"], categories=classes).codes[~val]
    np.testing.assert_array_equal(train[:, -1], codes)
    assert stats.target_counts == {c: int((frame["kind"][~val] == c).sum()) for c in classes}


@pytest.mark.parametrize("dtype,classes", [
    (np.float32, (2.5, -1.0, 0.0)),  # unsorted: codes follow the classes' order
    (np.int64, (3, 1, 7)),
    (np.float32, (0.0, 0.1)),  # 0.1 is no float32: Arrow's lookup after its cast
])
def test_number_classes_code_as_arrows_lookup(tmp_path, dtype, classes):
    """The sorted-search codes of a number target equal pandas' categorical codes (values
    outside the classes: -1)."""
    frame = people(1500, seed=4)
    rng = np.random.default_rng(0)
    pool = np.array([*classes, 9], dtype=np.float64)
    frame["t"] = pool[rng.integers(0, len(pool), len(frame))].astype(dtype)
    folder = write(frame, tmp_path / "data", files=2, row_group=400)
    dataset = open_dataset(folder)
    plan = plan_stream(dataset, "t", features=["x0", "x1"], validation=0.3, seed=2)
    encoding, stats = encode_stream(dataset, plan, dataset.row_groups)
    parts = list(Source(Coder(plan, encoding, classes, stats.dtype), dataset.row_groups).blocks())
    val = validation_mask(np.arange(len(frame)), seed=2, share=0.3)
    stored = frame["t"].to_numpy()
    expected = np.full(len(frame), -1.0)
    for code, value in enumerate(classes):
        expected[stored == np.asarray(value).astype(dtype)] = code
    np.testing.assert_array_equal(np.concatenate([t[:, -1] for t, _ in parts]), expected[~val])
    np.testing.assert_array_equal(np.concatenate([v[:, -1] for _, v in parts]), expected[val])


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("validation,missing", [(0.0, "error"), (0.25, "drop")])
def test_blocks_of_one_type_come_whole_from_arrow_as_column_by_column(tmp_path, validation,
                                                                      missing, order):
    """Float32 columns and a 0/1 target (codes are values): each record batch becomes its
    block in one conversion (``RecordBatch.to_tensor``); the blocks are those of the
    column-by-column path, rows with a NaN dropped, a value outside the classes coded -1,
    in the coder's layout (row- or column-major)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = people(3000, seed=3)[["x0", "x1", "x2"]]
    frame["t"] = (frame["x0"] > 0).astype(np.float32)
    if missing == "drop":
        frame.loc[[5, 1200], "x1"] = np.nan  # NaN, not null: Arrow converts it as a value
    folder = tmp_path / "data"
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 2)):
        part = frame.iloc[rows]
        table = pa.table({name: pa.array(part[name].to_numpy(), from_pandas=False)
                          for name in frame})
        pq.write_table(table, folder / f"part-{i}.parquet", row_group_size=700)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        dataset, plan, encoding, stats = _streamed(folder, target="t",
                                                   features=["x0", "x1", "x2"],
                                                   validation=validation, missing=missing)
    coder = Coder(plan, encoding, (0.0, 1.0), stats.dtype, order=order)
    batch = next(pq.ParquetFile(dataset.row_groups[0].path).iter_batches(
        columns=coder.columns))
    assert coder._whole(batch) is not None  # the one-conversion path is taken
    whole = list(Source(coder, dataset.row_groups).blocks())
    tensor_type, coder._tensor_type = coder._tensor_type, None  # column by column
    by_columns = list(Source(coder, dataset.row_groups).blocks())
    for (train, val), (train2, val2) in zip(whole, by_columns, strict=True):
        for part in (train, val, train2, val2):
            assert part.flags[f"{order}_CONTIGUOUS"] and part.dtype == np.float32
        np.testing.assert_array_equal(train, train2)
        np.testing.assert_array_equal(val, val2)
    kept = ~frame["x1"].isna().to_numpy()
    held = validation_mask(np.arange(len(frame)), seed=0, share=validation)
    np.testing.assert_array_equal(np.vstack([t for t, _ in whole]),
                                  frame.to_numpy(np.float32)[~held & kept])
    # A value that is not a class: that batch goes the long way, which codes it -1.
    coder._tensor_type = tensor_type
    odd = batch.set_column(3, "t", pa.array(np.r_[2.0, np.zeros(batch.num_rows - 1)],
                                            pa.float32()))
    assert coder._whole(odd) is None
    codes = np.concatenate([part[:, -1] for part in coder.blocks(odd, np.arange(len(odd)))])
    assert -1.0 in codes and 2.0 not in codes


def test_a_pass_parses_each_file_s_footer_once(tmp_path, monkeypatch):
    """Every row group gets a fresh reader, opened with its file's footer as parsed by the
    first: the same rows, in order, and one parse per file."""
    import pyarrow.parquet as pq

    from degenet.data.reader import read_row_groups

    frame = people(4000, seed=5)
    dataset = open_dataset(write(frame, tmp_path / "data", files=2, row_group=500))
    assert len(dataset.row_groups) == 8
    parsed = []
    opened = pq.ParquetFile

    def spy(path, *args, metadata=None, **kwargs):
        parsed.append(metadata is None)
        return opened(path, *args, metadata=metadata, **kwargs)

    monkeypatch.setattr(pq, "ParquetFile", spy)
    blocks = list(read_row_groups(dataset.row_groups, ["x0"],
                                  lambda batch, positions: (batch.column(0).to_numpy(),
                                                            positions)))
    assert sum(parsed) == 2 and len(parsed) == 8
    values = np.concatenate([values for values, _ in blocks])
    np.testing.assert_array_equal(np.concatenate([p for _, p in blocks]), np.arange(4000))
    np.testing.assert_array_equal(values, frame["x0"].to_numpy())


@pytest.mark.parametrize("mappable", [True, False])
def test_row_groups_are_read_memory_mapped_or_else_as_usual(tmp_path, monkeypatch, mappable):
    """Files are opened memory-mapped (no copy out of the system's cache); one that cannot be
    mapped is read the usual way, with the same rows."""
    import pyarrow.parquet as pq

    from degenet.data.reader import read_row_groups

    frame = people(3000, seed=6)
    dataset = open_dataset(write(frame, tmp_path / "data", files=2, row_group=500))
    opened, mapped = pq.ParquetFile, []

    def spy(path, *args, memory_map=False, **kwargs):
        if memory_map and not mappable:
            raise OSError("Memory mapping file failed: No such device")
        mapped.append(memory_map)
        return opened(path, *args, memory_map=memory_map, **kwargs)

    monkeypatch.setattr(pq, "ParquetFile", spy)
    blocks = list(read_row_groups(dataset.row_groups, ["x1"],
                                  lambda batch, positions: batch.column(0).to_numpy()))
    assert mapped == [mappable] * len(dataset.row_groups)
    np.testing.assert_array_equal(np.concatenate(blocks), frame["x1"].to_numpy())
