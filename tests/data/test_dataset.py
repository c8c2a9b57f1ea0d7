"""A Parquet dataset: its files in position order, the hashed split, the balanced shares."""

import numpy as np
import pandas as pd
import pytest

from degenet.data.dataset import (balanced_shares, fingerprint, is_dataset, list_files,
                                  needs_streaming, open_dataset, process_shards,
                                  validation_mask)
from degenet.errors import DegenetError
from tests.streamed_tables import people, write


def test_files_are_in_path_order_and_hidden_ones_left_out(tmp_path):
    frame = people(600)
    folder = write(frame, tmp_path / "data", files=3, row_group=100)
    (folder / "_SUCCESS").write_text("")
    (folder / ".part-9.parquet").write_bytes((folder / "part-00000.parquet").read_bytes())
    sub = folder / "later"
    sub.mkdir()
    frame.head(50).to_parquet(sub / "z.parquet", index=False)
    files = list_files(folder)
    assert ["/".join(f.rsplit("/", 2)[-2:]) for f in files] == [  # by absolute path
        "later/z.parquet", "data/part-00000.parquet", "data/part-00001.parquet",
        "data/part-00002.parquet"]
    assert list_files(str(folder / "part-0000[12].parquet")) == files[2:4]
    dataset = open_dataset(folder)
    assert dataset.n_rows == 650
    starts = [g.start for g in dataset.row_groups]
    assert starts == sorted(starts) and starts[0] == 0
    assert all(b.start == a.start + a.n_rows for a, b in zip(dataset.row_groups,
                                                             dataset.row_groups[1:]))
    assert is_dataset(folder) and is_dataset(str(folder / "*.parquet"))
    assert not is_dataset("table.csv") and not is_dataset(frame)


def test_files_with_other_columns_are_named(tmp_path):
    folder = write(people(300), tmp_path / "data", files=2)
    people(10).drop(columns="city").to_parquet(folder / "part-00009.parquet", index=False)
    with pytest.raises(DegenetError, match="part-00009.parquet has columns .* every file of a "
                                           "dataset needs the same columns"):
        open_dataset(folder)
    with pytest.raises(DegenetError, match="holds no Parquet files"):
        list_files(tmp_path / "data" / "*.csv")
    with pytest.raises(DegenetError, match="no such file, folder or glob"):
        list_files(tmp_path / "absent")


def test_the_split_hashes_positions_not_files_or_order():
    positions = np.arange(200_000)
    mask = validation_mask(positions, seed=3, share=0.2)
    assert abs(mask.mean() - 0.2) < 0.005
    shuffled = np.random.default_rng(0).permutation(positions)
    np.testing.assert_array_equal(validation_mask(shuffled, seed=3, share=0.2), mask[shuffled])
    other = validation_mask(positions, seed=4, share=0.2)
    assert 0.18 < (mask & other).sum() / mask.sum() < 0.22  # another seed: independent rows
    assert not validation_mask(positions, seed=3, share=0.0).any()


def test_shares_are_balanced_by_rows_and_each_process_reads_its_own():
    from degenet.data.dataset import RowGroup

    sizes = [500, 120, 480, 30, 260, 250, 9]
    groups, start = [], 0
    for i, n in enumerate(sizes):
        groups.append(RowGroup("f", i, n, start))
        start += n
    shares = balanced_shares(tuple(groups), 3)
    rows = sorted(sum(g.n_rows for g in share) for share in shares)
    assert rows[-1] - rows[0] <= max(sizes[3:])  # within one small row group
    assert sorted(g.index for share in shares for g in share) == list(range(len(sizes)))
    assert all([g.start for g in share] == sorted(g.start for g in share) for share in shares)
    assert process_shards(4, 1, 2) == (1, 3)
    with pytest.raises(DegenetError, match="shards=3 must be a multiple of the number of "
                                           r"processes \(2\)"):
        process_shards(3, 0, 2)


def test_size_decides_streaming_and_the_fingerprint_names_the_files(tmp_path):
    folder = write(people(2000), tmp_path / "data", files=2)
    dataset = open_dataset(folder)
    used = dataset.bytes_of(["x0", "y"])
    assert 0 < used < dataset.bytes_of(dataset.columns)
    assert needs_streaming(dataset, ["x0", "y"], budget=used)
    assert not needs_streaming(dataset, ["x0", "y"], budget=10 * used)
    before = fingerprint(dataset)
    assert fingerprint(open_dataset(folder)) == before
    frame = pd.read_parquet(folder / "part-00001.parquet")
    frame.loc[0, "x0"] = 99.0
    frame.to_parquet(folder / "part-00001.parquet", row_group_size=1500, index=False)
    assert fingerprint(open_dataset(folder)) != before
