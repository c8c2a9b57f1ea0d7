"""Corpus cases: files (what a table file can be) and targets (what can be predicted)."""

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


def table_is(var: str = "result", want: Callable = lambda: num()):
    """The table read equals ``want()`` (same column names, same numbers)."""
    def check(n):
        got, expected = getattr(n, var), want()
        if list(got.columns) != list(expected.columns):
            return f"columns {list(got.columns)[:5]}, expected {list(expected.columns)}"
        if got.shape != expected.shape:
            return f"shape {got.shape}, expected {expected.shape}"
        for column in expected.columns:
            a, b = got[column], expected[column]
            if pd.api.types.is_numeric_dtype(b):
                if not np.allclose(pd.to_numeric(a, errors="coerce"), b, rtol=1e-12):
                    return f"column {column!r} differs"
            elif not (a.astype(str).to_numpy() == b.astype(str).to_numpy()).all():
                return f"column {column!r} differs"
        return None
    return check


def files_cases() -> None:
    rt = "result = degenet.read_table({})"
    fit = "result = degenet.fit({}, 'y', solver='exact')"
    add("files/empty-csv", "error", rt.format("D / 'empty.csv'"), names=["empty.csv"])
    add("files/blank-lines-csv", "error", rt.format("D / 'blank.csv'"), names=["blank.csv"])
    add("files/header-only-csv", "error", rt.format("D / 'header.csv'"), names=["header.csv"])
    add("files/header-only-parquet", "error", rt.format("D / 'header.parquet'"),
        names=["header.parquet"])
    add("files/empty-parquet", "error", rt.format("D / 'empty.parquet'"),
        names=["empty.parquet"])
    add("files/junk-parquet", "error", rt.format("D / 'junk.parquet'"), names=["junk.parquet"])
    add("files/truncated-parquet", "error", rt.format("D / 'half.parquet'"),
        names=["half.parquet"])
    add("files/duplicate-header-csv-read", "error", rt.format("D / 'dup.csv'"), names=["x1"],
        issue="duplicate header names read as x1, x1.1",
        right="DegenetError: duplicate column name 'x1' in dup.csv (as for a DataFrame)")
    add("files/duplicate-header-csv-fit", "error", fit.format("D / 'dup.csv'"), names=["x1"],
        issue="duplicate header names read as x1, x1.1",
        right="DegenetError naming 'x1'; no fit on a renamed column")
    add("files/duplicate-header-dataframe", "error",
        "df = pd.DataFrame(np.ones((20, 3)), columns=['x1', 'x1', 'y'])\n" + fit.format("df"),
        names=["x1"])
    add("files/duplicate-header-parquet", "error", rt.format("D / 'dup.parquet'"),
        names=["x1"], right="one line: duplicate column name 'x1' in dup.parquet (pyarrow's "
        "7-line schema dump is passed through)")
    add("files/gzip-named-csv-read", "error|result", rt.format("D / 'gz.csv'"),
        names=["gz.csv"], check=table_is(), issue="gzip named .csv: raw bytes as column names",
        right="read it (pandas decompresses gzip) or DegenetError: gz.csv is gzip-compressed")
    add("files/gzip-named-csv-fit", "error|result", fit.format("D / 'gz.csv'"),
        names=["gz.csv"], check=lambda n: None if list(n.result.terms) == ["x1", "x2"] else
        f"terms {list(n.result.terms)[:3]}", issue="gzip named .csv: raw bytes as column names",
        right="fit the decompressed table, or DegenetError naming gz.csv as compressed")
    add("files/utf8-bom", "result", rt.format("D / 'bom.csv'"), check=table_is())
    add("files/utf16-bom", "error|result", rt.format("D / 'utf16.csv'"), check=table_is(),
        names=["utf16.csv"], right="decode UTF-16 (it has a BOM) or say the file is UTF-16")
    add("files/latin1", "result", rt.format("D / 'latin1.csv'"),
        check=lambda n: None if set(n.result.g) == {"café", "naïve", "über"} else
        f"levels {sorted(set(n.result.g))}")
    add("files/binary-junk-csv", "error", rt.format("D / 'junk.csv'"), names=["junk.csv"],
        right="DegenetError: junk.csv is not a text table")
    add("files/png-named-csv", "error", rt.format("D / 'png.csv'"), names=["png.csv"],
        right="DegenetError: png.csv is not a text table")
    add("files/nul-bytes-csv", "error|result", rt.format("D / 'nul.csv'"), names=["nul.csv"],
        check=table_is(), right="read the numbers, or name the file and the NUL bytes")
    add("files/huge-field", "result", rt.format("D / 'hugefield.csv'"),
        check=lambda n: None if n.result.shape == (20, 4) and len(n.result.note[3]) == 8_000_000
        else f"shape {n.result.shape}, columns {list(n.result.columns)[:4]}", timeout=30)
    add("files/wrong-delimiter-given", "error",
        "result = degenet.fit(D / 'semi.csv', 'y', delimiter=',')", names=["'y'"])
    add("files/delimiter-two-chars", "error",
        "result = degenet.fit(D / 'num.csv', 'y', delimiter=';;')", names=["delimiter", "';;'"])
    add("files/delimiter-semicolon-on-comma-file", "error",
        "result = degenet.fit(D / 'num.csv', 'y', delimiter=';')", names=["'y'"])
    add("files/semicolon-detected", "result", rt.format("D / 'semi.csv'"), check=table_is())
    add("files/tab-in-csv", "result", rt.format("D / 'tab.csv'"), check=table_is())
    add("files/pipe-delimited", "result", rt.format("D / 'pipe.csv'"), check=table_is())
    add("files/crlf", "result", rt.format("D / 'crlf.csv'"), check=table_is())
    add("files/decimal-commas", "error", fit.format("D / 'deccomma.csv'"), names=["x1"])
    add("files/ragged-long-row", "error", rt.format("D / 'ragged_long.csv'"),
        names=["ragged_long.csv"])
    add("files/ragged-short-row", "error", fit.format("D / 'ragged_short.csv'"), names=["'y'"])
    add("files/unclosed-quote", "error", rt.format("D / 'openquote.csv'"),
        names=["openquote.csv"])
    add("files/directory", "error", rt.format("D"), names=[str(D)])
    add("files/directory-named-csv", "error", rt.format("D / 'dir.csv'"), names=["dir.csv"])
    add("files/symlink-to-csv", "result", rt.format("D / 'link.csv'"), check=table_is())
    add("files/dangling-symlink", "error", rt.format("D / 'dangling.csv'"),
        names=["dangling.csv"])
    add("files/symlink-loop", "error", rt.format("D / 'loop.csv'"), names=["loop.csv"])
    add("files/unreadable-permissions", "error", rt.format("D / 'noread.csv'"),
        names=["noread.csv"], nobody=True,
        right="DegenetError: cannot read noread.csv: permission denied")
    add("files/fifo-fed-once", "error|result",
        "path = fifo_with_writer(fresh() / 'stream.csv', (D / 'num.csv').read_bytes())\n"
        + rt.format("path"), names=["stream.csv"], check=table_is(), timeout=4,
        right="read the stream once (or refuse a non-regular file); the reader opens the "
              "pipe three times and blocks on the second")
    add("files/xlsx-suffix", "error", rt.format("D / 'data.xlsx'"), names=[".xlsx"])
    add("files/gz-suffix", "error", rt.format("D / 'gz.csv.gz'"), names=["gz.csv.gz"])
    add("files/only-target-column", "error", fit.format("D / 'onlytarget.csv'"),
        names=["predictor"])
    add("files/struct-column-parquet", "error", fit.format("D / 'struct.parquet'"),
        names=["'s'"], right="DegenetError: column 's' holds dicts (structs); leave it out")
    add("files/newline-in-path", "error", rt.format("D / 'no\\nsuch.csv'"),
        names=["such.csv"], right="one line: file not found: 'no\\nsuch.csv' (repr of the path)")
    add("files/bytes-path", "error", rt.format("bytes(D / 'num.csv')"), names=["bytes"])
    add("files/fit-from-parquet", "result",
        "df = pd.read_parquet(D / 'base.parquet')[['x1', 'x2', 'g', 'y']]\n"
        "result = degenet.fit(D / 'base.parquet', 'y', features=['x1', 'x2', 'g'], "
        "solver='exact')", check=lin_check(features=["x1", "x2", "g"]))
    add("files/fit-from-csv", "result",
        "df = pd.read_csv(D / 'base.csv')\n"
        "result = degenet.fit(D / 'base.csv', 'y', features=['x1', 'x2', 'g'], solver='exact')",
        check=lin_check(features=["x1", "x2", "g"]))


def targets_cases() -> None:
    fit = "result = degenet.fit(df, 'y', solver='exact'{})"

    def frame(change: str, **kw) -> str:
        return f"df = num()\n{change}\n" + fit.format(kw.get("extra", ""))
    add("targets/constant", "error", frame("df['y'] = 3.0"), names=["'y'"])
    add("targets/all-nan", "error", frame("df['y'] = np.nan"), names=["'y'"])
    add("targets/all-nan-drop", "error", frame("df['y'] = np.nan", extra=", missing='drop'"),
        names=["'y'"])
    add("targets/one-inf", "error", frame("df.loc[5, 'y'] = np.inf"), names=["'y'", "infinite"])
    add("targets/minus-inf", "error", frame("df.loc[7, 'y'] = -np.inf"), names=["'y'"])
    add("targets/scale-1e300-exact", "error|result", names=["'y'"],
        code=frame("df['y'] = df.y * 1e300"),
        check=lin_check(), issue="target scaled by 1e300 predicts NaN",
        right="predictions in float64: finite and equal to lstsq's")
    add("targets/scale-1e300-gd", "error|result", names=["'y'"],
        code="df = num()\ndf['y'] = df.y * 1e300\nresult = degenet.fit(df, 'y', model='linear')",
        check=lin_check(rtol=0.05), issue="target scaled by 1e300 predicts NaN",
        right="coefficients and predictions finite, within 5% of lstsq")
    add("targets/scale-1e-300-exact", "error|result", names=["'y'"],
        code="df = num()\ndf['y'] = df.y * 1e-300\nresult = degenet.fit(df, 'y', solver='exact')\n"
        "note = f'val_loss {result.val_loss:g}'",
        check=lambda n: "; ".join(filter(None, [lin_check()(n), None if n.result.val_loss > 0
                                                 else f"val_loss {n.result.val_loss!r}"])),
        issue="target scaled by 1e-300 predicts 0, val_loss 0",
        right="predictions equal lstsq's (float64), val_loss > 0")
    add("targets/scale-1e-300-gd", "error|result", names=["'y'"],
        code="df = num()\ndf['y'] = df.y * 1e-300\nresult = degenet.fit(df, 'y', model='linear')",
        check=lambda n: "; ".join(filter(None, [lin_check(rtol=0.05)(n),
                                                 None if n.result.val_loss > 0
                                                 else f"val_loss {n.result.val_loss!r}"])),
        issue="target scaled by 1e-300 predicts 0, val_loss 0",
        right="predictions within 5% of lstsq's, val_loss > 0")
    add("targets/scale-1e150-exact", "error|result", names=["'y'"],
        code=frame("df['y'] = df.y * 1e150"),
        check=lin_check(), right="squares overflow float64: the solver must still be right")
    add("targets/scale-1e-160-exact", "error|result", names=["'y'"],
        code=frame("df['y'] = df.y * 1e-160"),
        check=lin_check(), right="squares underflow float64: the solver must still be right")
    for factor in ("1e20", "1e-20"):  # inside float32's reach: fitted, in float64 precision
        add(f"targets/scale-{factor}-exact", "result", frame(f"df['y'] = df.y * {factor}"),
            check=lin_check())
        add(f"targets/scale-{factor}-gd", "result",
            f"df = num()\ndf['y'] = df.y * {factor}\nresult = degenet.fit(df, 'y', "
            "model='linear', max_epochs=400)", check=lin_check(rtol=0.05))
    add("targets/offset-1e9", "result", frame("df['y'] = 1e9 + df.y"),
        check=lin_check(rtol=1e-9, predict=False))
    add("targets/text-in-numbers", "error",
        "df = num().astype({'y': object})\ndf.loc[3, 'y'] = 'n/a'\n" + fit.format(""),
        names=["'y'", "n/a"])
    add("targets/numbers-as-text", "result",
        "df = num()\ndf['y'] = df.y.map(repr)\nresult = degenet.fit(df, 'y', solver='exact')",
        check=lambda n: lin_check()(SimpleNamespace(df=n.df.assign(y=n.df.y.astype(float)),
                                                    result=n.result)))
    add("targets/int-labels-012-default", "result",
        "df = base()[['x1', 'x2']]\ndf['y'] = base().yc.map({'r': 0, 'g': 1, 'b': 2})\n"
        "result = degenet.fit(df, 'y', solver='exact')",
        check=lambda n: None if n.result.family.name == "gaussian" and lin_check()(n) is None
        else f"family {n.result.family.name}")
    add("targets/int-labels-012-softmax", "result",
        "df = base()[['x1', 'x2']]\ndf['y'] = base().yc.map({'r': 0, 'g': 1, 'b': 2})\n"
        "result = degenet.fit(df, 'y', model='softmax', solver='exact')", check=mn_check())
    add("targets/int-labels-01", "result",
        "df = base()[['x1', 'x2']]\ndf['y'] = (base().yb == 'yes').astype(int)\n"
        "result = degenet.fit(df, 'y', solver='exact')",
        check=glm_check("bernoulli", positive=1))
    add("targets/single-class-text", "error",
        "df = num()\ndf['y'] = 'a'\n" + fit.format(""), names=["'y'", "'a'"])
    add("targets/single-class-after-drop", "error",
        "df = num().astype({'y': object})\ndf['y'] = 'a'\ndf.loc[:9, 'y'] = None\n"
        "df.loc[0, 'y'] = None\n" + fit.format(", missing='drop'"), names=["'y'"])
    add("targets/bool", "result",
        "df = base()[['x1', 'x2']]\ndf['y'] = base().yb == 'yes'\n"
        "result = degenet.fit(df, 'y', solver='exact')",
        check=lambda n: glm_check("bernoulli", positive=True)(n) or (
            None if set(map(type, n.result.predict(n.df))) == {bool}
            or set(n.result.predict(n.df)) <= {True, False} else "labels not booleans"))
    add("targets/two-text-classes", "result",
        "df = base()[['x1', 'x2', 'yb']].rename(columns={'yb': 'y'})\n"
        "result = degenet.fit(df, 'y', solver='exact')",
        check=glm_check("bernoulli", positive="yes"))
    add("targets/three-text-classes", "result",
        "df = base()[['x1', 'x2', 'yc']].rename(columns={'yc': 'y'})\n"
        "result = degenet.fit(df, 'y', model='softmax', solver='exact')", check=mn_check())
    add("targets/rare-class-one-row", "error|result",
        "df = base()[['x1', 'x2', 'yb']].rename(columns={'yb': 'y'})\ndf.loc[0, 'y'] = 'maybe'\n"
        "result = degenet.fit(df, 'y', solver='exact')",
        check=lambda n: close_problem(n.result.predict_proba(n.df).sum(1), np.ones(len(n.df)),
                                      1e-6, "probability sum"), names=["maybe"])
    add("targets/poisson-negative", "error",
        "df = base()[['x1', 'x2', 'ycount']].rename(columns={'ycount': 'y'})\n"
        "df.loc[4, 'y'] = -1\nresult = degenet.fit(df, 'y', model='poisson', solver='exact')",
        names=["'y'"])
    add("targets/poisson-non-integer", "error|result",
        "df = base()[['x1', 'x2', 'ycount']].rename(columns={'ycount': 'y'})\n"
        "df['y'] = df.y + 0.5\nresult = degenet.fit(df, 'y', model='poisson', solver='exact')",
        check=glm_check("poisson"), names=["'y'"])
    add("targets/poisson-all-zero", "error",
        "df = num()\ndf['y'] = 0\nresult = degenet.fit(df, 'y', model='poisson', "
        "solver='exact')", names=["'y'"])
    add("targets/poisson-large-counts", "result",
        "df = base()[['x1', 'x2', 'ycount']].rename(columns={'ycount': 'y'})\n"
        "df['y'] = df.y * 1_000_000\nresult = degenet.fit(df, 'y', model='poisson', "
        "solver='exact')", check=glm_check("poisson"))
    add("targets/bernoulli-on-continuous", "error",
        "result = degenet.fit(num(), 'y', family='bernoulli', solver='exact')",
        names=["'y'"])
    add("targets/some-nan-drop", "warning",
        "df = num()\ndf.loc[[3, 9, 27], 'y'] = np.nan\n"
        "result = degenet.fit(df, 'y', solver='exact', missing='drop')",
        warns=(DataWarning, "dropped 3"),
        check=lambda n: lin_check()(SimpleNamespace(df=n.df.dropna().reset_index(drop=True),
                                                    result=n.result)))
    add("targets/target-int", "error", "result = degenet.fit(num(), 0)", names=["target=0"])
    add("targets/target-empty-string", "error", "result = degenet.fit(num(), '')",
        names=["target="])
    add("targets/target-not-found", "error", "result = degenet.fit(num(), 'nosuch')",
        names=["'nosuch'", "x1"])
    add("targets/mixed-int-and-text", "error|result",
        "df = num().astype({'y': object})\ndf['y'] = ['a', 1, 'b', 2] * 50\n"
        "result = degenet.fit(df, 'y', solver='exact')", names=["'y'"],
        check=lambda n: None if len(n.result.classes) == 4 else f"classes {n.result.classes}")
    add("targets/pandas-categorical", "result",
        "df = base()[['x1', 'x2', 'yc']].rename(columns={'yc': 'y'})\n"
        "df['y'] = pd.Categorical(df.y, categories=['r', 'g', 'b', 'unused'])\n"
        "result = degenet.fit(df, 'y', model='softmax', solver='exact')",
        check=lambda n: mn_check()(SimpleNamespace(df=n.df.assign(y=n.df.y.astype(str)),
                                                   result=n.result)))
    add("targets/float-01", "result",
        "df = base()[['x1', 'x2']]\ndf['y'] = (base().yb == 'yes').astype(float)\n"
        "result = degenet.fit(df, 'y', solver='exact')",
        check=glm_check("bernoulli", positive=1.0))
    add("targets/datetime", "error",
        "df = num()\ndf['y'] = pd.date_range('2020-01-01', periods=len(df))\n" + fit.format(""),
        names=["'y'"])
    add("targets/target-also-feature", "error",
        "result = degenet.fit(num(), 'y', features=['x1', 'y'])", names=["'y'"])
    add("targets/nullable-int-with-na", "error",
        "df = base()[['x1', 'x2', 'ycount']].rename(columns={'ycount': 'y'})\n"
        "df['y'] = df.y.astype('Int64')\ndf.loc[2, 'y'] = pd.NA\n" + fit.format(""),
        names=["'y'"])
    add("targets/int64-2-62", "result",
        "df = num()\ndf['y'] = (df.y * 2**58).astype('int64')\n"
        "result = degenet.fit(df, 'y', solver='exact')",
        check=lambda n: lin_check(rtol=1e-6)(SimpleNamespace(df=n.df.astype({'y': float}),
                                                             result=n.result)))
    add("targets/separation", "warning",
        "df = num()\ndf['y'] = np.where(df.x1 > 0, 'yes', 'no')\n"
        "result = degenet.fit(df, 'y', solver='exact')", warns=(DataWarning, "separation"))
    add("targets/bool-with-none", "error",
        "df = num()\ndf['y'] = pd.Series([True, False] * 100, dtype=object)\n"
        "df.loc[4, 'y'] = None\n" + fit.format(""), names=["'y'"])


