"""The ``model.keras`` archive of a model folder: its checksum and the classes it may name."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from degenet.errors import DegenetError

# Every class a degenet network's config.json names. Anything else is refused unread.
ALLOWED_CLASSES = frozenset({
    "Functional", "InputLayer", "Dense", "Activation", "Add", "DTypePolicy",
    "FloatDTypePolicy", "Zeros", "GlorotUniform", "__keras_tensor__"})
# The activations degenet's layers use (hidden ReLU, each family's inverse link).
ALLOWED_ACTIVATIONS = frozenset({"linear", "relu", "sigmoid", "softmax", "exponential"})
ARCHIVE_MEMBERS = frozenset({"metadata.json", "config.json", "model.weights.h5"})
# Modules the allowed classes come from (``module`` keys of the config).
ALLOWED_MODULES = ("keras", "keras.layers", "keras.initializers", "keras.src.models.functional",
                   "keras.models")
# The compile configuration's optimizer (degenet.modelfile.compiled): Keras's own classes.
OPTIMIZER_CLASSES = frozenset({
    "Adam", "AdamW", "Adamax", "Adadelta", "Adafactor", "Adagrad", "Ftrl", "Lamb", "Lion",
    "Nadam", "RMSprop", "SGD", "Muon"})
OPTIMIZER_MODULE = "keras.optimizers"




def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_archive(archive: Path) -> None:
    """Refuse a ``.keras`` archive whose config names a class degenet never writes.

    Keras's safe mode already refuses ``Lambda`` layers that carry code; this check also
    refuses custom or unknown classes and modules before Keras resolves any name.
    """
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = set(bundle.namelist())
            config = json.loads(bundle.read("config.json"))
    except (zipfile.BadZipFile, KeyError, OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise DegenetError(f"{archive} is not a readable Keras archive (a zip with "
                           "config.json)") from None
    if not members <= ARCHIVE_MEMBERS:
        raise DegenetError(f"{archive} holds files degenet never writes: "
                           f"{', '.join(sorted(members - ARCHIVE_MEMBERS))}; refusing to load it")
    for node in _config_nodes(config):
        name, module = node.get("class_name"), node.get("module")
        activation = (node.get("config") or {}).get("activation")
        if activation is not None and activation not in ALLOWED_ACTIVATIONS:
            raise DegenetError(f"{archive} asks for the activation {activation!r}, which "
                               "degenet never writes; refusing to load it")
        if name == "Lambda":
            raise DegenetError(
                f"{archive} asks for a Lambda layer, which would run code stored in the file; "
                "degenet never writes one: refusing to load it")
        if name in OPTIMIZER_CLASSES and module == OPTIMIZER_MODULE:
            continue
        if name not in ALLOWED_CLASSES or (module is not None and module not in ALLOWED_MODULES):
            raise DegenetError(
                f"{archive} asks for class {name!r} from module {module!r}, which degenet never "
                f"writes (allowed: {', '.join(sorted(ALLOWED_CLASSES))}); refusing to load it")
        if node.get("registered_name") not in (None, name):
            raise DegenetError(f"{archive} asks for the registered object "
                               f"{node['registered_name']!r}; refusing to load it")


def _config_nodes(value):
    """Every dict with a ``class_name`` inside a Keras config, depth first."""
    if isinstance(value, dict):
        if "class_name" in value:
            yield value
        for item in value.values():
            yield from _config_nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from _config_nodes(item)
