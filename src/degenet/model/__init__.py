"""The model: a family (head and loss) and a spec (hidden layers) make one Keras network."""

from degenet._lazy import exports

__getattr__, __dir__, __all__ = exports(__name__, {
    "Family": "family", "Target": "family", "FAMILIES": "families", "get_family": "families",
    "infer_family": "families", "ModelSpec": "specs", "parse_spec": "specs",
    "parse_specs": "specs", "build_network": "network"})
