"""Wilkinson formulas through formulaic, with a state that saves as plain JSON.

``color ~ children + age + C(relationship) + children:age + np.log(age) + I(age**2)``: the
left-hand side names the target column, the right-hand side the design. formulaic keeps
what it learns from the training table (category levels, the centres of ``center(x)``, the
knots of ``bs(x)``) in a ``ModelSpec``; :class:`FormulaState` stores that as JSON so a model
file reproduces the design exactly, and never needs pickle.

A formula's terms are Python expressions that formulaic evaluates. Before any evaluation
each expression is checked against an allow-list (column names, numpy functions, formulaic's
transforms, arithmetic), so a formula read from a model file cannot run arbitrary code.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from degenet.errors import DegenetError

# formulaic's transforms that a formula may call (formulaic.transforms.TRANSFORMS).
TRANSFORMS = frozenset({
    "I", "C", "center", "scale", "standardize", "poly", "bs", "cc", "cr", "cs",
    "log", "log2", "log10", "exp", "exp2", "exp10",
    "Treatment", "Sum", "Helmert", "Poly", "Diff"})
NUMPY = frozenset({
    "log", "log1p", "log2", "log10", "exp", "expm1", "exp2", "sqrt", "cbrt", "square",
    "abs", "absolute", "power", "sign", "floor", "ceil", "round", "clip", "minimum",
    "maximum", "where", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
    "tanh", "reciprocal", "pi", "e"})
CONTRASTS = frozenset({"treatment", "sum", "helmert", "poly", "diff", "SAS"})
_SAFE_NODES = (
    ast.Expression, ast.Call, ast.Name, ast.Load, ast.Attribute, ast.Constant, ast.BinOp,
    ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp, ast.List, ast.Tuple, ast.keyword,
    ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
# formulaic names a treatment (sum) coded level ``C(g)[T.single]`` (``[S.single]``);
# degenet names it ``g[single]``.
_LEVEL = re.compile(r"^(?:C\(\s*(?P<inner>[A-Za-z_][A-Za-z_0-9]*)\s*(?:,.*)?\)|(?P<bare>.+?))"
                    r"\[[TS]\.(?P<level>.*)\]$")


@dataclass(frozen=True)
class ParsedFormula:
    """A formula split into its target and its right-hand side.

    Attributes
    ----------
    text : str
        The formula as given.
    target : str or None
        The column named on the left-hand side; None for a one-sided formula.
    rhs : str
        The right-hand side as formulaic writes it.
    variables : tuple of str
        The table columns the right-hand side reads.
    intercept : bool
        False when the formula removes the intercept (``- 1`` or ``0 +``).
    """

    text: str
    target: str | None
    rhs: str
    variables: tuple[str, ...]
    intercept: bool


def parse_formula(text: str, columns) -> ParsedFormula:
    """Parse ``text`` and check it only reads ``columns`` and allowed functions."""
    from formulaic import Formula

    if not isinstance(text, str) or not text.strip():
        raise DegenetError(f"formula must be text like 'y ~ x1 + x2'; received {text!r}")
    try:
        formula = Formula(text)
    except Exception as error:  # formulaic raises several parser errors; all mean bad syntax
        raise DegenetError(f"cannot parse formula {text!r}: {error}") from None
    rhs = formula.rhs if hasattr(formula, "rhs") else formula
    if hasattr(rhs, "rhs") or not hasattr(rhs, "required_variables"):
        raise DegenetError(f"formula {text!r} has more than one '~' or '|' part; use 'y ~ x'")
    target = _target(formula, text) if hasattr(formula, "lhs") else None
    columns = [str(c) for c in columns]
    variables: set[str] = set()
    for term in rhs:
        for factor in term.factors:
            variables |= check_expression(str(factor.expr), columns, text)
    intercept = any(str(term) == "1" for term in rhs)
    # formulaic writes the right-hand side with its '1 +'; without it the text means '0 +'.
    written = " + ".join(_written(term) for term in rhs)
    written = written if intercept else f"0 + {written}"
    ordered = tuple(c for c in columns if c in variables)
    return ParsedFormula(text=text, target=target, rhs=written, variables=ordered,
                         intercept=intercept)


def _written(term) -> str:
    """A term as formula text; a column name that is not an identifier keeps its backticks
    (formulaic writes ``mean radius:z``, which it cannot read back)."""
    return ":".join(f"`{factor.expr}`" if factor.eval_method.value == "lookup"
                    and not str(factor.expr).isidentifier() else str(factor.expr)
                    for factor in term.factors)


def _target(formula, text: str) -> str:
    terms = list(formula.lhs)
    factors = terms[0].factors if len(terms) == 1 else ()
    if len(factors) != 1 or factors[0].eval_method.value != "lookup":
        raise DegenetError(
            f"the left-hand side of formula {text!r} must be one column name; received "
            f"{str(formula.lhs)!r}. Transform the target in the table instead")
    return str(factors[0].expr)


def check_expression(expr: str, columns: list[str], text: str) -> set[str]:
    """The columns ``expr`` reads; raise unless it only uses columns, allowed functions
    and arithmetic."""
    if expr in columns:
        return {expr}
    # A `quoted name` inside an expression (np.log(`mean area`)) is read as a stand-in
    # identifier for that column.
    stand_ins = {f"quoted_column_{i}": name
                 for i, name in enumerate(re.findall(r"`([^`]*)`", expr))}
    readable = expr
    for stand_in, name in stand_ins.items():
        readable = readable.replace(f"`{name}`", stand_in, 1)
    try:
        tree = ast.parse(readable, mode="eval")
    except SyntaxError:
        raise DegenetError(f"formula {text!r}: cannot read term {expr!r}") from None
    names = {stand_ins.get(node.id, node.id) for node in ast.walk(tree)
             if isinstance(node, ast.Name)}
    unknown = sorted(n for n in names - set(columns) - TRANSFORMS - {"np", "contr"}
                     if not n.startswith("_"))
    if unknown:
        raise DegenetError(
            f"formula {text!r} uses {', '.join(map(repr, unknown))}, which the table does not "
            f"have; columns are: {', '.join(columns)}")
    allowed = [*columns, *(s for s, name in stand_ins.items() if name in columns)]
    for node in ast.walk(tree):
        bad = _unsafe(node, allowed)
        if bad:
            raise DegenetError(
                f"formula {text!r}: term {expr!r} uses {bad}; formulas may use columns, "
                "arithmetic, numpy functions (np.log, np.sqrt, ...) and formulaic's transforms "
                "(C, I, center, scale, poly, bs, ...)")
    return names & set(columns)


def _unsafe(node, columns: list[str]) -> str | None:
    if not isinstance(node, _SAFE_NODES):
        return f"a {type(node).__name__} expression"
    if isinstance(node, ast.Name) and node.id not in columns and node.id not in TRANSFORMS \
            and node.id not in ("np", "contr"):
        return f"the name {node.id!r}"
    if isinstance(node, ast.Attribute):
        owner = node.value.id if isinstance(node.value, ast.Name) else None
        allowed = {"np": NUMPY, "contr": CONTRASTS}.get(owner, frozenset())
        if node.attr not in allowed:
            return f"the attribute {ast.unparse(node)!r}"
    if isinstance(node, ast.keyword) and (node.arg is None or node.arg.startswith("_")):
        return f"the keyword {node.arg!r}"
    if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool,
                                                                      type(None))):
        return f"the constant {node.value!r}"
    return None


def model_matrix(rhs: str, frame: pd.DataFrame, state: dict | None = None
                 ) -> tuple[pd.DataFrame, dict]:
    """The design of ``frame`` under the right-hand side ``rhs``, and formulaic's state.

    ``state`` (from an earlier call) fixes levels and transform parameters; without it they
    are learned from ``frame``. The design keeps every row (no dropping of NaN rows); its
    ``Intercept`` column is left out, since the network has its own bias.
    """
    from formulaic import Formula, ModelSpec
    from formulaic.errors import DataMismatchWarning, FormulaicError

    spec = ModelSpec(formula=Formula(rhs), materializer="pandas", ensure_full_rank=True,
                     na_action="ignore", output="pandas", **_spec_state(state))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # An unseen level would silently become NaN; log(0) is caught by the finite check.
        warnings.simplefilter("error", DataMismatchWarning)
        try:
            matrix = spec.get_model_matrix(frame, context={})
        except DataMismatchWarning as warning:
            raise DegenetError(f"a formula term meets a level not seen in fitting: {warning}"
                               ) from None
        except (FormulaicError, ValueError, TypeError, ArithmeticError) as error:
            raise DegenetError(f"cannot evaluate the formula on this table: {error}") from None
    design = pd.DataFrame(matrix).drop(columns=["Intercept"], errors="ignore")
    return design, state_to_json(matrix.model_spec)


def _spec_state(state: dict | None) -> dict:
    if state is None:
        return {}
    from formulaic.parser.types import Factor

    encoder = {name: (Factor.Kind(entry["kind"]), _encoder_entry(entry))
               for name, entry in state["encoder"].items()}
    return {"encoder_state": encoder, "transform_state": decode(state["transforms"])}


def _encoder_entry(entry: dict) -> dict:
    return {} if entry.get("categories") is None else {"categories": list(entry["categories"])}


def state_to_json(spec) -> dict:
    """formulaic's learned state as JSON: levels per factor and tagged transform state."""
    encoder = {}
    for name, (kind, entry) in spec.encoder_state.items():
        categories = entry.get("categories")
        encoder[str(name)] = {"kind": kind.value, "categories": None if categories is None
                              else [_scalar(c) for c in categories]}
        if "contrasts" in entry:  # for the description only; levels are the source of truth
            contrasts = entry["contrasts"].contrasts
            base = getattr(contrasts, "base", None)
            encoder[str(name)]["contrasts"] = type(contrasts).__name__
            encoder[str(name)]["base"] = _scalar(base) if isinstance(
                _scalar(base), (str, int, float, bool)) else None
    return {"encoder": encoder, "transforms": encode(spec.transform_state)}


def describe_factors(state: dict) -> list[str]:
    """One line per categorical factor of a formula: its coding and reference level."""
    lines = []
    for name, entry in state["encoder"].items():
        levels = entry.get("categories")
        if entry["kind"] != "categorical" or not levels:
            continue
        contrasts = entry.get("contrasts", "TreatmentContrasts")
        listed = ", ".join(map(repr, levels))
        if contrasts in ("TreatmentContrasts", "SASContrasts"):
            base = entry.get("base")
            base = levels[-1 if contrasts == "SASContrasts" else 0] if base is None else base
            lines.append(f"{name}: treatment coding, reference level {base!r} (levels: {listed})")
        elif contrasts == "SumContrasts":
            lines.append(f"{name}: sum coding, last level {levels[-1]!r} omitted (levels: "
                         f"{listed})")
        else:
            lines.append(f"{name}: {contrasts} (levels: {listed})")
    return lines


def _scalar(value):
    return value.item() if isinstance(value, np.generic) else value


def encode(value):
    """Tagged JSON for transform state: dicts with any keys, tuples, arrays, numbers."""
    value = _scalar(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"__array__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, dict):
        return {"__dict__": [[encode(k), encode(v)] for k, v in value.items()]}
    raise DegenetError(
        f"the formula's transform state holds a {type(value).__name__}, which cannot be "
        "saved as JSON; use a simpler transform")


def decode(value):
    """The inverse of :func:`encode`."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(decode(v) for v in value["__tuple__"])
    if "__array__" in value:
        return np.asarray(value["__array__"], dtype=np.dtype(value["dtype"]))
    if "__dict__" in value:
        return {_hashable(decode(k)): decode(v) for k, v in value["__dict__"]}
    raise DegenetError(f"unreadable formula state entry {value!r}")


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def term_names(design_columns: list[str]) -> list[str]:
    """degenet's names for formulaic's columns: ``C(g)[T.b]:x`` becomes ``g[b]:x``.

    Names are kept as formulaic wrote them if renaming would make two of them equal.
    """
    renamed = [":".join(_rename(part) for part in name.split(":")) for name in design_columns]
    return renamed if len(set(renamed)) == len(renamed) else list(design_columns)


def _rename(part: str) -> str:
    match = _LEVEL.match(part)
    if not match:
        return part
    column = match.group("inner") or match.group("bare")
    return f"{column}[{match.group('level')}]"
