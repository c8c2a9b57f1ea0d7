"""The sidecar's text checked whole before anything trusts it: size, depth, hash, types.

A sidecar is read in three steps, none of which imports Keras (``degenet inspect`` uses them):

1. :func:`parse` reads at most :data:`MAX_SIDECAR_BYTES`, refuses JSON nested deeper than
   :data:`MAX_DEPTH` (measured on the text before parsing, so a 100,000-deep nesting is an
   error, not a ``RecursionError``) and refuses ``NaN``/``Infinity``, which JSON lacks.
2. :func:`check_digest` compares ``sidecar_sha256`` with the sha256 of the rest of the
   sidecar (:func:`digest`: its canonical JSON, keys sorted). An edited sidecar (a family,
   a level order, a coefficient) is refused. Sidecars written before the key existed have
   none; they are read, and checked as below.
3. :func:`check_types` checks every key degenet reads: its type, its size and how it agrees
   with the others (one term per input, one scale per term, terms as the levels make them,
   coefficient rows in the order of the terms).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import numpy as np

from degenet.data.coding import CODINGS, level_name
from degenet.errors import DegenetError

MAX_SIDECAR_BYTES = 64 << 20
MAX_DEPTH = 64
MAX_ITEMS = 1_000_000  # terms, levels, classes, coefficients
MAX_TEXT = 10_000  # characters of a name, a level or a spec
DIGEST_KEY = "sidecar_sha256"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def parse(raw: bytes, path: Path) -> dict:
    """The sidecar's JSON object from its bytes; errors name ``path`` and what is wrong."""
    if len(raw) > MAX_SIDECAR_BYTES:
        raise DegenetError(f"{path} is larger than {MAX_SIDECAR_BYTES >> 20} MiB; a degenet "
                           "sidecar is a few kilobytes: refusing to read it")
    sidecar = load_json(raw, path)
    if not isinstance(sidecar, dict):
        raise DegenetError(f"{path} is not a degenet model sidecar (a JSON object); it holds "
                           f"a {type(sidecar).__name__}")
    return sidecar


def load_json(raw: bytes, path) -> object:
    """JSON from bytes, refusing nesting deeper than :data:`MAX_DEPTH` before parsing."""
    depth = _depth(raw)
    if depth > MAX_DEPTH:
        raise DegenetError(f"{path} is nested {depth} levels deep; degenet writes at most "
                           f"{MAX_DEPTH}: the file is damaged or was not written by degenet")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as error:
        raise DegenetError(f"{path} is not valid JSON ({type(error).__name__}: "
                           f"{str(error)[:120]}); the file is truncated or damaged") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _depth(raw: bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` outside strings (linear, no recursion)."""
    text = np.frombuffer(_STRINGS.sub(b'""', raw), dtype=np.uint8)
    steps = (np.isin(text, (ord("["), ord("{"))).astype(np.int64)
             - np.isin(text, (ord("]"), ord("}"))).astype(np.int64))
    return int(np.cumsum(steps).max(initial=0))


def digest(sidecar: dict) -> str:
    """sha256 of the sidecar without its own digest: canonical JSON, keys sorted."""
    body = {key: value for key, value in sidecar.items() if key != DIGEST_KEY}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def check_digest(sidecar: dict, path: Path) -> None:
    """Refuse a sidecar edited after saving (when it records its digest)."""
    recorded = sidecar.get(DIGEST_KEY)
    if recorded is None:
        return  # written before sidecars recorded their digest
    if not isinstance(recorded, str) or recorded != digest(sidecar):
        raise DegenetError(
            f"{path} does not match the sha256 it records ({DIGEST_KEY}): it was edited "
            "after saving; refusing to load it (save the model again from the fit)")


def check_types(sidecar: dict, path: Path) -> None:
    """Every key degenet reads has the type and size it must, and agrees with the others."""
    where = str(path)
    _text(where, "model", sidecar["model"])
    _text(where, "family", sidecar["family"])
    hidden = _list(where, "hidden", sidecar["hidden"], 1000)
    if not all(_is_int(h) and 0 < h <= MAX_ITEMS for h in hidden):
        _fail(where, "hidden", "a list of positive layer widths", hidden)
    if not isinstance(sidecar["intercept"], bool):
        _fail(where, "intercept", "true or false", sidecar["intercept"])
    n_features = _count(where, "n_features", sidecar["n_features"])
    n_outputs = _count(where, "n_outputs", sidecar["n_outputs"])
    classes = sidecar["classes"]
    if classes is not None:
        classes = _list(where, "classes", classes, MAX_ITEMS)
        if len(classes) < 2 or not all(_is_label(c) for c in classes) \
                or len(set(map(_key, classes))) != len(classes):
            _fail(where, "classes", "null or a list of two or more distinct labels", classes)
        if classes != _sorted(classes):  # degenet sorts them: the last is bernoulli's positive
            _fail(where, "classes", "in sorted order, as degenet writes them", classes)
    if not (sidecar.get("reference") is None or _is_label(sidecar["reference"])):
        _fail(where, "reference", "null or a class label", sidecar["reference"])
    if not (isinstance(sidecar["keras_sha256"], str) and _HEX64.fullmatch(sidecar["keras_sha256"])):
        _fail(where, "keras_sha256", "64 hexadecimal digits", sidecar["keras_sha256"])
    terms = _check_encoding(where, sidecar["encoding"], n_features)
    _check_scaling(where, sidecar["scaling"], n_features)
    _check_coefficients(where, sidecar.get("coefficients"), terms)
    _check_weights(where, sidecar.get("exact_weights"), n_features, n_outputs)
    for key in ("settings", "training", "versions", "estimator", "optimizer"):
        if sidecar.get(key) is not None and not isinstance(sidecar[key], dict):
            _fail(where, key, "an object", sidecar[key])


def _check_encoding(where: str, encoding, n_features: int) -> list[str]:
    if not isinstance(encoding, dict):
        _fail(where, "encoding", "an object", encoding)
    for key in ("target", "columns", "terms"):
        if key not in encoding:
            raise DegenetError(f"{where}: 'encoding' lacks {key!r}; the file is damaged")
    _text(where, "encoding.target", encoding["target"])
    columns = _names(where, "encoding.columns", encoding["columns"])
    terms = _names(where, "encoding.terms", encoding["terms"])
    if len(terms) != n_features:
        raise DegenetError(f"{where}: 'encoding.terms' names {len(terms)} terms; 'n_features' "
                           f"says {n_features}")
    if encoding.get("coding", "treatment") not in CODINGS:
        _fail(where, "encoding.coding", " or ".join(CODINGS), encoding.get("coding"))
    if encoding.get("missing", "error") not in ("error", "drop"):
        _fail(where, "encoding.missing", "'error' or 'drop'", encoding.get("missing"))
    if not isinstance(encoding.get("intercept", True), bool):
        _fail(where, "encoding.intercept", "true or false", encoding.get("intercept"))
    if not (_is_int(encoding.get("dropped_rows", 0)) and encoding.get("dropped_rows", 0) >= 0):
        _fail(where, "encoding.dropped_rows", "a count", encoding.get("dropped_rows"))
    _names(where, "encoding.excluded", encoding.get("excluded", []))
    formula = encoding.get("formula")
    if formula is not None:
        _text(where, "encoding.formula", formula)
        if not isinstance(encoding.get("formula_state"), dict):
            _fail(where, "encoding.formula_state", "an object", encoding.get("formula_state"))
    schema = _list(where, "encoding.schema", encoding.get("schema", []), MAX_ITEMS)
    if schema:
        made = _check_schema(where, schema, columns)
        if formula is None and made != terms:
            raise DegenetError(
                f"{where}: 'encoding.terms' {_short(terms)} are not the terms its columns and "
                f"levels make ({_short(made)}); the file was edited or damaged")
    return terms


def _check_schema(where: str, schema: list, columns: list[str]) -> list[str]:
    """Check each column's entry; return the terms the columns and levels make."""
    made = []
    for k, column in enumerate(schema):
        key = f"encoding.schema[{k}]"
        if not isinstance(column, dict):
            _fail(where, key, "an object", column)
        name = _text(where, f"{key}.name", column.get("name"))
        if column.get("kind") not in ("numeric", "categorical"):
            _fail(where, f"{key}.kind", "'numeric' or 'categorical'", column.get("kind"))
        if column.get("dtype") not in ("number", "text", "boolean", "category"):
            _fail(where, f"{key}.dtype", "number, text, boolean or category", column.get("dtype"))
        if column["kind"] == "numeric":
            made.append(name)
            continue
        levels = _list(where, f"{key}.levels", column.get("levels"), MAX_ITEMS)
        if len(levels) < 2 or not all(_is_label(v) for v in levels) \
                or len(set(map(_key, levels))) != len(levels):
            _fail(where, f"{key}.levels", "two or more distinct labels", levels)
        made += [level_name(name, level) for level in levels[1:]]
    if [c.get("name") for c in schema] != columns:
        raise DegenetError(f"{where}: 'encoding.schema' describes columns "
                           f"{_short([c.get('name') for c in schema])}; 'encoding.columns' "
                           f"lists {_short(columns)}")
    return made


def _check_scaling(where: str, scaling, n_features: int) -> None:
    if not isinstance(scaling, dict) or "mean" not in scaling or "scale" not in scaling:
        _fail(where, "scaling", "an object with 'mean' and 'scale'", scaling)
    for key in ("mean", "scale"):
        values = _numbers(where, f"scaling.{key}", scaling[key])
        if len(values) != n_features:
            raise DegenetError(f"{where}: 'scaling.{key}' has {len(values)} values for "
                               f"{n_features} terms")
    if not all(v > 0 for v in scaling["scale"]):
        _fail(where, "scaling.scale", "positive numbers", scaling["scale"])


def _check_coefficients(where: str, records, terms: list[str]) -> None:
    if records is None:
        return
    records = _list(where, "coefficients", records, MAX_ITEMS)
    if not all(isinstance(r, dict) and isinstance(r.get("term"), str)
               and (r.get("estimate") is None or _is_number(r.get("estimate"))) for r in records):
        _fail(where, "coefficients", "records with a 'term' and a numeric 'estimate'",
              records[:2])
    named = list(dict.fromkeys(r["term"] for r in records if r["term"] != "intercept"))
    if named != terms:
        raise DegenetError(f"{where}: the coefficient table names the terms {_short(named)}; "
                           f"the encoding (its columns and levels) has {_short(terms)}")


def _check_weights(where: str, weights, n_features: int, n_outputs: int) -> None:
    """The single-layer model's float64 weights: beta (n_features x n_outputs), alpha."""
    if weights is None:
        return
    if not isinstance(weights, dict) or set(weights) != {"beta", "alpha"}:
        _fail(where, "exact_weights", "an object with 'beta' and 'alpha'", weights)
    beta = _list(where, "exact_weights.beta", weights["beta"], MAX_ITEMS)
    if len(beta) != n_features or not all(
            isinstance(row, list)
            and len(_numbers(where, "exact_weights.beta", row)) == n_outputs for row in beta):
        raise DegenetError(f"{where}: 'exact_weights.beta' must be {n_features} rows of "
                           f"{n_outputs} numbers")
    if len(_numbers(where, "exact_weights.alpha", weights["alpha"])) != n_outputs:
        raise DegenetError(f"{where}: 'exact_weights.alpha' must hold {n_outputs} numbers")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _is_label(value) -> bool:
    """A class or level: text, a whole or finite number, or a boolean."""
    if isinstance(value, str):
        return len(value) <= MAX_TEXT
    return isinstance(value, bool) or _is_number(value)


def _sorted(values: list) -> list:
    """Labels in degenet's order (:func:`degenet.model.family.levels`)."""
    try:
        return sorted(values)
    except TypeError:  # mixed label types: by their text
        return sorted(values, key=str)


def _key(value):
    return (type(value).__name__, value)


def _text(where: str, key: str, value) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        _fail(where, key, f"text of at most {MAX_TEXT} characters", value)
    return value


def _count(where: str, key: str, value) -> int:
    if not (_is_int(value) and 0 < value <= MAX_ITEMS):
        _fail(where, key, "a positive whole number", value)
    return value


def _list(where: str, key: str, value, most: int) -> list:
    if not isinstance(value, list) or len(value) > most:
        _fail(where, key, f"a list of at most {most:,} items", value)
    return value


def _names(where: str, key: str, value) -> list[str]:
    names = _list(where, key, value, MAX_ITEMS)
    if not all(isinstance(n, str) and len(n) <= MAX_TEXT for n in names):
        _fail(where, key, "a list of names (text)", value)
    if len(set(names)) != len(names):
        _fail(where, key, "a list of distinct names", value)
    return names


def _numbers(where: str, key: str, value) -> list:
    values = _list(where, key, value, MAX_ITEMS)
    if not all(_is_number(v) for v in values):
        _fail(where, key, "a list of finite numbers", value)
    return values


def _short(value) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _fail(where: str, key: str, what: str, value):
    raise DegenetError(f"{where}: {key!r} must be {what}; found {_short(value)}. The file is "
                       "damaged or was not written by degenet")
