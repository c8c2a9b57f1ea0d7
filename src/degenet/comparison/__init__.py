"""Is the network worth it? Models scored alike on the same held-out rows, and verdicts."""

from degenet._lazy import exports

__getattr__, __dir__, __all__ = exports(__name__, {
    "compare": "comparison", "Comparison": "comparison", "score": "metrics",
    "unit_deviance": "metrics", "Verdict": "verdict", "judge": "verdict"})
