"""Make tests/exact/exact_reference.json: reference optima for tests/exact/test_solve.py.

Run once (``.venv/bin/python tests/exact/make_exact_reference.py``, about half a minute); the
tests only read the file. For each case of tests/exact/exact_cases.py it stores statsmodels'
estimates and std errors (float64, tight tolerances) and, where the data are small enough,
an independent reference computed with mpmath at 60 digits:

* gaussian: the normal equations solved exactly enough (60 digits leave > 40 after the
  squared condition number), ``sigma^2 = RSS / (n - q)``;
* bernoulli, poisson: Newton's method to 1e-40, std errors from the inverse Hessian.

The reference a test checks against is mpmath's where it exists, else statsmodels'.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import mpmath as mp

sys.path.insert(0, str(Path(__file__).parent))
import exact_cases  # noqa: E402

mp.mp.dps = 60
MPMATH_MAX_CELLS = 6000  # rows x columns: Newton in mpmath stays within seconds


def _matrix(X, intercept):
    rows = [[mp.mpf(float(v)) for v in row] + ([mp.mpf(1)] if intercept else []) for row in X]
    return mp.matrix(rows)


def mp_least_squares(X, y, intercept):
    A, Y = _matrix(X, intercept), mp.matrix([mp.mpf(float(v)) for v in y])
    inverse = mp.inverse(A.T * A)
    beta = inverse * (A.T * Y)
    residual = Y - A * beta
    sigma2 = sum(r**2 for r in residual) / (A.rows - A.cols)
    return ([beta[i] for i in range(A.cols)],
            [mp.sqrt(sigma2 * inverse[i, i]) for i in range(A.cols)])


def mp_newton(family, X, y, intercept):
    A, n = _matrix(X, intercept), len(y)
    q = A.cols
    beta = mp.matrix(q, 1)
    for _ in range(200):
        eta = A * beta
        if family == "bernoulli":
            mu = [1 / (1 + mp.exp(-eta[i])) for i in range(n)]
            w = [m * (1 - m) for m in mu]
        else:
            mu = [mp.exp(eta[i]) for i in range(n)]
            w = mu
        gradient = mp.matrix([sum(A[i, j] * (mu[i] - y[i]) for i in range(n)) for j in range(q)])
        hessian = mp.matrix(q, q)
        for j in range(q):
            for k in range(j, q):
                hessian[j, k] = hessian[k, j] = sum(A[i, j] * A[i, k] * w[i] for i in range(n))
        step = mp.lu_solve(hessian, gradient)
        beta -= step
        if max(abs(s) for s in step) < mp.mpf(10) ** -40:
            break
    inverse = mp.inverse(hessian)
    return [beta[i] for i in range(q)], [mp.sqrt(inverse[i, i]) for i in range(q)]


def main() -> None:
    out = {}
    for name, (x, y) in exact_cases.synthetic_polynomials().items():
        out[name] = {"data": {"x": x.tolist(), "y": y.tolist()}}
    exact_cases.REFERENCE.parent.mkdir(exist_ok=True)
    exact_cases.REFERENCE.write_text(json.dumps(out))  # load() reads the stored data
    for name in exact_cases.CASES:
        family, X, y, intercept = exact_cases.load(name)
        entry = out.setdefault(name, {})
        entry["family"], entry["intercept"] = family, intercept
        params, bse = exact_cases.statsmodels_fit(name)
        entry["statsmodels"] = {"estimate": params.tolist(), "std_error": bse.tolist()}
        if family == "gaussian":
            estimate, std_error = mp_least_squares(X, y, intercept)
        elif family in ("bernoulli", "poisson") and X.size <= MPMATH_MAX_CELLS:
            estimate, std_error = mp_newton(family, X, [mp.mpf(float(v)) for v in y], intercept)
        else:
            estimate = None
        if estimate is not None:
            entry["mpmath"] = {"estimate": [mp.nstr(v, 25) for v in estimate],
                               "std_error": [mp.nstr(v, 25) for v in std_error]}
        print(name, "mpmath" if estimate is not None else "statsmodels only", flush=True)
    exact_cases.REFERENCE.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
