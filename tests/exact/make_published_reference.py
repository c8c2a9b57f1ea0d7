"""Copy the reference values the published-results tests need into published_reference.json.

The source is the reference set prepared for issue 11 (``references.json``, made by
``make_references.py``, with NOTES.md: NIST StRD certified values transcribed from public
copies and checked by a 90-digit mpmath refit; statsmodels' stored Stata/R results refitted by
Newton in mpmath at 50 digits; HC0-HC3 and cluster covariances from their formulas in mpmath).
Kept here: the data (but the diabetes and anes96 tables, which scikit-learn and statsmodels
ship) and the values the tests compare with. Usage:

    python tests/exact/make_published_reference.py /path/to/references.json
"""

import json
import sys
from pathlib import Path

OUT = Path(__file__).parent / "published_reference.json"
SHIPPED = ("diabetes_ols_robust", "anes96_mnlogit")  # their tables come from the libraries
KEEP = ("family", "intercept", "columns", "X", "y", "exposure", "groups", "reference",
        "mpmath_float64_design", "mpmath", "statsmodels", "groups_rule", "published")


def trimmed(name: str, case: dict) -> dict:
    out = {key: case[key] for key in KEEP if case.get(key) is not None}
    if name in SHIPPED:
        out.pop("X", None)
        out.pop("y", None)
    for part in ("reference", "mpmath_float64_design"):
        if part in out:  # the strings hold every digit; the printed NIST order is redundant
            out[part] = {k: v for k, v in out[part].items()
                         if k not in ("as_printed_nist_order", "params_float", "bse_float")}
    return out


def main(source: str) -> None:
    cases = json.loads(Path(source).read_text())["cases"]
    OUT.write_text(json.dumps({name: trimmed(name, case) for name, case in cases.items()},
                              indent=None, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
