"""A saved model keeps training with Keras: compiled, its optimizer's configuration saved,
its state when asked, loadable on any backend."""

import json
import warnings
import zipfile

import numpy as np
import pytest

import degenet
from degenet.datasets import balloons
from degenet.errors import DegenetError
from degenet.modelfile.archive import check_archive
from degenet.modelfile.compiled import portable_optimizer

FEATURES = ["relationship", "children", "age"]


@pytest.fixture(scope="module")
def fitted():
    people = balloons(1000, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = degenet.fit(people, target="color", model="logistic", features=FEATURES)
    return fit, people[FEATURES].to_numpy(np.float32), people["color"].to_numpy(np.float32)


def test_the_loaded_model_is_compiled_with_the_fits_optimizer(fitted, tmp_path):
    fit, X, y = fitted
    fit.save(tmp_path / "model")
    model = degenet.load(tmp_path / "model").model
    assert type(model.optimizer).__name__ == "Adam"
    assert float(np.asarray(model.optimizer.learning_rate)) == pytest.approx(
        fit.settings.learning_rate)
    assert model.loss == "binary_crossentropy"
    model.fit(X, y, epochs=1, batch_size=250, verbose=0)  # no "You must call compile()"
    assert int(model.optimizer.iterations) == 4
    sidecar = json.loads((tmp_path / "model" / "degenet.json").read_text())
    assert sidecar["optimizer"] == {"class": "Adam", "learning_rate": 0.01, "state": "fresh"}


def test_the_optimizer_state_is_saved_when_asked(fitted, tmp_path):
    fit, X, y = fitted
    fit.model.fit(X, y, epochs=1, batch_size=100, verbose=0)  # the user trains on
    source = fit.model.optimizer
    fit.save(tmp_path / "fresh")
    fit.save(tmp_path / "state", optimizer_state=True)
    fresh = degenet.load(tmp_path / "fresh").model.optimizer
    state = degenet.load(tmp_path / "state").model.optimizer
    assert int(fresh.iterations) == 0
    assert int(state.iterations) == int(source.iterations) == 10
    for ours, theirs in zip(state.variables, source.variables):
        np.testing.assert_array_equal(np.asarray(ours.value), np.asarray(theirs.value))
    sidecar = json.loads((tmp_path / "state" / "degenet.json").read_text())
    assert sidecar["optimizer"]["state"] == "saved"


def _rewrite_config(archive, change):
    with zipfile.ZipFile(archive) as bundle:
        members = {info.filename: bundle.read(info) for info in bundle.infolist()}
    config = json.loads(members["config.json"])
    change(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)


def test_a_backends_own_optimizer_class_is_written_as_keras_public_one(fitted, tmp_path):
    fit, _, _ = fitted
    fit.save(tmp_path / "model")
    archive = tmp_path / "model" / "model.keras"

    def as_torch_writes_it(config):
        config["compile_config"]["optimizer"]["module"] = (
            "keras.src.backend.torch.optimizers.torch_adam")

    _rewrite_config(archive, as_torch_writes_it)
    portable_optimizer(archive)
    with zipfile.ZipFile(archive) as bundle:
        optimizer = json.loads(bundle.read("config.json"))["compile_config"]["optimizer"]
    assert (optimizer["module"], optimizer["class_name"]) == ("keras.optimizers", "Adam")
    check_archive(archive)


def test_an_unknown_optimizer_class_is_refused_unread(fitted, tmp_path):
    fit, _, _ = fitted
    fit.save(tmp_path / "model")
    archive = tmp_path / "model" / "model.keras"

    def evil(config):
        config["compile_config"]["optimizer"].update(module="evil.module", class_name="Evil")

    _rewrite_config(archive, evil)
    with pytest.raises(DegenetError, match="class 'Evil' from module 'evil.module'"):
        check_archive(archive)


def test_a_model_saved_without_compile_configuration_is_compiled_on_load(fitted, tmp_path):
    """Folders written before archives held the optimizer: compiled from the sidecar."""
    from degenet.modelfile.archive import file_hash

    fit, X, y = fitted
    fit.save(tmp_path / "model")
    archive = tmp_path / "model" / "model.keras"
    _rewrite_config(archive, lambda config: config.pop("compile_config"))
    sidecar_path = tmp_path / "model" / "degenet.json"
    sidecar = json.loads(sidecar_path.read_text())
    sidecar["keras_sha256"] = file_hash(archive)
    sidecar_path.write_text(json.dumps(sidecar))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras: the archive's optimizer variables go unused
        model = degenet.load(tmp_path / "model").model
    assert model.loss == "binary_crossentropy"
    model.fit(X, y, epochs=1, batch_size=500, verbose=0)
    assert int(model.optimizer.iterations) == 2
