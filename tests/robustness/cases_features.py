"""Corpus cases: features (what predictors can hold), arguments, determinism."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Callable

import numpy as np
import pandas as pd

from degenet import ConvergenceWarning, DataWarning
from tests.robustness.cases import HANG, LOSS, add, cli
from tests.robustness.references import (close_problem, glm_check, lin_check, lstsq_predict,
                                         lstsq_ref, mn_check, unchanged, loads_as, glm_ref,
                                         design_ref)
from tests.robustness.world import D, M, MODELS, base, num

from tests.robustness.cases_files import table_is  # noqa: F401

def compare_check(n) -> str | None:
    """Held-out deviance of the baseline and of the exact linear fit, by hand: each fold's,
    averaged over the folds (a small table is scored on repeated folds)."""
    result, df = n.result, n.df
    y = df.y.to_numpy()
    baseline, linear = [], []
    for fold in result.folds:
        train, test = fold.train_rows, fold.test_rows
        baseline.append(np.mean((y[test] - y[train].mean()) ** 2))
        # The exact regression trains on every row the fold does not score (runs.py:
        # Part.whole), the baseline on the fold's training rows.
        whole = np.setdiff1d(np.arange(len(df)), test)
        ref = lstsq_ref(df, "y", ["x1", "x2"], whole)
        linear.append(np.mean((y[test] - lstsq_predict(ref, df, ["x1", "x2"])[test]) ** 2))
    got = result.scores["deviance"]
    return (close_problem(got["baseline"], np.mean(baseline), 1e-6, "baseline deviance")
            or close_problem(got["linear"], np.mean(linear), 1e-4, "linear deviance"))


def features_cases() -> None:
    fit = "result = degenet.fit(df, 'y', solver='exact')"
    add("features/id-column-1000-levels", "error",
        "rng = np.random.default_rng(0)\ndf = num(1200)\n"
        "df['id'] = [f'user{i:05d}' for i in rng.permutation(1200) % 1000]\n" + fit,
        names=["'id'"], wrong=HANG, timeout=6,
        issue="an ID column with thousands of levels runs for minutes (find_collinear)",
        right="refused up front naming 'id' (allow_high_cardinality to insist); never a hang")
    add("features/300-levels-in-3000-rows", "result",
        "rng = np.random.default_rng(1)\ndf = num(3000)\n"
        "df['shop'] = [f's{k:03d}' for k in rng.integers(0, 300, 3000)]\n"
        "df = df[['x1', 'shop', 'y']]\n" + fit,
        check=lin_check(features=["x1", "shop"], rtol=1e-6), timeout=15,
        right="a legitimate wide categorical: fitted within seconds, as lstsq")
    add("features/column-1e-15-mlp", "result",
        "df = num()\ndf['x3'] = np.random.default_rng(3).normal(size=len(df)) * 1e-15\n"
        "df['y'] = df.y + 3e15 * df.x3\nresult = degenet.fit(df, 'y', model='mlp:8', seed=0)\n"
        "note = f'val_loss {result.val_loss:.4g} vs var(y) {df.y.var():.4g}'",
        check=lambda n: None if n.result.val_loss < 0.2 * n.df.y.var() else
        f"val_loss {n.result.val_loss:.4g} vs var(y) {n.df.y.var():.4g}: x3 unused",
        issue="a column scaled by 1e-15 is left unscaled; a network cannot use it",
        right="every varying column standardized; the network explains y (val_loss << var)")
    add("features/column-1e-15-exact", "result",
        "df = num()\ndf['x3'] = np.random.default_rng(3).normal(size=len(df)) * 1e-15\n"
        "df['y'] = df.y + 3e15 * df.x3\n" + fit, check=lin_check())
    add("features/column-1e200-exact", "error|result",
        "df = num()\ndf['x3'] = np.random.default_rng(3).normal(size=len(df)) * 1e200\n" + fit,
        check=lin_check(), names=["'x3'"],
        issue="a finite column scaled by 1e200 reported as 'column 0 holds infinite or "
              "missing values'", right="fit it (scaled columns) or refuse naming 'x3'")
    add("features/column-1e200-gd", "error|result",
        "df = num()\ndf['x3'] = np.random.default_rng(3).normal(size=len(df)) * 1e200\n"
        "result = degenet.fit(df, 'y')", check=lin_check(rtol=0.05), names=["'x3'"],
        issue="a finite column scaled by 1e200 reported as 'column 0 holds infinite or "
              "missing values'", right="fit it or refuse naming 'x3'")
    add("features/column-1e-300", "error|result",
        "df = num()\ndf['x3'] = np.random.default_rng(3).normal(size=len(df)) * 1e-300\n"
        "df['y'] = df.y + 1e300 * df.x3\n" + fit, check=lin_check(), names=["'x3'"])
    add("features/dict-cells", "error", "df = num()\ndf['x1'] = [{'a': 1}] * len(df)\n" + fit,
        names=["'x1'"], issue="a column of dicts", right="DegenetError: column 'x1' holds dicts")
    add("features/list-cells", "error", "df = num()\ndf['x1'] = [[1, 2]] * len(df)\n" + fit,
        names=["'x1'"], issue="a column of lists", right="DegenetError: column 'x1' holds lists")
    add("features/tuple-cells", "error", "df = num()\ndf['x1'] = [(1, 2)] * len(df)\n" + fit,
        names=["'x1'"])
    add("features/set-cells", "error", "df = num()\ndf['x1'] = [{1, 2}] * len(df)\n" + fit,
        names=["'x1'"], right="DegenetError: column 'x1' holds sets (as tuples already are)")
    add("features/bytes-cells", "error",
        "df = num()\ndf['x1'] = [b'a', b'b'] * (len(df) // 2)\n" + fit, names=["'x1'"])
    add("features/complex", "error", "df = num()\ndf['x1'] = df.x1 + 1j\n" + fit,
        names=["'x1'"])
    add("features/datetime", "error",
        "df = num()\ndf['when'] = pd.date_range('2020', periods=len(df))\n" + fit,
        names=["'when'"])
    add("features/timedelta", "error",
        "df = num()\ndf['dt'] = pd.to_timedelta(np.arange(len(df)), unit='s')\n" + fit,
        names=["'dt'"])
    add("features/name-intercept", "error|result",
        "df = num()\ndf['intercept'] = np.random.default_rng(5).normal(size=len(df))\n" + fit,
        names=["'intercept'"], check=lin_check(),
        issue="a numeric column named 'intercept' gives two rows of the same name",
        right="rename (e.g. 'intercept_') or refuse naming 'intercept'")
    add("features/name-g[b]-beside-g", "error|result",
        "df = base()[['x1', 'g', 'y']]\n"
        "df['g[b]'] = np.random.default_rng(6).normal(size=len(df))\n" + fit,
        names=["'g[b]'"], check=lin_check(),
        issue="a column 'g[b]' beside a text column 'g' gives two rows named g[b]",
        right="refuse naming 'g[b]' (or rename the generated term)")
    add("features/backticks-formula-space", "result",
        "df = num().rename(columns={'x1': 'my col'})\n"
        "result = degenet.fit(df, formula='y ~ `my col` + x2', solver='exact')",
        check=lin_check(), issue="a formula naming a column with a space in backticks fails "
        "in formulaic's parser", right="fit; the term is named 'my col'")
    add("features/backtick-in-name", "result",
        "df = num().rename(columns={'x1': 'a`b'})\n" + fit, check=lin_check())
    add("features/newline-in-name", "result",
        "df = num().rename(columns={'x1': 'x\\n1'})\n" + fit, check=lin_check())
    add("features/empty-name", "error|result",
        "df = num().rename(columns={'x1': ''})\n" + fit, check=lin_check(), names=["''"])
    add("features/int-column-names", "error|result",
        "df = num()\ndf.columns = [0, 1, 2]\nresult = degenet.fit(df, 2, solver='exact')",
        names=["2"], check=lambda n: None if list(n.result.terms) == ["0", "1"] else
        f"terms {n.result.terms}")
    add("features/bool-column", "result",
        "df = num()\ndf['b'] = df.x2 > 0\n" + fit,
        check=lambda n: lin_check(features=["x1", "x2", "b"])(n))
    add("features/categorical-unused-levels", "result",
        "df = base()[['x1', 'g', 'y']]\n"
        "df['g'] = pd.Categorical(df.g, categories=['a', 'b', 'c', 'zzz'])\n" + fit,
        check=lambda n: lin_check()(SimpleNamespace(df=n.df.assign(g=n.df.g.astype(str)),
                                                    result=n.result)))
    add("features/constant-column", "warning",
        "df = num()\ndf['k'] = 4.0\n" + fit, warns=(DataWarning, "'k'"))
    add("features/all-constant", "error",
        "df = num()\ndf['x1'] = 1.0\ndf['x2'] = 2.0\n" + fit, names=["x1"])
    add("features/duplicate-column-values", "warning",
        "df = num()\ndf['x3'] = df.x1\n" + fit, warns=(DataWarning, "'x3'"))
    add("features/near-collinear", "result",
        "df = num()\ndf['x3'] = df.x1 + 1e-6 * np.random.default_rng(2).normal(size=len(df))\n"
        + fit, check=lambda n: close_problem(
            n.result.predict(n.df),
            lstsq_predict(lstsq_ref(n.df, 'y', ['x1', 'x2', 'x3'], n.result.train_rows), n.df,
                          ['x1', 'x2', 'x3']), 1e-6),
        right="predictions to 1e-6 (the exact solver has them; float32 weights of opposite "
              "sign, beta_x1 ~ -beta_x3, cancel in Keras's float32 forward pass)")
    add("features/inf-in-feature", "error",
        "df = num()\ndf.loc[11, 'x2'] = np.inf\n" + fit, names=["'x2'"])
    add("features/nan-in-feature", "error",
        "df = num()\ndf.loc[[11, 12], 'x2'] = np.nan\n" + fit, names=["'x2'", "2 rows"])
    add("features/stray-text", "error",
        "df = num().astype({'x2': object})\ndf.loc[8, 'x2'] = 'n/a'\n" + fit,
        names=["'x2'", "'n/a'"])
    add("features/mixed-text-and-float", "error",
        "df = base()[['x1', 'g', 'y']].astype({'g': object})\ndf.loc[:4, 'g'] = 3.5\n" + fit,
        names=["'g'"])
    add("features/more-columns-than-rows", "error|warning",
        "rng = np.random.default_rng(4)\ndf = pd.DataFrame(rng.normal(size=(20, 40)), "
        "columns=[f'c{j}' for j in range(40)])\ndf['y'] = rng.normal(size=20)\n" + fit,
        warns=(DataWarning, "collinear"), names=["40"])
    add("features/nullable-int-na", "error",
        "df = num()\ndf['k'] = pd.array([1, 2, None, 4] * 50, dtype='Int64')\n" + fit,
        names=["'k'"])
    add("features/nullable-int", "result",
        "df = num()\ndf['k'] = pd.array([1, 2, 3, 4] * 50, dtype='Int64')\n" + fit,
        check=lambda n: lin_check()(SimpleNamespace(df=n.df.astype({'k': float}),
                                                     result=n.result)))
    add("features/pyarrow-strings", "result",
        "df = base()[['x1', 'g', 'y']]\ndf['g'] = df.g.astype('string[pyarrow]')\n" + fit,
        check=lambda n: lin_check()(SimpleNamespace(df=n.df.assign(g=n.df.g.astype(object)),
                                                    result=n.result)))
    add("features/level-with-bracket", "result",
        "df = base()[['x1', 'g', 'y']]\ndf['g'] = df.g.map({'a': 'a', 'b': 'b]x', 'c': 'c['})\n"
        + fit, check=lin_check())
    add("features/int64-offset-1e12", "result",
        "df = num()\ndf['k'] = (np.arange(len(df)) + 10**12).astype('int64')\n" + fit,
        check=lambda n: close_problem(
            n.result.predict(n.df),
            lstsq_predict(lstsq_ref(n.df, 'y', ['x1', 'x2', 'k'], n.result.train_rows), n.df,
                          ['x1', 'x2', 'k']), 1e-6),
        right="predictions in float64; float32 cannot hold 1e12 + i")
    add("features/features-string", "error",
        "result = degenet.fit(num(), 'y', features='x1')", names=["'x1'"])
    add("features/features-unknown", "error",
        "result = degenet.fit(num(), 'y', features=['x1', 'zz'])", names=["'zz'"])
    add("features/features-empty", "error",
        "result = degenet.fit(num(), 'y', features=[])", names=["predictor"])
    add("features/features-repeated", "error",
        "result = degenet.fit(num(), 'y', features=['x1', 'x1'])", names=["x1"])
    add("features/features-non-string", "error",
        "result = degenet.fit(num(), 'y', features=[1])", names=["1"])
    add("features/formula-import", "error",
        "result = degenet.fit(num(), formula=\"y ~ __import__('os').system('echo pwned')\")",
        names=["__import__"])
    add("features/formula-dunder", "error",
        "result = degenet.fit(num(), formula='y ~ x1.__class__.__bases__')", names=["__"])
    add("features/formula-eval", "error",
        "result = degenet.fit(num(), formula=\"y ~ eval('x1')\")", names=["eval"])
    add("features/formula-log-negative", "error",
        "result = degenet.fit(num(), formula='y ~ np.log(x1)')", names=["log"])
    add("features/formula-unknown-column", "error",
        "result = degenet.fit(num(), formula='y ~ zz + x1')", names=["zz"])
    add("features/formula-numeric-as-C", "result",
        "df = num()\ndf['k'] = np.arange(len(df)) % 3\n"
        "result = degenet.fit(df, formula='y ~ x1 + C(k)', solver='exact')",
        check=lambda n: close_problem(n.result.predict(n.df), lstsq_predict(
            lstsq_ref(n.df.astype({'k': str}), 'y', ['x1', 'k'], n.result.train_rows),
            n.df.astype({'k': str}), ['x1', 'k']), 1e-5))
    add("features/polars-frame", "result",
        "import polars\ndf = num()\nresult = degenet.fit(polars.from_pandas(df), 'y', "
        "solver='exact')", check=lin_check())


def arguments_cases() -> None:
    f = "result = degenet.fit(num(), 'y', solver='exact', {})"
    g = "result = degenet.fit(num(), 'y', {})"  # training settings (checked before training)
    for arg, names in [
            ("model=5", ["5"]), ("model='mlp:0'", ["mlp:0"]), ("model='mlp:-1'", ["mlp:-1"]),
            ("model='mlp:a'", ["mlp:a"]), ("model='mlp:'", ["mlp:"]),
            ("model='linear:3'", ["linear:3"]), ("model=''", ["''"]),
            ("family='nonsense'", ["nonsense"]), ("family=3", ["3"]),
            ("family={'name': 'gaussian'}", ["family"]),
            ("formula=3", ["formula"]), ("formula=''", ["formula"]),
            ("formula='y ~'", ["y ~"]), ("coding='bogus'", ["bogus"]),
            ("coding=None", ["coding"]), ("missing='ignore'", ["ignore"]),
            ("missing=None", ["missing"]), ("file_encoding='klingon'", ["klingon"]),
            ("columns=['a', 'b', 'c']", ["columns"]), ("seed=-1", ["seed=-1"]),
            ("seed=1.5", ["seed=1.5"]), ("seed='0'", ["seed='0'"]), ("seed=True", ["seed=True"]),
            ("seed=None", ["seed=None"]),
            ("intercept='no'", ["intercept"]), ("intercept=None", ["intercept"]),
            ("reference='zzz'", ["zzz"]), ("solver='newton'", ["newton"]),
            ("solver=None", ["solver"]),
            ("sample_weight=np.ones(7)", ["sample_weight", "7"]),
            ("sample_weight=-np.ones(200)", ["sample_weight"]),
            ("sample_weight=np.full(200, np.nan)", ["sample_weight"]),
            ("sample_weight=np.zeros(200)", ["sample_weight"]),
            ("sample_weight='heavy'", ["sample_weight"]),
            ("epochs=5", ["epochs"]), ("lr=0.1", ["lr"])]:
        code = (f.format(arg) if arg.split("=")[0] not in ("model", "formula", "columns",
                                                          "solver") else g.format(arg))
        if arg.startswith("formula"):
            code = f"result = degenet.fit(num(), {arg})"
        if arg.startswith("file_encoding"):
            code = f"result = degenet.fit(D / 'num.csv', 'y', {arg})"
        add(f"arguments/fit-{arg}", "error", code, names=names,
            right="DegenetError naming the argument and the value received")
    for arg, names in [
            ("max_epochs=0", ["max_epochs=0"]), ("max_epochs=-1", ["max_epochs=-1"]),
            ("max_epochs=1.5", ["max_epochs=1.5"]), ("max_epochs='10'", ["max_epochs='10'"]),
            ("max_epochs=True", ["max_epochs=True"]), ("batch_size=0", ["batch_size=0"]),
            ("batch_size=2.5", ["batch_size=2.5"]), ("optimizer='nonsense'", ["nonsense"]),
            ("optimizer=3", ["optimizer"]), ("optimizer=None", ["optimizer"]),
            ("learning_rate=0", ["learning_rate", "0"]),
            ("learning_rate=-1", ["learning_rate", "-1"]),
            ("learning_rate='fast'", ["learning_rate", "fast"]),
            ("learning_rate=float('nan')", ["learning_rate", "nan"]),
            ("learning_rate=float('inf')", ["learning_rate", "inf"]),
            ("patience=0", ["patience=0"]), ("patience=-1", ["patience=-1"]),
            ("min_delta=-1", ["min_delta", "-1"]),
            ("min_delta=float('nan')", ["min_delta", "nan"]),
            ("plateau_factor=0", ["plateau_factor", "0"]),
            ("plateau_factor=2", ["plateau_factor", "2"]),
            ("validation=0", ["validation", "0"]),
            ("validation=1", ["validation", "1"]), ("validation=1.5", ["validation", "1.5"]),
            ("validation=-0.1", ["validation", "-0.1"]),
            ("validation='0.2'", ["validation", "0.2"]),
            ("validation=float('nan')", ["validation", "nan"]),
            ("validation=0.99", ["validation", "0.99"])]:
        # validation=0 and 0.99: issue 11 gives validation=0 a meaning; tolerant until then.
        tolerant = arg in ("validation=0", "validation=0.99")
        add(f"arguments/fit-{arg}", "error|result" if tolerant else "error", g.format(arg),
            names=names, check=(lambda n: None) if tolerant else None,
            right="DegenetError naming the argument and the value received")
    add("arguments/fit-validation=None-default", "result",
        "df = num()\nresult = degenet.fit(df, 'y', model='linear', validation=None)",
        check=lambda n: None if len(n.result.val_rows) == 40 else
        f"{len(n.result.val_rows)} validation rows of 200, not the default 0.2's 40")
    add("arguments/fit-learning_rate=10-int", "error|warning",
        "result = degenet.fit(num(), 'y', model='mlp:8', learning_rate=10)",
        warns=(ConvergenceWarning, "learning"), names=["learning_rate"],
        right="an int learning rate is a number: train (and warn of divergence), or refuse "
              "naming learning_rate; Keras's ValueError leaks")
    add("arguments/fit-learning_rate=1e6-mlp", "warning",
        "result = degenet.fit(num(), 'y', model='mlp:8', learning_rate=1e6)\n"
        "note = f'val_loss {result.val_loss:.3g}'",
        warns=(ConvergenceWarning, "learning"),
        issue="a network that diverges says nothing (learning_rate=1e6: val_loss 1e12)",
        right="ConvergenceWarning: diverged / no better than the baseline, with a sane "
              "learning rate")
    add("arguments/fit-learning_rate=10.0-mlp", "warning",
        "result = degenet.fit(num(), 'y', model='mlp:8', learning_rate=10.0)\n"
        "note = f'val_loss {result.val_loss:.3g}, var(y) {num().y.var():.3g}'",
        warns=(ConvergenceWarning, "baseline"),
        issue="at learning_rate=10 the network is no better than predicting the mean",
        right="ConvergenceWarning: no better than the intercept-only baseline")
    add("arguments/fit-learning_rate=1e6-linear", "warning",
        "result = degenet.fit(num(), 'y', model='linear', learning_rate=1e6)",
        warns=(ConvergenceWarning, ""))
    add("arguments/fit-batch_size-larger-than-rows", "result",
        "df = num()\nresult = degenet.fit(df, 'y', model='linear', batch_size=100000)",
        check=lambda n: None if np.isfinite(n.result.val_loss) else "val_loss not finite")
    add("arguments/fit-progress-not-callable", "error",
        "result = degenet.fit(num(), 'y', model='linear', progress=5)", names=["progress"],
        right="DegenetError: progress must be callable(done, total); received 5 (checked "
              "before training, not from inside the engine)")
    add("arguments/fit-mlp-exact", "error",
        "result = degenet.fit(num(), 'y', model='mlp', solver='exact')", names=["exact"])
    add("arguments/fit-softmax-on-continuous", "error",
        "result = degenet.fit(num(), 'y', model='softmax', solver='exact')", names=["'y'"],
        timeout=5, right="DegenetError: target 'y' looks continuous (200 distinct numbers); "
        "softmax needs classes")
    add("arguments/fit-seed-numpy-int", "result",
        "df = num()\nresult = degenet.fit(df, 'y', solver='exact', seed=np.int64(3))",
        check=lin_check())
    add("arguments/fit-seed-2**64", "error|result",
        "df = num()\nresult = degenet.fit(df, 'y', solver='exact', seed=2**64)", names=["seed"],
        check=lin_check())
    c = ("result = degenet.compare(num(), 'y', models='linear,mlp:8', solver='exact', "
         "max_epochs=3, {})")
    for arg, names in [
            ("cv=0", ["cv=0"]), ("cv=10**6", ["cv=1000000"]),
            ("cv=2.5", ["cv=2.5"]), ("cv=True", ["cv=True"]), ("repeats=0", ["repeats=0"]),
            ("confidence=1.5", ["confidence", "1.5"]),
            ("confidence=0", ["confidence", "0"]), ("tolerance=-1", ["tolerance", "-1"]),
            ("tolerance=float('nan')", ["tolerance", "nan"]), ("seed=-1", ["seed=-1"]),
            ("validation=2", ["validation"]), ("epochs=3", ["epochs"])]:
        add(f"arguments/compare-{arg}", "error", c.format(arg), names=names,
            right="DegenetError naming the argument and the value received")
    for models, names in [("''", ["''"]), ("'linear,linear'", ["linear"]), ("[]", ["models"]),
                          ("'linear,bogus'", ["bogus"]), ("5", ["5"])]:
        add(f"arguments/compare-models={models}", "error",
            f"result = degenet.compare(num(), 'y', models={models})", names=names,
            right="DegenetError: models must be a spec string or a list of specs")
    # Issue 11: cv=1 is one split, repeats redraws the folds, validation=None the default.
    for arg, design in [("cv=1", "one split"), ("cv=5, repeats=2", "5-fold CV x 2"),
                        ("validation=None", "")]:
        add(f"arguments/compare-{arg}-valid", "result", c.format(arg),
            check=lambda n, design=design: None if design in repr(n.result)
            else f"{n.result!r} is not {design}")
    add("arguments/compare-result", "result",
        "df = num()\nresult = degenet.compare(df, 'y', models='linear', solver='exact')",
        check=compare_check)
    e = "result = degenet.{}.fit(num()[['x1', 'x2']], {})"
    for est, y, names in [
            ("LinearRegression(max_epochs=0)", "num().y", ["max_epochs=0"]),
            ("LinearRegression(solver='bogus')", "num().y", ["bogus"]),
            ("LinearRegression(learning_rate=-1)", "num().y", ["learning_rate", "-1"]),
            ("LinearRegression(validation=1.0)", "num().y", ["validation", "1.0"]),
            ("LinearRegression(random_state=-1)", "num().y", ["-1"]),
            ("LinearRegression(fit_intercept='yes')", "num().y", ["fit_intercept"]),
            ("LinearRegression(batch_size=-5)", "num().y", ["batch_size=-5"]),
            ("MLPRegressor(hidden_layer_sizes=(0,))", "num().y", ["hidden_layer_sizes"]),
            ("MLPRegressor(hidden_layer_sizes=(8, 'a'))", "num().y", ["hidden_layer_sizes"]),
            ("MLPRegressor(hidden_layer_sizes='abc')", "num().y", ["hidden_layer_sizes"]),
            ("MLPClassifier(hidden_layer_sizes=[])", "base().yb", ["hidden_layer_sizes"]),
            ("LogisticRegression()", "num().y", ["continuous"]),
            ("LogisticRegression()", "np.zeros(200)", ["class"]),
            ("PoissonRegressor()", "-np.ones(200)", ["y"]),
            ("LinearRegression()", "np.ones(5)", ["5"]),
            ("LinearRegression()", "np.full(200, np.nan)", ["nan"])]:
        add(f"arguments/estimator-{est}-y={y}", "error", e.format(est, y), names=names,
            sklearn=True, right="a clear error naming the parameter (scikit-learn's "
            "_parameter_constraints would do it) and the value")
    add("arguments/estimator-random_state=None", "error|result",
        "X, y = num()[['x1', 'x2']], num().y\n"
        "result = degenet.LinearRegression(random_state=None, solver='exact').fit(X, y)",
        names=["random_state"], right="scikit-learn's convention (None: fresh randomness) or "
        "an error that names random_state, not seed",
        check=lambda n: close_problem(n.result.coef_, lstsq_ref(num(), 'y', ['x1', 'x2'],
                                                                n.result.fit_.train_rows)
                                      .to_numpy()[:2], 1e-6, "coef_"))
    add("arguments/estimator-predict-before-fit", "error",
        "result = degenet.LinearRegression().predict(num()[['x1', 'x2']])", names=["fit"],
        sklearn=True)
    add("arguments/estimator-X-3d", "error",
        "result = degenet.LinearRegression().fit(np.ones((10, 2, 2)), np.ones(10))",
        names=["3"], sklearn=True)
    add("arguments/estimator-wrong-width-predict", "error",
        "m = degenet.LinearRegression(solver='exact').fit(num()[['x1', 'x2']], num().y)\n"
        "result = m.predict(np.ones((4, 3)))", names=["3"], sklearn=True)
    add("arguments/estimator-result", "result",
        "m = degenet.LinearRegression(solver='exact').fit(num()[['x1', 'x2']], num().y)\n"
        "result = m",
        check=lambda n: close_problem(
            np.r_[n.result.coef_, n.result.intercept_],
            lstsq_ref(num(), 'y', ['x1', 'x2'], n.result.fit_.train_rows).to_numpy(), 1e-6,
            "coefficient"))


def determinism_cases() -> None:
    add("determinism/mlp-same-seed", "result",
        "df = num()\na = degenet.fit(df, 'y', model='mlp:8', seed=7, max_epochs=20)\n"
        "result = degenet.fit(df, 'y', model='mlp:8', seed=7, max_epochs=20)",
        check=lambda n: close_problem(n.result.predict(n.df), n.a.predict(n.df), 0,
                                      "prediction of the second run"))
    add("determinism/linear-gd-same-seed", "result",
        "df = num()\na = degenet.fit(df, 'y', model='linear', seed=3)\n"
        "result = degenet.fit(df, 'y', model='linear', seed=3)",
        check=lambda n: close_problem(n.result.predict(n.df), n.a.predict(n.df), 0,
                                      "prediction of the second run"))
    add("determinism/other-seed-other-split", "result",
        "df = num()\na = degenet.fit(df, 'y', solver='exact', validation=0.2, seed=1)\n"
        "result = degenet.fit(df, 'y', solver='exact', validation=0.2, seed=2)",
        check=lambda n: None if not np.array_equal(n.a.val_rows, n.result.val_rows)
        else "seeds 1 and 2 give the same validation rows")
    add("determinism/compare-same-seed", "result",
        "df = num()\na = degenet.compare(df, 'y', models='linear,mlp:8', max_epochs=5, seed=4)\n"
        "result = degenet.compare(df, 'y', models='linear,mlp:8', max_epochs=5, seed=4)",
        check=lambda n: None if n.a.scores.equals(n.result.scores) else "scores differ")
    add("determinism/estimator-random_state", "result",
        "X, y = num()[['x1', 'x2']], num().y\n"
        "a = degenet.MLPRegressor(hidden_layer_sizes=(8,), max_epochs=5, random_state=5)"
        ".fit(X, y)\nresult = degenet.MLPRegressor(hidden_layer_sizes=(8,), max_epochs=5, "
        "random_state=5).fit(X, y)",
        check=lambda n: close_problem(n.result.predict(n.X), n.a.predict(n.X), 0,
                                      "prediction of the second estimator"))
    add("determinism/seed-recorded", "result",
        "result = degenet.load(M / 'mlp').sidecar",
        check=lambda n: None if n.result.get("seed") == 1 else f"seed {n.result.get('seed')}")


