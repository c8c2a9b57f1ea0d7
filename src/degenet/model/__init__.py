"""The model: a family (head and loss) and a spec (hidden layers) make one Keras network."""

from degenet.model.families import FAMILIES, get_family, infer_family
from degenet.model.family import Family, Target
from degenet.model.network import build_network
from degenet.model.specs import ModelSpec, parse_spec, parse_specs

__all__ = ["FAMILIES", "Family", "ModelSpec", "Target", "build_network", "get_family",
           "infer_family", "parse_spec", "parse_specs"]
