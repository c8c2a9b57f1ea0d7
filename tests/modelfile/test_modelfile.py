"""Model files: round trips for every model kind, and files that must be refused."""

import json
import shutil
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import degenet
from degenet import DegenetError, LogisticRegression, MLPClassifier, MLPRegressor
from degenet.modelfile.sidecar import ARCHIVE, FORMAT_VERSION, SIDECAR, read_sidecar

FAST = {"max_epochs": 15, "learning_rate": 0.02}


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(5)
    n = 240
    frame = pd.DataFrame({"age": rng.uniform(20, 60, n), "children": rng.integers(0, 4, n)})
    eta = -2 + 0.05 * frame["age"] + 0.3 * frame["children"]
    frame["spend"] = eta + rng.normal(size=n)
    frame["visits"] = rng.poisson(np.exp(0.5 * eta - 0.5))
    frame["bought"] = np.where(rng.random(n) < 1 / (1 + np.exp(-eta)), "yes", "no")
    frame["colour"] = np.array(["red", "green", "blue"])[
        np.clip(np.round(eta + rng.normal(size=n)), 0, 2).astype(int)]
    return frame


KINDS = [("spend", "linear"), ("bought", "logistic"), ("colour", "softmax"),
         ("visits", "poisson"), ("spend", "mlp:6"), ("colour", "mlp:6")]
FEATURES = ["age", "children", "spend", "visits", "bought", "colour"]


def _fit(table, target, model, **options):
    features = [c for c in ("age", "children") if c != target]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return degenet.fit(table, target, model=model, features=features,
                           **(options or FAST))


@pytest.mark.parametrize("target, model", KINDS)
def test_saved_fit_predicts_identically(tmp_path, table, target, model):
    fitted = _fit(table, target, model)
    fitted.save(tmp_path / "model")
    loaded = degenet.load(tmp_path / "model")
    features = [c for c in ("age", "children") if c != target]
    order = np.random.default_rng(1).permutation(len(table))  # another row order: kept
    new = table[features].iloc[order]
    np.testing.assert_array_equal(loaded.predict(new), fitted.predict(table[features])[order])
    if fitted.family.is_classifier:
        np.testing.assert_array_equal(loaded.predict_proba(new),
                                      fitted.predict_proba(table[features])[order])
        assert loaded.classes == fitted.classes
    if fitted.spec.is_regression:
        pd.testing.assert_frame_equal(loaded.coefficients, fitted.coefficients,
                                      check_dtype=False)
    assert loaded.family.name == fitted.family.name and loaded.spec == fitted.spec


def test_sidecar_records_what_the_model_is(tmp_path, table):
    fitted = _fit(table, "bought", "logistic")
    fitted.save(tmp_path / "model")
    sidecar = json.loads((tmp_path / "model" / SIDECAR).read_text())
    assert sidecar["format_version"] == FORMAT_VERSION and sidecar["family"] == "bernoulli"
    assert sidecar["classes"] == ["no", "yes"] and sidecar["seed"] == 0
    assert sidecar["settings"]["max_epochs"] == 15 and sidecar["model"] == "logistic"
    assert sidecar["encoding"] == fitted.encoding.to_dict()
    assert sidecar["scaling"]["scale"] == pytest.approx(list(fitted.scaling.scale))
    assert sidecar["data_sha256"] == fitted.data_sha256 and len(fitted.data_sha256) == 64
    assert {"degenet", "keras", "backend"} <= set(sidecar["versions"])
    assert [row["term"] for row in sidecar["coefficients"]] == ["age", "children", "intercept"]
    # The same data gives the same hash; other data another one.
    assert _fit(table, "bought", "logistic").data_sha256 == fitted.data_sha256
    assert _fit(table.iloc[1:], "bought", "logistic").data_sha256 != fitted.data_sha256


@pytest.mark.parametrize("estimator, target", [
    (LogisticRegression(solver="exact"), "colour"),
    (MLPRegressor(hidden_layer_sizes=(5,), **FAST), "spend"),
    (MLPClassifier(hidden_layer_sizes=(5,), **FAST), "bought")])
def test_saved_estimator_predicts_identically(tmp_path, table, estimator, target):
    X, y = table[["age", "children"]], table[target]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X, y)
    estimator.save(tmp_path / "model")
    loaded = degenet.load(tmp_path / "model")
    assert list(loaded.predict(X)) == list(estimator.predict(X))
    if hasattr(estimator, "predict_proba"):
        # An exact estimator predicts from its float64 optimum; the saved Keras model holds
        # those weights in float32.
        rtol = 1e-6 if estimator.solver == "exact" else 0
        np.testing.assert_allclose(loaded.predict_proba(X), estimator.predict_proba(X),
                                   rtol=rtol, atol=0)
    assert loaded.sidecar["estimator"]["class"] == type(estimator).__name__
    assert loaded.sidecar["estimator"]["params"]["random_state"] == 0


@pytest.fixture(scope="module")
def saved(tmp_path_factory, table):
    folder = tmp_path_factory.mktemp("saved") / "model"
    _fit(table, "colour", "mlp:6").save(folder)
    return folder


@pytest.fixture
def copy(tmp_path, saved):
    return Path(shutil.copytree(saved, tmp_path / "copy"))


def _rewrite_config(folder: Path, change) -> None:
    """Edit the archive's config.json the way an attacker would, and re-sign the sidecar."""
    archive = folder / ARCHIVE
    with zipfile.ZipFile(archive) as bundle:
        members = {name: bundle.read(name) for name in bundle.namelist()}
    config = json.loads(members["config.json"])
    change(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, content in members.items():
            bundle.writestr(name, content)
    _resign(folder)


def _resign(folder: Path) -> None:
    import hashlib

    sidecar = json.loads((folder / SIDECAR).read_text())
    sidecar["keras_sha256"] = hashlib.sha256((folder / ARCHIVE).read_bytes()).hexdigest()
    (folder / SIDECAR).write_text(json.dumps(sidecar))


def _forbid_keras_loading(monkeypatch):
    from degenet._keras import keras

    def refuse(*args, **kwargs):
        raise AssertionError("keras.saving.load_model must not be reached")

    monkeypatch.setattr(keras.saving, "load_model", refuse)


def test_a_lambda_layer_is_refused_before_keras_sees_it(copy, monkeypatch):
    from degenet._keras import keras

    # What Keras itself writes for a Lambda layer: the lambda's marshalled bytecode.
    evil = keras.saving.serialize_keras_object(keras.layers.Lambda(lambda x: x, name="evil"))
    assert evil["config"]["function"]["class_name"] == "__lambda__"

    def add_lambda(config):
        layers = config["config"]["layers"]
        evil.update(name="evil", inbound_nodes=layers[-1]["inbound_nodes"])
        layers[-1]["inbound_nodes"] = [{"args": [{"class_name": "__keras_tensor__", "config": {
            "shape": [None, 3], "dtype": "float32", "keras_history": ["evil", 0, 0]}}],
            "kwargs": {}}]
        layers.insert(len(layers) - 1, evil)

    _rewrite_config(copy, add_lambda)
    _forbid_keras_loading(monkeypatch)
    with pytest.raises(DegenetError, match="Lambda layer, which would run code"):
        degenet.load(copy)


def test_an_unknown_class_is_refused(copy, monkeypatch):
    def rename(config):
        config["config"]["layers"][1]["class_name"] = "TotallyHarmlessLayer"
        config["config"]["layers"][1]["module"] = "my_package.layers"

    _rewrite_config(copy, rename)
    _forbid_keras_loading(monkeypatch)
    with pytest.raises(DegenetError, match="class 'TotallyHarmlessLayer' from module "
                                           "'my_package.layers', which degenet never writes"):
        degenet.load(copy)


def test_an_unknown_activation_or_member_is_refused(copy, monkeypatch):
    def activation(config):
        config["config"]["layers"][-1]["config"]["activation"] = "my_package.evil"

    _rewrite_config(copy, activation)
    _forbid_keras_loading(monkeypatch)
    with pytest.raises(DegenetError, match="activation 'my_package.evil', which degenet never"):
        degenet.load(copy)
    with zipfile.ZipFile(copy / ARCHIVE, "a") as bundle:
        bundle.writestr("assets/payload.py", "print('hello')")
    _resign(copy)
    with pytest.raises(DegenetError, match="holds files degenet never writes: assets/payload.py"):
        degenet.load(copy)


def test_keras_safe_mode_is_the_second_line(copy):
    """Even past degenet's check, Keras's safe mode refuses code: the same crafted file."""
    from degenet._keras import keras

    def swap(config):
        config["config"]["layers"][-1]["class_name"] = "Lambda"
        config["config"]["layers"][-1]["config"]["function"] = {
            "class_name": "__lambda__", "config": {"code": "AA==", "defaults": None,
                                                   "closure": None}}

    _rewrite_config(copy, swap)
    with pytest.raises(ValueError, match="deserialization of a `Lambda` layer .* arbitrary "
                                         "code execution"):
        keras.saving.load_model(copy / ARCHIVE, safe_mode=True, compile=False)


def test_a_modified_archive_is_refused(copy, monkeypatch):
    archive = copy / ARCHIVE
    content = bytearray(archive.read_bytes())
    content[len(content) // 2] ^= 0xFF
    archive.write_bytes(bytes(content))
    _forbid_keras_loading(monkeypatch)
    with pytest.raises(DegenetError, match="does not match the sha256 recorded in degenet.json: "
                                           "it was truncated or modified"):
        degenet.load(copy)


def test_a_truncated_archive_is_refused(copy):
    archive = copy / ARCHIVE
    archive.write_bytes(archive.read_bytes()[:200])
    with pytest.raises(DegenetError, match="truncated or modified"):
        degenet.load(copy)


def test_a_truncated_archive_with_a_matching_hash_is_still_refused(copy):
    archive = copy / ARCHIVE
    archive.write_bytes(archive.read_bytes()[:200])
    _resign(copy)
    with pytest.raises(DegenetError, match="not a readable Keras archive"):
        degenet.load(copy)


def test_a_truncated_sidecar_is_refused(copy):
    sidecar = copy / SIDECAR
    sidecar.write_text(sidecar.read_text()[:100])
    with pytest.raises(DegenetError, match="degenet.json is not valid JSON .*truncated"):
        degenet.load(copy)


def test_another_format_version_is_refused(copy):
    sidecar = json.loads((copy / SIDECAR).read_text())
    sidecar["format_version"] = FORMAT_VERSION + 1
    (copy / SIDECAR).write_text(json.dumps(sidecar))
    with pytest.raises(DegenetError, match=f"model format version {FORMAT_VERSION + 1}; this "
                                           f"degenet reads version {FORMAT_VERSION}; upgrade"):
        degenet.load(copy)


def test_a_folder_that_is_not_a_model_is_refused(tmp_path):
    with pytest.raises(DegenetError, match="model not found"):
        degenet.load(tmp_path / "nothing")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DegenetError, match="is not a degenet model"):
        degenet.load(tmp_path)


def test_saving_never_overwrites_other_files(tmp_path, saved, table):
    (tmp_path / "notes.txt").write_text("mine")
    fitted = _fit(table, "spend", "linear")
    with pytest.raises(DegenetError, match=r"holds other files \(notes.txt\)"):
        fitted.save(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_reading_the_sidecar_never_opens_the_archive(copy, monkeypatch):
    (copy / ARCHIVE).write_bytes(b"not a zip at all")
    _forbid_keras_loading(monkeypatch)
    sidecar = read_sidecar(copy)
    assert sidecar["model"] == "mlp:6" and sidecar["classes"] == ["blue", "green", "red"]


# -- the command line ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def csv_table(tmp_path_factory, table):
    path = tmp_path_factory.mktemp("cli") / "people.csv"
    table.to_csv(path, index=False)
    return path


def _unwrapped(text: str) -> str:
    """Console output with rich's line wrapping undone."""
    return text.replace("\n", "")


def _invoke(*args):
    from typer.testing import CliRunner

    from degenet.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_fit_save_predict_inspect(tmp_path, table, csv_table):
    model = tmp_path / "colour-model"
    fitted = _invoke("fit", csv_table, "-t", "colour", "-m", "softmax", "--features",
                     "age,children", "--max-epochs", "15", "--learning-rate", "0.02",
                     "--save", model, "--quiet")
    assert fitted.exit_code == 0, fitted.output
    assert f"model saved to {model}" in _unwrapped(fitted.stderr)

    new = table[["age", "children"]].iloc[::-1]  # reversed rows, no target column
    new_path = tmp_path / "new.parquet"
    new.to_parquet(new_path, index=False)
    out = tmp_path / "predictions.csv"
    predicted = _invoke("predict", model, new_path, "-o", out)
    assert predicted.exit_code == 0, predicted.output
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["prediction", "proba_blue", "proba_green", "proba_red"]
    loaded = degenet.load(model)
    expected = loaded.predict_proba(table[["age", "children"]])[::-1]  # the input's order
    np.testing.assert_allclose(frame.iloc[:, 1:].to_numpy(), expected, rtol=1e-6)
    assert list(frame["prediction"]) == list(loaded.predict(table[["age", "children"]])[::-1])

    as_parquet = tmp_path / "predictions.parquet"
    assert _invoke("predict", model, new_path, "-o", as_parquet).exit_code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(as_parquet), frame, check_exact=False)
    wrong = _invoke("predict", model, new_path, "-o", tmp_path / "predictions.xlsx")
    assert wrong.exit_code == 2 and "--output must end in .csv or .parquet" in wrong.stderr

    shown = _invoke("inspect", model)
    assert shown.exit_code == 0, shown.output
    assert "softmax (categorical family, classes blue, green, red)" in shown.stdout
    assert "children" in shown.stdout and "sha256" in shown.stdout
    document = json.loads(_invoke("inspect", model, "--json").stdout)
    assert document["family"] == "categorical" and document["settings"]["max_epochs"] == 15


def test_cli_inspect_never_loads_weights(copy, monkeypatch):
    (copy / ARCHIVE).write_bytes(b"")  # no weights to load at all
    _forbid_keras_loading(monkeypatch)
    shown = _invoke("inspect", copy)
    assert shown.exit_code == 0, shown.output
    assert "mlp:6 (categorical family" in shown.stdout


def test_cli_predict_errors_are_one_line(tmp_path, saved, table):
    new = tmp_path / "new.csv"
    table.drop(columns=["age"]).to_csv(new, index=False)
    result = _invoke("predict", saved, new, "-o", tmp_path / "out.csv")
    assert result.exit_code == 2 and "Traceback" not in result.output
    message = _unwrapped(result.stderr)  # one message, however the console wraps it
    assert message.count("error:") == 1 and "'age'" in message and "missing" in message
    assert not (tmp_path / "out.csv").exists()

    refused = _invoke("predict", tmp_path, new)
    assert refused.exit_code == 2 and "is not a degenet model" in _unwrapped(refused.stderr)


def test_cli_save_refuses_a_busy_folder_before_training(tmp_path, csv_table):
    (tmp_path / "keep.txt").write_text("mine")
    result = _invoke("fit", csv_table, "-t", "spend", "--save", tmp_path, "--quiet")
    assert result.exit_code == 2 and "holds other files (keep.txt)" in _unwrapped(result.stderr)
    assert result.stdout == ""  # refused before any training output


@pytest.mark.parametrize("target, model", [("spend", "linear"), ("colour", "softmax")])
def test_an_exact_fit_keeps_its_float64_optimum(tmp_path, table, target, model):
    fitted = _fit(table, target, model, solver="exact")
    fitted.save(tmp_path / "model")
    loaded = degenet.load(tmp_path / "model")
    for ours, theirs in zip(loaded.exact_weights(), fitted.exact_weights()):
        np.testing.assert_array_equal(ours, theirs)  # JSON numbers keep every float64 digit
    path = tmp_path / "model" / SIDECAR
    sidecar = json.loads(path.read_text())
    sidecar["exact_weights"]["beta"] = sidecar["exact_weights"]["beta"][:1]
    path.write_text(json.dumps(sidecar))
    with pytest.raises(DegenetError, match="exact_weights that are not 2 x"):
        degenet.load(tmp_path / "model")
