"""Training by gradient descent: settings, the backend's route, and what it did."""

from degenet._lazy import exports

__getattr__, __dir__, __all__ = exports(__name__, {
    "train": "loop", "ProgressCallback": "settings", "TrainResult": "settings",
    "TrainSettings": "settings"})
