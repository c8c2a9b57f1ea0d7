"""The exact solvers on a streamed table give the in-memory optimum on the same rows."""

import warnings

import numpy as np
import pytest

from degenet.data.dataset import validation_mask
from degenet.data.prepare import prepare
from degenet.errors import DataWarning
from degenet.fitting import Task, fit, fit_prepared
from degenet.model.families import get_family
from degenet.model.specs import parse_spec
from degenet.train.settings import TrainSettings
from tests.streamed_tables import FEATURES, people, write

CASES = [("y", "linear", "gaussian"), ("y_log", "logistic", "bernoulli"),
         ("count", "poisson", "poisson"), ("kind", "softmax", "categorical")]


def in_memory(frame, target, model, family, features, seed=0, solver="exact", share=0.0):
    """The in-memory fit on the streamed fit's hashed split (the exact solver's default:
    every row)."""
    prepared = prepare(frame, target, features=features)
    chosen = get_family(family)
    val = validation_mask(np.arange(len(frame)), seed=seed, share=share)
    task = Task(spec=parse_spec(model), family=chosen, target=chosen.encode_target(
        prepared.target), train_rows=np.flatnonzero(~val), val_rows=np.flatnonzero(val),
        settings=TrainSettings(validation=share), seed=seed, solver=solver)
    return fit_prepared(prepared, task)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    frame = people(6000, seed=1)
    return frame, write(frame, tmp_path_factory.mktemp("people"), files=3, row_group=800)


@pytest.mark.parametrize("target,model,family", CASES)
def test_the_streamed_optimum_is_the_in_memory_one(table, target, model, family):
    frame, folder = table
    features = [f for f in FEATURES if f != target]
    streamed = fit(folder, target, model=model, features=features, solver="exact",
                   stream=True)
    expected = in_memory(frame, target, model, family, features)
    a, b = streamed.coefficients, expected.coefficients
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(a["std_error"], b["std_error"], rtol=1e-10)
    for name in ("log_likelihood", "null_log_likelihood", "deviance", "null_deviance"):
        assert getattr(streamed.exact, name) == pytest.approx(getattr(expected.exact, name),
                                                              rel=1e-10)
    assert streamed.exact.n_samples == expected.exact.n_samples == len(frame)  # every row
    # what degenet.fit does with the table in memory: the same optimum
    whole = fit(frame, target, model=model, features=features, solver="exact")
    np.testing.assert_allclose(a["estimate"], whole.coefficients["estimate"], rtol=1e-10,
                               atol=1e-13)
    assert streamed.exact.y is None  # per-row values are not kept: they grow with the rows
    # the variance inflation factors read the streamed A'A (summed a piece of rows at a time)
    np.testing.assert_allclose(streamed.exact.diagnostics.vif, whole.exact.diagnostics.vif,
                               rtol=1e-9)


def test_a_collinear_column_is_dropped_with_its_relation(table, tmp_path):
    frame, _ = table
    frame = frame.assign(twice=2 * frame["x0"])  # exact in float32 too
    folder = write(frame, tmp_path / "data")
    features = ["x0", "x1", "twice", "city"]
    for target, model, family in CASES[:2]:
        with pytest.warns(DataWarning, match="'twice' is exactly collinear .*'twice' = "
                                             r"2 \* 'x0'"):
            streamed = fit(folder, target, model=model, features=features, solver="exact",
                           stream=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            expected = in_memory(frame, target, model, family, features)
        assert streamed.exact.solution.dropped == expected.exact.solution.dropped == (2,)
        np.testing.assert_allclose(streamed.coefficients["estimate"],
                                   expected.coefficients["estimate"], rtol=1e-10, atol=1e-13)


def test_an_ill_conditioned_design_is_refined_to_the_same_optimum(table, tmp_path):
    frame, _ = table
    noise = np.random.default_rng(2).normal(size=len(frame)).astype(np.float32)
    frame = frame.assign(near=frame["x0"] + np.float32(3e-3) * noise)
    folder = write(frame, tmp_path / "data")
    features = ["x0", "near", "x1", "city"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        streamed = fit(folder, "y", model="linear", features=features, solver="exact",
                       stream=True)
        expected = in_memory(frame, "y", "linear", "gaussian", features)
    assert streamed.exact.solution.condition_number > 100  # refined or solved by QR
    np.testing.assert_allclose(streamed.coefficients["estimate"],
                               expected.coefficients["estimate"], rtol=1e-9)
    np.testing.assert_allclose(streamed.coefficients["std_error"],
                               expected.coefficients["std_error"], rtol=1e-9)


def test_a_held_out_share_is_the_same_hashed_rows_as_in_memory(table):
    frame, folder = table
    features = [f for f in FEATURES if f != "y"]
    streamed = fit(folder, "y", model="linear", features=features, solver="exact",
                   stream=True, validation=0.2)
    expected = in_memory(frame, "y", "linear", "gaussian", features, share=0.2)
    np.testing.assert_allclose(streamed.coefficients["estimate"],
                               expected.coefficients["estimate"], rtol=1e-10, atol=1e-13)
    assert streamed.exact.val_loss == pytest.approx(expected.exact.val_loss, rel=1e-10)
    assert len(streamed.val_rows) == len(expected.val_rows) > 1000


@pytest.mark.parametrize("target,model,intercept", [("y_log", "logistic", True),
                                                    ("y", "linear", True),
                                                    ("y", "linear", False)])
def test_blocks_summed_in_pieces_give_the_same_optimum(table, monkeypatch, target, model,
                                                       intercept):
    """Record batches are summed a piece of rows at a time (Newton's by exact.stream.
    by_pieces, the least-squares Gram by its own loop); with pieces of 100 rows, every batch
    of the table is cut into several, the last piece shorter."""
    import degenet.exact.stream as stream

    frame, folder = table
    features = [f for f in FEATURES if f != target]
    whole = fit(frame, target, model=model, features=features, solver="exact",
                intercept=intercept)
    monkeypatch.setattr(stream, "PIECE_ROWS", 100)
    streamed = fit(folder, target, model=model, features=features, solver="exact",
                   stream=True, intercept=intercept)
    np.testing.assert_allclose(streamed.coefficients["estimate"],
                               whole.coefficients["estimate"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(streamed.coefficients["std_error"],
                               whole.coefficients["std_error"], rtol=1e-10)


def test_newton_on_one_output_reads_column_major_blocks(table, monkeypatch):
    """Logistic and Poisson passes get column-major blocks (no transpose of each record
    batch); least squares and softmax keep row-major ones: each solver's own layout."""
    import degenet.exact.stream_newton as stream_newton
    from degenet.data.blocks import Coder, Source
    from degenet.streaming import open_table, solver_source

    frame, folder = table
    for target, _, family in CASES:
        chosen = get_family(family)
        opened = open_table(folder, target, features=[f for f in FEATURES if f != target])
        classes = chosen.encode_target(opened.stats.target).classes
        source = Source(Coder(opened.plan, opened.encoding, classes), opened.groups)
        picked = solver_source(source, chosen, chosen.n_outputs(len(classes) if classes
                                                                else None))
        assert picked.coder.order == ("F" if family in ("bernoulli", "poisson") else "C")
    single, strides = stream_newton._single, []

    def spied(*args, **kwargs):
        step = single(*args, **kwargs)
        return lambda block: (strides.append(block.strides[0]), step(block))[1]

    monkeypatch.setattr(stream_newton, "_single", spied)
    features = [f for f in FEATURES if f != "y_log"]
    streamed = fit(folder, "y_log", model="logistic", features=features, solver="exact",
                   stream=True)
    assert strides and set(strides) == {4}  # float32 rows side by side in each column
    expected = in_memory(frame, "y_log", "logistic", "bernoulli", features)
    np.testing.assert_allclose(streamed.coefficients["estimate"],
                               expected.coefficients["estimate"], rtol=1e-10, atol=1e-13)
