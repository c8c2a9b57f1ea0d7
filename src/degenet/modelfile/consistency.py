"""The sidecar checked against the archive it vouches for, before Keras reads the archive.

The sidecar says what the network is (inputs, hidden widths, outputs, intercept, family);
the archive's ``config.json`` says what it computes. They must agree layer by layer: a
sidecar whose family was edited from gaussian to poisson would otherwise make a linear
network's output read as ``exp(eta)``. The checks read the config as plain JSON (no Keras
object is built) and ask the family for its head (:attr:`Family.activation`) and its
number of outputs, never branching on its name.
"""

from __future__ import annotations

from pathlib import Path

from degenet.errors import DegenetError

FLOAT32_BYTES = 4
# Copies of each weight a model file may hold: the weight, and its optimizer's slots when
# the state is saved (fit.save(optimizer_state=True): Adam keeps 2, with AMSGrad 3), twice
# over for HDF5's chunking.
WEIGHT_COPIES = 2 * (1 + 3)


def weights_bound(sidecar: dict, overhead: int) -> int:
    """The most bytes the weights of the network the sidecar describes can take."""
    widths = [sidecar["n_features"], *sidecar["hidden"], sidecar["n_outputs"]]
    n_params = sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(widths, widths[1:]))
    return overhead + WEIGHT_COPIES * FLOAT32_BYTES * n_params


def check_consistent(sidecar: dict, config: dict, archive: Path, *, family, spec) -> None:
    """Refuse a sidecar that disagrees with itself or with the archive's layers.

    ``family`` and ``spec`` are the sidecar's family and model spec, already parsed.
    """
    _check_sidecar(sidecar, archive.parent, family, spec)
    layers = _layers(config, archive)
    inputs = {layer["config"].get("name"): layer for layer in layers
              if layer.get("class_name") == "InputLayer"}
    dense = [layer["config"] for layer in layers if layer.get("class_name") == "Dense"]
    heads = [layer["config"] for layer in layers if layer.get("class_name") == "Activation"]
    offset = sidecar.get("offset") is not None
    if set(inputs) != ({"features", "offset"} if offset else {"features"}) or len(heads) != 1 \
            or not dense:
        raise DegenetError(f"{archive} is not the degenet network its sidecar describes (inputs "
                           f"{sorted(map(str, inputs))}, Dense layers, one activation head"
                           f"{', an offset' if offset else ''}); refusing to load it")
    shape = (inputs["features"].get("config") or {}).get("batch_shape")
    found = {
        "inputs": shape[-1] if isinstance(shape, list) and shape else None,
        "hidden widths": [layer.get("units") for layer in dense[:-1]],
        "outputs": dense[-1].get("units"),
        "intercept": dense[-1].get("use_bias"),
        "head": heads[0].get("activation"),
    }
    said = {"inputs": sidecar["n_features"], "hidden widths": list(spec.hidden),
            "outputs": sidecar["n_outputs"], "intercept": sidecar["intercept"],
            "head": family.activation}
    for what, value in said.items():
        if found[what] != value:
            raise DegenetError(
                f"{archive.parent}: the sidecar says {what} {value!r} (model "
                f"{sidecar['model']!r}, family {sidecar['family']!r}); the archive has "
                f"{found[what]!r}. The sidecar was edited or belongs to another model; "
                "refusing to load it")


def _check_sidecar(sidecar: dict, folder: Path, family, spec) -> None:
    """The sidecar's own keys agree: spec and family, hidden widths, classes and outputs."""
    if list(spec.hidden) != sidecar["hidden"]:
        raise DegenetError(f"{folder}: the sidecar's model {sidecar['model']!r} has hidden "
                           f"widths {list(spec.hidden)}; its 'hidden' says {sidecar['hidden']}")
    implied = spec.family_for(family)
    if implied is not family:
        raise DegenetError(f"{folder}: the sidecar's model {sidecar['model']!r} trains the "
                           f"{implied.name} family; its 'family' says {family.name!r}")
    classes = sidecar["classes"]
    if family.is_classifier != (classes is not None):
        raise DegenetError(
            f"{folder}: the {family.name} family " + ("needs" if family.is_classifier
                                                      else "has no")
            + f" class labels; the sidecar's 'classes' is {classes!r}")
    n_outputs = family.n_outputs(None if classes is None else len(classes))
    if n_outputs != sidecar["n_outputs"]:
        raise DegenetError(f"{folder}: {family.name} with classes {classes!r} has {n_outputs} "
                           f"output(s); the sidecar's 'n_outputs' says {sidecar['n_outputs']}")
    reference = sidecar.get("reference")
    if reference is not None and (classes is None or reference not in classes):
        raise DegenetError(f"{folder}: the sidecar's reference class {reference!r} is not one "
                           f"of its classes {classes!r}")
    if sidecar.get("encoding", {}).get("intercept", True) is False and sidecar["intercept"]:
        raise DegenetError(f"{folder}: the sidecar fits an intercept its formula removes")


def _layers(config: dict, archive: Path) -> list[dict]:
    layers = (config.get("config") or {}).get("layers") if isinstance(config, dict) else None
    if not isinstance(layers, list) or not all(
            isinstance(layer, dict) and isinstance(layer.get("config"), dict) for layer in layers):
        raise DegenetError(f"{archive}: config.json has no list of layers; refusing to load it")
    return layers
