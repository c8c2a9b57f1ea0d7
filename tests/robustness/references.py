"""Independent references: numpy least squares and statsmodels on the fit's own rows.

Never degenet against itself: each check recomputes the answer another way.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace  # noqa: F401  (used by the cases' checks)

import numpy as np
import pandas as pd

import degenet


def design_ref(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Treatment coding by pandas: numeric as is, text as `col[level]` against the first
    sorted level; degenet's term names."""
    blocks = []
    for column in features:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            blocks.append(values.astype(float).rename(column))
        else:
            levels = sorted(values.unique(), key=lambda v: (type(v).__name__, v))
            for level in levels[1:]:
                blocks.append((values == level).astype(float).rename(f"{column}[{level}]"))
    return pd.concat(blocks, axis=1)


def lstsq_ref(frame, target, features, rows=None) -> pd.Series:
    X = design_ref(frame, features)
    y = frame[target].astype(float)
    if rows is not None:
        X, y = X.iloc[rows], y.iloc[rows]
    # Standardized columns and y / max|y|: no overflow at 1e300, no lost column at 1e-15.
    scale = float(np.max(np.abs(y))) or 1.0
    Z = X.to_numpy(dtype=float)
    mean, sd = Z.mean(0), Z.std(0)
    varying = sd > 0
    A = np.column_stack([(Z[:, varying] - mean[varying]) / sd[varying], np.ones(len(Z))])
    b = np.linalg.lstsq(A, y.to_numpy(dtype=float) / scale, rcond=None)[0]
    beta = np.zeros(Z.shape[1])
    beta[varying] = b[:-1] / sd[varying]
    alpha = b[-1] - float(mean[varying] @ beta[varying])
    return pd.Series(np.r_[beta, alpha], index=list(X.columns) + ["intercept"]) * scale


def lstsq_predict(coef: pd.Series, frame: pd.DataFrame, features) -> np.ndarray:
    X = design_ref(frame, features)
    return X[coef.index[:-1]].to_numpy(dtype=float) @ coef.iloc[:-1].to_numpy() \
        + coef["intercept"]


_sm = None


def sm():
    global _sm
    if _sm is None:
        import statsmodels.api as statsmodels_api

        _sm = statsmodels_api
    return _sm


def glm_ref(frame, target, features, family, rows=None, positive=None) -> pd.Series:
    X = design_ref(frame, features)
    y = frame[target]
    if positive is not None:
        y = (y == positive).astype(float)
    if rows is not None:
        X, y = X.iloc[rows], y.iloc[rows]
    A = sm().add_constant(X, prepend=False).rename(columns={"const": "intercept"})
    fam = {"bernoulli": sm().families.Binomial(), "poisson": sm().families.Poisson()}[family]
    return sm().GLM(y.astype(float), A, family=fam).fit(tol=1e-12).params


def mnlogit_ref(frame, target, features, rows=None) -> pd.DataFrame:
    """Softmax regression by statsmodels' MNLogit: contrasts against the first sorted class."""
    X = design_ref(frame, features)
    y = frame[target]
    if rows is not None:
        X, y = X.iloc[rows], y.iloc[rows]
    classes = sorted(y.unique(), key=str)
    codes = y.map({c: k for k, c in enumerate(classes)})
    A = sm().add_constant(X, prepend=False).rename(columns={"const": "intercept"})
    params = sm().MNLogit(codes.astype(int), A).fit(disp=0, method="newton", maxiter=200).params
    params.columns = classes[1:]
    return params


def coef_problem(fitted, ref: pd.Series, rtol: float = 1e-4) -> str | None:
    table = fitted.coefficients
    est = table["estimate"]
    if est.index.has_duplicates:
        return f"duplicate terms in the coefficient table: {list(est.index)}"
    missing = [t for t in ref.index if t not in est.index]
    if missing:
        return f"terms {missing} absent from the table {list(est.index)}"
    got = est[ref.index].to_numpy(float)
    want = ref.to_numpy(float)
    if not np.all(np.isfinite(got)):
        return f"non-finite estimates {dict(zip(ref.index, got))}"
    atol = rtol * float(np.max(np.abs(want)))
    if not np.allclose(got, want, rtol=rtol, atol=atol):
        worst = int(np.argmax(np.abs(got - want)))
        return (f"{ref.index[worst]}: estimate {got[worst]:.8g}, reference {want[worst]:.8g}")
    return None


def close_problem(got, want, rtol: float = 1e-4, what: str = "prediction") -> str | None:
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got.shape != want.shape:
        return f"{what} shape {got.shape}, expected {want.shape}"
    if not np.all(np.isfinite(got)):
        return f"{what}s hold {int((~np.isfinite(got)).sum())} non-finite value(s), e.g. " \
               f"{got[~np.isfinite(got)][0]}"
    atol = rtol * float(np.max(np.abs(want))) if want.size else 0.0
    if not np.allclose(got, want, rtol=rtol, atol=atol):
        worst = int(np.argmax(np.abs(got - want).ravel()))
        return f"{what} {got.ravel()[worst]:.8g}, reference {want.ravel()[worst]:.8g}"
    return None


def lin_check(frame_var="df", target="y", features=None, rtol=1e-4, predict=True):
    """The fit's coefficients and predictions against lstsq on its own training rows."""
    def check(n):
        frame, fitted = getattr(n, frame_var), n.result
        feats = features or [c for c in frame.columns if c != target]
        ref = lstsq_ref(frame, target, feats, fitted.train_rows)
        problem = coef_problem(fitted, ref, rtol)
        if problem or not predict:
            return problem
        return close_problem(fitted.predict(frame), lstsq_predict(ref, frame, feats), rtol)
    return check


def glm_check(family, frame_var="df", target="y", features=None, rtol=1e-3, positive=None):
    def check(n):
        frame, fitted = getattr(n, frame_var), n.result
        feats = features or [c for c in frame.columns if c != target]
        ref = glm_ref(frame, target, feats, family, fitted.train_rows, positive)
        return coef_problem(fitted, ref, rtol)
    return check


def mn_check(frame_var="df", target="y", features=None, rtol=1e-3):
    def check(n):
        frame, fitted = getattr(n, frame_var), n.result
        feats = features or [c for c in frame.columns if c != target]
        ref = mnlogit_ref(frame, target, feats, fitted.train_rows)
        est = fitted.coefficients["estimate"]
        for label in ref.columns:
            for term in ref.index:
                key = (label, term)
                if key not in est.index:
                    key = (type(fitted.classes[0])(label), term)
                if key not in est.index:
                    return f"({label}, {term}) absent from {list(est.index)[:6]}"
                got, want = float(est[key]), float(ref.loc[term, label])
                if not abs(got - want) <= rtol * max(1.0, abs(want)):
                    return f"({label}, {term}): estimate {got:.6g}, MNLogit {want:.6g}"
        return None
    return check


def unchanged(path_var: str, content_var: str):
    """The post check of a data-loss case: the user's file still holds what it held."""
    def post(n):
        path, before = getattr(n, path_var, None), getattr(n, content_var, None)
        if path is None:
            return None
        path = Path(path)
        if not path.exists():
            return f"{path} was deleted"
        if path.read_bytes() != before:
            return f"{path} was overwritten ({len(before)} -> {path.stat().st_size} bytes)"
        return None
    return post


def loads_as(folder_var: str, frame_var: str, *want_vars: str):
    """The post check: the folder still holds a model that loads and predicts as one of
    the fits named (the old model or the new one)."""
    def post(n):
        folder = getattr(n, folder_var, None)
        if folder is None:
            return None
        frame = getattr(n, frame_var)
        try:
            got = degenet.load(folder).predict(frame)
        except Exception as error:  # noqa: BLE001  (any failure to load is the loss)
            first = (str(error).splitlines() or [""])[0]
            return f"{folder} no longer loads: {type(error).__name__}: {first}"
        for name in want_vars:
            want = getattr(n, name).predict(frame)
            if got.dtype == object or want.dtype == object:
                if got.dtype == want.dtype and np.array_equal(got, want):
                    return None
            elif np.allclose(np.asarray(got, float), np.asarray(want, float), rtol=1e-5):
                return None
        return (f"{folder} loads but holds another model than {', '.join(want_vars)} "
                f"(replaced)")
    return post


