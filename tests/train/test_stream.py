"""Gradient descent on a stream: every row once an epoch, and the optimum of the loss."""

import warnings

import numpy as np
import pytest

from degenet.data.reader import ShuffleBuffer
from degenet.errors import ConvergenceWarning
from degenet.fitting import fit
from degenet.model.families import get_family
from degenet.streaming import StreamSettings
from degenet.train.stream import Standardize, _Validation, score_program
from tests.streamed_tables import FEATURES, people, write


@pytest.mark.parametrize("capacity,take,strided,swap", [
    (64, 10, False, 8192), (1000, 7, False, 8192), (5, 5, False, 8192), (64, 10, True, 8192),
    (64, 10, False, 3), (1000, 70, False, 16), (64, 10, True, 4)])
def test_the_shuffle_buffer_gives_every_row_once(monkeypatch, capacity, take, strided, swap):
    """Whole rows (moved as records, or row by row into a strided ``out``), each once; also
    when a take reads and refills its slots a few at a time and the stream ends within it."""
    monkeypatch.setattr("degenet.data.reader.SWAP_ROWS", swap)
    rows = np.arange(600, dtype=np.float32)[:, None] * np.array([[1, -1, 2]], np.float32)
    blocks = iter([rows[i:i + 37] for i in range(0, 600, 37)])
    buffer = ShuffleBuffer(blocks, capacity, np.random.default_rng(0))
    out = np.empty((take, 6), np.float32)[:, ::2] if strided else np.empty((take, 3),
                                                                          np.float32)
    taken = []
    while (n := buffer.take(out)):
        np.testing.assert_array_equal(out[:n] * np.array([1, -1, 0.5], np.float32),
                                      out[:n, :1] * np.ones((1, 3), np.float32))
        taken.append(out[:n, 0].copy())
    seen = np.concatenate(taken)
    np.testing.assert_array_equal(np.sort(seen), rows[:, 0])
    assert not np.array_equal(seen, rows[:, 0])  # shuffled
    if capacity < 600:  # a bounded buffer: no row leaves before the stream reaches it
        order = np.argsort(seen)  # where each row came out
        assert np.min(order - np.arange(600)) >= -capacity


def test_the_shuffle_buffer_takes_the_same_rows_whatever_its_swap_pieces(monkeypatch):
    """Reading and refilling the slots a piece at a time changes nothing: the slots of a take
    are distinct, so each piece reads rows no earlier piece has replaced."""
    rows = np.arange(2000, dtype=np.float32)[:, None] * np.array([[1, 2]], np.float32)

    def taken(swap: int) -> np.ndarray:
        monkeypatch.setattr("degenet.data.reader.SWAP_ROWS", swap)
        buffer = ShuffleBuffer(iter([rows[i:i + 150] for i in range(0, 2000, 150)]), 300,
                               np.random.default_rng(4))
        out, parts = np.empty((120, 2), np.float32), []
        while (n := buffer.take(out)):
            parts.append(out[:n].copy())
        return np.concatenate(parts)

    whole = taken(1 << 20)
    assert len(whole) == 2000
    for swap in (1, 7, 64):
        np.testing.assert_array_equal(taken(swap), whole)


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


def test_validation_sums_every_block_in_float64():
    """The validation loss of a fixed logistic candidate: the blocks' sums, read once."""
    rng = np.random.default_rng(1)
    blocks = [np.c_[rng.normal(size=(m, 3)), rng.random(m) < 0.4].astype(np.float32)
              for m in (700, 1500, 3)]
    kernel, bias = np.array([[0.5], [-1.0], [0.25]], np.float32), np.array([0.2], np.float32)
    family = get_family("bernoulli")
    stack = ((0, 1, lambda eta: eta),)
    validation = _Validation(score_program(stack, family), [kernel, bias],
                             Standardize(np.zeros(3), np.ones(3)))
    for block in blocks:
        validation.add(block)
    rows = np.vstack(blocks).astype(np.float64)
    eta = rows[:, :3] @ kernel[:, 0].astype(np.float64) + bias[0]
    expected = np.sum(np.logaddexp(0.0, eta) - rows[:, 3] * eta)
    assert validation.count == len(rows)
    assert validation.total == pytest.approx(expected, rel=1e-6)
