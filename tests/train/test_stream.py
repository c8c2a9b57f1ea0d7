"""Gradient descent on a stream: every row once an epoch, and the optimum of the loss."""

import warnings

import numpy as np
import pytest

from degenet.data.reader import ShuffleBuffer
from degenet.errors import ConvergenceWarning
from degenet.fitting import fit
from degenet.streaming import StreamSettings
from tests.streamed_tables import FEATURES, people, write


@pytest.mark.parametrize("capacity,take", [(64, 10), (1000, 7), (5, 5)])
def test_the_shuffle_buffer_gives_every_row_once(capacity, take):
    rows = np.arange(600, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    blocks = iter([rows[i:i + 37] for i in range(0, 600, 37)])
    buffer = ShuffleBuffer(blocks, capacity, np.random.default_rng(0))
    out, taken = np.empty((take, 3), np.float32), []
    while (n := buffer.take(out)):
        taken.append(out[:n, 0].copy())
    seen = np.concatenate(taken)
    np.testing.assert_array_equal(np.sort(seen), rows[:, 0])
    assert not np.array_equal(seen, rows[:, 0])  # shuffled
    if capacity < 600:  # a bounded buffer: no row leaves before the stream reaches it
        order = np.argsort(seen)  # where each row came out
        assert np.min(order - np.arange(600)) >= -capacity


@pytest.mark.parametrize("target,model", [("y", "linear"), ("y_log", "logistic"),
                                          ("kind", "softmax")])
def test_streamed_gradient_descent_reaches_the_optimum(tmp_path, target, model):
    frame = people(8000, seed=3)
    folder = write(frame, tmp_path / "data", files=2, row_group=1000)
    features = [f for f in FEATURES if f != target]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = fit(folder, target, model=model, features=features,
                     stream=StreamSettings(shards=2), max_epochs=40, patience=8)
    reading = fitted.exact
    assert fitted.training.engine == "jax-stream"
    assert reading.loss_gap < 2e-3 * abs(reading.solution.loss)
    assert reading.max_std_diff < 3.0
    history = fitted.history
    assert len(history) == fitted.epochs and history["loss"].notna().all()
    assert fitted.val_loss == pytest.approx(reading.val_loss, rel=1e-4)
