"""Digits of agreement of degenet's exact solver with the stored reference optima.

    .venv/bin/python bench/agreement.py

For each case of tests/exact/exact_cases.py: the reference (mpmath at 60 digits where stored,
else statsmodels at tight tolerances), and the significant digits on which degenet's
estimates and std errors agree with it: ``min over parameters of -log10(|a - b| / |b|)``.
statsmodels' own digits against the mpmath reference are printed beside, for the peer.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "exact"))
import exact_cases  # noqa: E402

from degenet.exact.solve import solve  # noqa: E402


def digits(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(divide="ignore"):
        return float(np.min(-np.log10(np.abs(a - b) / np.abs(b) + 1e-17)))


def main() -> None:
    head = (f"{'case':<27}{'family':<12}{'n x p':>10}{'cond':>10}  {'method':<26}{'reference':<12}"
            f"{'coef':>6}{'se':>6}  {'sm coef':>8}{'sm se':>6}{'seconds':>9}")
    print(head)
    print("-" * len(head))
    for name in exact_cases.CASES:
        family, X, y, intercept = exact_cases.load(name)
        stored = exact_cases.reference(name)
        source = "mpmath" if "mpmath" in stored else "statsmodels"
        ref = stored[source]
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            solution = solve(family, X, y, intercept=intercept)
        seconds = time.perf_counter() - start
        estimate = np.vstack([solution.beta, solution.alpha[None]]) if intercept else solution.beta
        if family == "categorical":
            estimate = estimate[:, 1:]
        estimate = estimate.ravel(order="F")
        std_error = np.sqrt(np.diag(solution.covariance))
        sm = stored["statsmodels"]
        peer = ((f"{digits(sm['estimate'], ref['estimate']):>8.1f}"
                 f"{digits(sm['std_error'], ref['std_error']):>6.1f}") if source == "mpmath"
                else f"{'(ref)':>8}{'':>6}")
        print(f"{name:<27}{family:<12}{f'{X.shape[0]}x{X.shape[1]}':>10}"
              f"{solution.condition_number:>10.2g}  {solution.method:<26}{source:<12}"
              f"{digits(estimate, ref['estimate']):>6.1f}"
              f"{digits(std_error, ref['std_error']):>6.1f}  {peer}{seconds:>9.3f}")


if __name__ == "__main__":
    main()
