"""Per-row sample weights: checked once, at the boundary of ``degenet.fit``.

Weights scale each row's loss (``sum_i w_i loss_i / sum_i w_i``) and count as frequencies
in the inference (std errors, log-likelihood), as in scikit-learn and statsmodels' GLM
``freq_weights``. Gradient descent weights each row's loss (``training.row_weights``); the
exact solver and the inference take them as they are.
"""

from __future__ import annotations

import numpy as np

from degenet.errors import DegenetError


def check_sample_weight(sample_weight, n_samples: int, *, dropped_rows: int = 0
                        ) -> np.ndarray | None:
    """``sample_weight`` as float64 ``(n_samples,)``, or None; errors name what is wrong."""
    if sample_weight is None:
        return None
    if dropped_rows:
        raise DegenetError(
            f"sample_weight cannot be matched to the rows after missing='drop' removed "
            f"{dropped_rows} row(s); drop them before fitting")
    try:
        weight = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise DegenetError("sample_weight must be numbers, one per row; received "
                           f"{type(sample_weight).__name__}") from None
    if weight.shape != (n_samples,):
        raise DegenetError(f"sample_weight must have shape ({n_samples},), one per row; "
                           f"received shape {weight.shape}")
    if not np.isfinite(weight).all() or (weight < 0).any() or weight.sum() <= 0:
        raise DegenetError("sample_weight must be finite and >= 0, not all zero; received "
                           f"min {np.nanmin(weight):g}, sum {np.nansum(weight):g}")
    return weight
