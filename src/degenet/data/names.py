"""Names that cannot collide: one column per name in every table, one term per name.

pandas reads a CSV header ``x1,x1,y`` as ``x1, x1.1, y`` without a word, and pyarrow turns a
Parquet file with two ``x1`` columns into a seven-line error; both are one error here,
naming the column, as for a DataFrame. The design's terms are names too: a numeric column
``g[b]`` beside a text column ``g`` (whose level ``b`` is also named ``g[b]``) or a column
named ``intercept`` (the name of the intercept's row) would give a coefficient table with
two rows of one name, of which a JSON object keeps one. Such a table is refused, naming
the columns, so that every number the user reads belongs to one term.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from degenet.data.coding import level_name
from degenet.errors import DegenetError

INTERCEPT = "intercept"  # the coefficient tables' name for the intercept's row


def duplicates(names) -> list[str]:
    """The names that occur more than once, in order of first occurrence."""
    counts = Counter(str(name) for name in names)
    return [name for name in dict.fromkeys(map(str, names)) if counts[name] > 1]


def check_unique(names, where: str) -> None:
    """Refuse a table whose columns repeat a name; ``where`` names the table."""
    repeated = duplicates(names)
    if repeated:
        raise DegenetError(
            f"{where} has duplicate column name(s) {', '.join(map(repr, repeated))}; every "
            "column needs its own name: rename them")


def csv_header(path: Path, *, delimiter: str, file_encoding: str) -> list[str]:
    """The header row of a CSV file as written (pandas renames repeated names)."""
    with path.open("r", encoding=file_encoding, errors="replace", newline="") as handle:
        return next(csv.reader(handle, delimiter=delimiter, skipinitialspace=True), [])


def check_terms(encoding) -> None:
    """Refuse an encoding whose terms repeat a name or take the intercept's name."""
    producers: dict[str, list[str]] = {}
    for column in encoding.schema:
        made = ([column.name] if column.levels is None else
                [level_name(column.name, level) for level in column.levels[1:]])
        for term in made:
            producers.setdefault(term, []).append(column.name)
    if INTERCEPT in encoding.terms:
        raise DegenetError(
            f"the term {INTERCEPT!r} (from column(s) "
            f"{', '.join(map(repr, producers.get(INTERCEPT, [INTERCEPT])))}) has the name of "
            "the intercept's row in the coefficient table: rename the column (e.g. "
            f"'{INTERCEPT}_')")
    for term in duplicates(encoding.terms):
        columns = producers.get(term, [])
        # Rename the column named like the generated term (g[b]), not the one making it (g).
        rename = term if term in columns else (columns[0] if columns else term)
        source = (f"columns {', '.join(map(repr, columns))} both make it" if len(columns) > 1
                  else "two terms of the formula make it")
        raise DegenetError(f"the term {term!r} would name two coefficients; {source}: rename "
                           f"column {rename!r} (e.g. to '{rename}_')")
