"""Is the network worth it? Models scored alike on the same held-out rows, and verdicts."""

from degenet.comparison.comparison import Comparison, compare
from degenet.comparison.metrics import score, unit_deviance
from degenet.comparison.verdict import Verdict, judge

__all__ = ["Comparison", "Verdict", "compare", "judge", "score", "unit_deviance"]
