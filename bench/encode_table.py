"""Time to turn a mixed table into a design: degenet's encode/transform vs formulaic.

    .venv/bin/python bench/encode_table.py [n_rows]

The peer is formulaic's ``model_matrix`` on the same formula and frame (degenet calls
formulaic for formulas; for features it codes the columns itself). degenet does more per
call (type, stray-text, missing and finite checks, level bookkeeping), so a ratio near 1
says those checks are cheap. Best of three runs each, measured in this process.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from formulaic import model_matrix

from degenet.data.encoding import encode

FORMULA = "y ~ a + b + c + city + rel + flag + a:city"


def table(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.integers(0, 5, n),
        "city": rng.choice(["Oslo", "Bergen", "Tromsø"], n),
        "rel": rng.choice(["single", "partnered"], n), "flag": rng.choice([True, False], n),
        "y": rng.normal(size=n)})


def best(job, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n: int) -> None:
    frame = table(n)
    peer = best(lambda: model_matrix(FORMULA, frame))
    fitted, _, _ = encode(frame, formula=FORMULA)
    rows = [("encode(formula)", best(lambda: encode(frame, formula=FORMULA))),
            ("transform(formula)", best(lambda: fitted.transform(frame))),
            ("encode(features)", best(lambda: encode(frame, "y")))]
    print(f"{n:,} rows, formula {FORMULA!r}")
    print(f"  formulaic model_matrix       {peer:7.3f} s   (peer)")
    for name, seconds in rows:
        print(f"  degenet {name:<21}{seconds:7.3f} s   ratio {seconds / peer:5.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
