"""degenet.fit, degenet.compare and the CLI on a Parquet dataset: when and how it streams."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet.data.dataset import open_dataset
from degenet.errors import ConvergenceWarning, DegenetError
from degenet.streaming import StreamSettings, in_memory, streams
from tests.streamed_tables import FEATURES, people, write


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write(people(5000, seed=4), tmp_path_factory.mktemp("people"), files=2,
                 row_group=700)


def test_a_dataset_streams_beyond_the_budget_and_when_asked(folder):
    assert not streams(folder, None)  # small: read whole
    assert streams(folder, True) and streams(folder, StreamSettings())
    assert streams(folder, StreamSettings(memory_budget=1000))
    assert not streams(folder, False) and not streams(pd.DataFrame({"a": [1]}), None)
    with pytest.raises(DegenetError, match="stream=True needs a Parquet dataset"):
        streams(pd.DataFrame({"a": [1]}), True)
    whole = in_memory(folder)  # a folder read whole, in position order
    expected = pd.concat([pd.read_parquet(p) for p in open_dataset(folder).files])
    pd.testing.assert_frame_equal(whole, expected.reset_index(drop=True))


def test_a_folder_fits_in_memory_or_streamed_to_the_same_optimum(folder):
    whole = degenet.fit(folder, "y_log", features=FEATURES, solver="exact")
    streamed = degenet.fit(folder, "y_log", features=FEATURES, solver="exact", stream=True)
    assert isinstance(whole.train_rows, np.ndarray) and len(streamed.train_rows) == 5000
    assert whole.encoding == streamed.encoding
    # the exact solver uses every row, in memory and streamed: one optimum
    np.testing.assert_allclose(streamed.coefficients["estimate"],
                               whole.coefficients["estimate"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(streamed.coefficients["std_error"],
                               whole.coefficients["std_error"], rtol=1e-10)


def test_options_a_stream_cannot_take_are_named(folder):
    for options in ({"sample_weight": np.ones(5000)}, {"offset": "x0"},
                    {"cov_type": "HC1"}):
        with pytest.raises(DegenetError, match=f"{next(iter(options))}= is not available for "
                                               "a streamed dataset"):
            degenet.fit(folder, "y", features=FEATURES, stream=True, **options)
    with pytest.raises(DegenetError, match="cv=3 needs the table in memory"):
        degenet.compare(folder, "y", features=FEATURES, stream=True, cv=3)


def test_a_streamed_fit_is_saved_loaded_and_compared(folder, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = degenet.fit(folder, "y", model="linear", features=FEATURES, stream=True,
                             max_epochs=15)
        comparison = degenet.compare(folder, "y_log", models="logistic,mlp:4",
                                     features=FEATURES, stream=True, max_epochs=5)
    fitted.save(tmp_path / "model")
    loaded = degenet.load(tmp_path / "model")
    rows = pd.read_parquet(open_dataset(folder).files[0]).head(20)
    np.testing.assert_allclose(loaded.predict(rows), fitted.predict(rows), rtol=1e-6)
    sidecar = json.loads((tmp_path / "model" / "degenet.json").read_text())
    assert sidecar["training"]["n_train"] == len(fitted.train_rows)
    assert sidecar["training"]["engine"] == "jax-stream"
    n_val = len(comparison.fits["logistic"].val_rows)
    assert list(comparison.scores["held_out_rows"]) == [n_val] * 3
    assert comparison.scores.loc["logistic", "deviance"] == pytest.approx(
        2 * comparison.fits["logistic"].val_loss, rel=1e-5)
    assert len(comparison.verdicts) == 1


def test_the_command_line_streams(folder):
    done = subprocess.run(
        [sys.executable, "-c", "from degenet.cli import main; main()", "fit", str(folder),
         "--target", "count", "--model", "poisson", "--features", "x0,x1,city", "--solver",
         "exact", "--stream", "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert set(document["coefficients"]) == {"x0", "x1", "city[bb]", "city[c]", "intercept"}
    done = subprocess.run(
        [sys.executable, "-c", "from degenet.cli import main; main()", "fit", str(folder),
         "--target", "y", "--no-stream", "--shards", "2"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: --shards applies to a streamed dataset; it cannot "
                                   "go with --no-stream")
