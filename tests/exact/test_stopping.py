"""Newton stopped short: separation proved by an iterate, and the time cap."""

import time

import numpy as np
import pytest

from degenet.exact.solve import solve
from degenet.exact.stopping import SEPARATED_ITERATIONS, TimeCap, logit_extremes, separates
from degenet.model.families import get_family


def test_a_separating_iterate_is_recognized_and_nothing_else():
    family = get_family("categorical")
    y = np.array([0, 1, 2, 2])
    eta = np.array([[0.0, -1, -2], [0.0, 3, 1], [0.0, 1, 2], [0.0, -5, 0.1]])
    assert separates(family, y, eta, np.ones(4))
    eta[3, 1] = 0.2  # row 3 now prefers class 1 over its own class 2
    assert not separates(family, y, eta, np.ones(4))
    assert separates(family, y, eta, np.array([1.0, 1, 1, 0]))  # unless it has no weight
    bernoulli = get_family("bernoulli")
    assert separates(bernoulli, np.array([0.0, 1]), np.array([[-0.1], [0.2]]), np.ones(2))
    assert not separates(bernoulli, np.array([0.0, 1]), np.array([[0.1], [0.2]]), np.ones(2))
    assert not separates(get_family("poisson"), np.ones(2), np.ones((2, 1)), np.ones(2))


@pytest.mark.parametrize("family", ["bernoulli", "categorical"])
def test_margins_are_checked_in_blocks_and_every_block_counts(monkeypatch, family):
    # Blocks of 4 rows over 10: a row on the wrong side in the last, partial block, or a
    # weightless one there, must count as in one pass over every row.
    monkeypatch.setattr("degenet.exact.stopping.MARGIN_ROWS", 4)
    family = get_family(family)
    y = np.array([0, 1] * 5, dtype=float)
    eta = np.where(y == 1, 2.0, -2.0)[:, None]
    if family.name == "categorical":
        eta = np.column_stack([np.zeros(10), eta[:, 0]])
    weight = np.ones(10)
    assert separates(family, y, eta, weight)
    eta[9, -1] = -2.0  # the last row (class 1) now on class 0's side
    assert not separates(family, y, eta, weight)
    weight[9] = 0.0
    assert separates(family, y, eta, weight)


def test_newton_stops_on_completely_separated_classes():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 3))
    y = (X @ [1.0, -2.0, 0.5] > 0).astype(float)
    solution = solve("bernoulli", X, y)
    assert solution.stopped == "separation" and not solution.converged
    assert solution.n_iter < SEPARATED_ITERATIONS
    assert np.all((X @ solution.beta[:, 0] + solution.alpha[0] > 0) == (y == 1))


def test_the_time_cap_stops_newton_between_iterations():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(2000, 4))
    y = (rng.random(2000) < 1 / (1 + np.exp(-X @ [0.5, -0.5, 1, 0]))).astype(float)
    capped = solve("bernoulli", X, y, cap=TimeCap(0.0))
    assert capped.stopped == "time cap" and not capped.converged and capped.n_iter == 2
    free = solve("bernoulli", X, y, cap=TimeCap(60.0))
    assert free.converged and free.stopped is None
    cap = TimeCap()
    assert cap.remaining() == np.inf and not cap.passed()
    cap.set(0.05)
    time.sleep(0.06)
    assert cap.passed() and cap.remaining() == 0.0


@pytest.mark.parametrize("family", ["gaussian", "poisson"])
def test_families_without_classes_are_never_stopped_for_separation(family):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(200, 2))
    y = rng.poisson(np.exp(0.3 * X[:, 0])).astype(float)
    assert solve(family, X, y).stopped is None


def test_logit_extremes_by_blocks_equal_those_of_all_rows_at_once():
    rng = np.random.default_rng(0)
    family = get_family("categorical")
    eta = np.column_stack([np.zeros(11), rng.normal(scale=3.0, size=(11, 3))])
    counted = rng.random(11) < 0.7
    logits = eta[counted]
    top = np.sort(logits, axis=1)[:, -2:]
    expected = {"logit_spread": (logits.max(axis=1) - logits.min(axis=1)).max(),
                "logit_gap": (top[:, 1] - top[:, 0]).max()}
    for block_rows in (1, 3, 4, 100):
        assert logit_extremes(family, eta, counted, block_rows) == pytest.approx(expected)
    assert logit_extremes(family, eta, np.zeros(11, bool)) == {}
    bernoulli = get_family("bernoulli")
    eta = eta[:, 1:2]
    expected = np.abs(eta[counted]).max()
    for block_rows in (1, 3, 100):
        assert logit_extremes(bernoulli, eta, counted, block_rows) == pytest.approx(
            {"logit_spread": expected, "logit_gap": expected})
