"""Training by gradient descent: settings, the backend's route, and what it did."""

from degenet.train.loop import train
from degenet.train.settings import ProgressCallback, TrainResult, TrainSettings

__all__ = ["ProgressCallback", "TrainResult", "TrainSettings", "train"]
