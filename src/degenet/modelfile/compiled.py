"""The saved network as a Keras user keeps training it: compiled, optimizer and all.

The archive holds the network compiled with the fit's optimizer (class and configuration:
the learning rate degenet chose included) and the family's Keras loss on the mean
(``mean_squared_error``, ``binary_crossentropy``, ``sparse_categorical_crossentropy``,
``poisson``), so ``degenet.load(path).model.fit(X, y)`` trains on with Keras.

The optimizer's state (Adam's moments and step count) is saved only when asked
(``fit.save(path, optimizer_state=True)``), and it is the state of ``fit.model``'s own
optimizer: after degenet's training that optimizer is fresh, because degenet trains on
standardized columns and folds the scaling into the weights afterwards; Adam's first
moment would map onto the folded weights, its second moment would not (it holds squares of
gradients whose cross terms were never kept). Once the user has trained ``fit.model``
further with Keras, its state is real and is what is saved. The sidecar's ``optimizer``
key says which (``"state": "saved"`` or ``"fresh"``).

Keras records a backend's own optimizer class on torch
(``keras.src.backend.torch.optimizers.torch_adam.TorchAdam``), which another backend cannot
build; the archive names the public class in ``keras.optimizers`` instead, as JAX and
TensorFlow write it, so a model saved on one backend loads on every other.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path

from degenet._keras import keras
from degenet.errors import DegenetError
from degenet.modelfile.archive import OPTIMIZER_CLASSES, OPTIMIZER_MODULE
from degenet.model.families import get_family
from degenet.train.settings import TrainSettings, make_optimizer


def compiled_copy(fitted, *, optimizer_state: bool) -> tuple:
    """A copy of ``fitted.model`` compiled as it trains on, its optimizer's state copied
    when asked; and the sidecar's ``optimizer`` entry."""
    copy = keras.Model.from_config(fitted.model.get_config())
    copy.set_weights([keras.ops.convert_to_numpy(w.value) for w in fitted.model.weights])
    source = getattr(fitted.model, "optimizer", None)
    optimizer = _optimizer_like(source, fitted.settings)
    copy.compile(optimizer=optimizer, loss=fitted.family.keras_loss)
    saved = optimizer_state and source is not None and source.built
    # Built either way: an unbuilt optimizer saves 2 of its variables, and Keras warns on
    # loading that they do not match the built one's.
    optimizer.build(copy.trainable_variables)
    if saved:
        for target, value in zip(optimizer.variables, source.variables):
            target.assign(keras.ops.convert_to_numpy(value.value))
    return copy, {"class": type(optimizer).__name__.removeprefix("Torch"),
                  "learning_rate": float(f"{optimizer.get_config()['learning_rate']:.7g}"),
                  "state": "saved" if saved else "fresh"}


def _optimizer_like(source, settings: TrainSettings):
    """A fresh optimizer of the fit's class and configuration."""
    if source is not None:
        return type(source).from_config(source.get_config())
    return make_optimizer(settings)


def portable_optimizer(archive: Path) -> None:
    """Name the optimizer by its public class in ``keras.optimizers`` (see the module)."""
    with zipfile.ZipFile(archive) as bundle:
        config = json.loads(bundle.read("config.json"))
        optimizer = (config.get("compile_config") or {}).get("optimizer")
        if not isinstance(optimizer, dict) or optimizer.get("module") == OPTIMIZER_MODULE:
            return
        name = str(optimizer.get("class_name", "")).removeprefix("Torch")
        if name not in OPTIMIZER_CLASSES:
            raise DegenetError(f"cannot save the optimizer {optimizer.get('class_name')!r}: "
                               "degenet saves Keras's own optimizers only")
        optimizer.update(module=OPTIMIZER_MODULE, class_name=name, registered_name=None)
        members = {info: bundle.read(info) for info in bundle.infolist()}
    with tempfile.NamedTemporaryFile(dir=archive.parent, suffix=".keras", delete=False) as out:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
            for info, data in members.items():
                if info.filename == "config.json":
                    data = json.dumps(config).encode()
                bundle.writestr(info, data)
    shutil.move(out.name, archive)


def compile_loaded(model, sidecar: dict) -> None:
    """Compile a model loaded from a folder written before archives held their compile
    configuration: the sidecar's optimizer and the family's loss, fresh state."""
    if getattr(model, "optimizer", None) is not None and model.compiled:
        return
    settings = TrainSettings(**(sidecar.get("settings") or {}))
    model.compile(optimizer=make_optimizer(settings),
                  loss=get_family(sidecar["family"]).keras_loss)
