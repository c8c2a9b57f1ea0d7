"""The ``model.keras`` archive of a model folder: its checksum and the classes it may name."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from degenet.errors import DegenetError
from degenet.modelfile.schema import load_json

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


# Largest members before anything is inflated: Keras's metadata is ~70 bytes and a
# network's config ~1.3 kB a layer; the weights' bound comes from the sidecar's shapes.
MAX_MEMBER_BYTES = {"metadata.json": 64 << 10, "config.json": 4 << 20}
MAX_WEIGHTS_OVERHEAD = 1 << 20  # HDF5's own structure: ~19 kB for a 3-layer network


def check_archive(archive: Path, *, max_weights_bytes: int | None = None) -> dict:
    """Refuse a ``.keras`` archive degenet would not write; return its ``config.json``.

    Before anything is inflated, the zip's directory must list only the three members
    Keras writes, each once, within its size (``max_weights_bytes`` for the weights). The
    config is then read (depth-limited, see :mod:`degenet.modelfile.schema`) and every
    class, module, registered name and activation it names checked against the short list
    degenet writes, with their types checked first. Keras's safe mode already refuses
    ``Lambda`` layers that carry code; this check also refuses custom or unknown classes
    and modules before Keras resolves any name.
    """
    try:
        with zipfile.ZipFile(archive) as bundle:
            infos = bundle.infolist()
            _check_members(archive, infos, max_weights_bytes)
            raw = bundle.read("config.json")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, EOFError,
            NotImplementedError, RuntimeError):
        raise DegenetError(f"{archive} is not a readable Keras archive (a zip with "
                           "config.json)") from None
    config = load_json(raw, f"{archive} (config.json)")
    if not isinstance(config, dict):
        raise DegenetError(f"{archive}: config.json holds a {type(config).__name__}, not a "
                           "Keras model's configuration; refusing to load it")
    for node in _config_nodes(config):
        _check_node(archive, node)
    return config


def _check_members(archive: Path, infos: list, max_weights_bytes: int | None) -> None:
    names = [info.filename for info in infos]
    unknown = sorted(set(names) - ARCHIVE_MEMBERS)
    if unknown:
        raise DegenetError(f"{archive} holds files degenet never writes: "
                           f"{', '.join(unknown)}; refusing to load it")
    if len(set(names)) != len(names):
        raise DegenetError(f"{archive} lists a member twice; refusing to load it")
    limits = dict(MAX_MEMBER_BYTES)
    if max_weights_bytes is not None:
        limits["model.weights.h5"] = max_weights_bytes
    for info in infos:
        limit = limits.get(info.filename)
        if limit is not None and info.file_size > limit:
            raise DegenetError(
                f"{archive}: {info.filename} inflates to {info.file_size:,} bytes; a degenet "
                f"model's is at most {limit:,}. Refusing to read it")


def _check_node(archive: Path, node: dict) -> None:
    name, module = node.get("class_name"), node.get("module")
    registered = node.get("registered_name")
    config = node.get("config")
    activation = config.get("activation") if isinstance(config, dict) else None
    for label, value in (("class", name), ("module", module), ("registered name", registered),
                         ("activation", activation)):
        if value is not None and not isinstance(value, str):
            raise DegenetError(f"{archive} gives a {label} as a {type(value).__name__} "
                               f"({str(value)[:60]!r}); degenet writes names: refusing to load it")
    if activation is not None and activation not in ALLOWED_ACTIVATIONS:
        raise DegenetError(f"{archive} asks for the activation {activation!r}, which "
                           "degenet never writes; refusing to load it")
    if name == "Lambda":
        raise DegenetError(
            f"{archive} asks for a Lambda layer, which would run code stored in the file; "
            "degenet never writes one: refusing to load it")
    if name in OPTIMIZER_CLASSES and module == OPTIMIZER_MODULE:
        return
    if name not in ALLOWED_CLASSES or (module is not None and module not in ALLOWED_MODULES):
        raise DegenetError(
            f"{archive} asks for class {name!r} from module {module!r}, which degenet never "
            f"writes (allowed: {', '.join(sorted(ALLOWED_CLASSES))}); refusing to load it")
    if registered not in (None, name):
        raise DegenetError(f"{archive} asks for the registered object {registered!r}; "
                           "refusing to load it")


def _config_nodes(value):
    """Every dict with a ``class_name`` inside a Keras config, depth first (no recursion:
    the config's depth is bounded, but a long list of layers must not be either)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "class_name" in item:
                yield item
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
