"""Several processes, one model: launching, joining, all-reducing, and failing cleanly."""

from degenet._lazy import exports

__getattr__, __dir__, __all__ = exports(__name__, {
    "Cluster": "cluster", "ClusterError": "environment", "ClusterSpec": "environment",
    "detect": "environment", "current": "runtime", "join": "runtime", "finish": "runtime",
    "launch_local": "launch"})
