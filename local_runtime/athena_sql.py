"""Athena (Trino) SQL as DuckDB runs it: sqlglot's translation, plus the rewrites it lacks, in one place.

sqlglot turns Trino's functions and syntax into DuckDB's (date_add, date_diff, md5, to_utf8, `:name`
parameters...). What it passes through unchanged, or changes in meaning, is handled here:

- `from_base(digits, 16)` (no such function in DuckDB) becomes `CAST('0x' || digits AS BIGINT)`, exactly; other
  radixes are not used by the shipped SQL and are refused.
- `xxhash64(to_utf8(text))` (none in DuckDB) becomes DuckDB's own 64-bit `hash(text)`, and
  `from_big_endian_64(xxhash64(to_utf8(text)))`, Athena's signed integer of it, the same unsigned one. Other
  functions, so the values differ, but the shipped SQL only compares hashes with each other or buckets ids by
  `abs(mod(hash, n))`, where any deterministic hash gives a right answer (equal ids, equal hashes; each id in one
  bucket), though not the same buckets on both engines. Any other argument is refused.
- `date_add(unit, n, d)` of a DATE is a DATE in Trino, a TIMESTAMP in DuckDB (`d + INTERVAL`): cast back to DATE
  where `d` is visibly a date (a DATE literal or a CAST to DATE). Comparisons agree either way; the shipped SQL
  casts its parameters to DATE, so what it returns is a date on both.
- `a / b` of two integers is an integer in Trino (7 / 2 = 3) and a double in DuckDB (3.5), and the types are not
  known before the query runs. A division is translated only when one side is visibly fractional (a decimal
  literal such as 1e0 or 1.0, a CAST to DOUBLE, REAL or DECIMAL, or an avg()), where both engines agree; any other
  is refused, naming it, so a query never answers differently here and on Athena. The shipped SQL writes `1e0 / n`
  or `CAST(x AS DOUBLE) / n` for that reason.
"""
from __future__ import annotations

import sqlglot
import sqlglot.errors
from sqlglot import expressions as exp

from pipeline.core.errors import QueryError

FRACTIONAL_TYPES = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT, exp.DataType.Type.DECIMAL}


def parse(sql: str) -> list[exp.Expression]:
    """The statements of an Athena SQL text; a syntax error becomes a QueryError naming it."""
    try:
        return [statement for statement in sqlglot.parse(sql, read="athena") if statement]
    except sqlglot.errors.SqlglotError as error:
        raise QueryError(f"query failed: {error}") from None


def to_duckdb(statement: exp.Expression | str) -> str:
    """One Athena statement (parsed, or its text) as DuckDB SQL with the same meaning, or a QueryError."""
    if isinstance(statement, str):
        (statement,) = parse(statement)
    return statement.transform(_rewrite).sql(dialect="duckdb")


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.FromBase):
        return _from_base(node)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "xxhash64":
        return _xxhash64(node)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "from_big_endian_64":
        return _from_big_endian_64(node)
    if isinstance(node, exp.Div):
        _check_division(node)
    if isinstance(node, exp.DateAdd) and _is_date(node.this):
        return exp.Cast(this=node.copy(), to=exp.DataType.build("DATE"))
    return node


def _is_date(node: exp.Expression) -> bool:
    node = node.unnest()
    return isinstance(node, (exp.Cast, exp.TryCast)) and node.to.this == exp.DataType.Type.DATE


def _from_base(node: exp.FromBase) -> exp.Expression:
    radix = node.expression
    if not (isinstance(radix, exp.Literal) and radix.name == "16"):
        raise QueryError(f"{node.sql(dialect='athena')}: only from_base(…, 16) runs locally")
    hex_literal = exp.DPipe(this=exp.Literal.string("0x"), expression=node.this)
    return exp.Cast(this=hex_literal, to=exp.DataType.build("BIGINT"))


def _xxhash64(node: exp.Anonymous) -> exp.Expression:
    (argument,) = node.expressions
    if not isinstance(argument, exp.Encode):
        raise QueryError(f"{node.sql(dialect='athena')}: only xxhash64(to_utf8(…)) runs locally")
    return exp.Anonymous(this="hash", expressions=[argument.this.copy()])


def _from_big_endian_64(node: exp.Anonymous) -> exp.Expression:
    (argument,) = node.expressions
    if not (isinstance(argument, exp.Anonymous) and argument.name.lower() == "xxhash64"):
        raise QueryError(f"{node.sql(dialect='athena')}: only from_big_endian_64(xxhash64(…)) runs locally")
    return _xxhash64(argument)


def _check_division(node: exp.Div) -> None:
    if not (_fractional(node.this) or _fractional(node.expression)):
        raise QueryError(
            f"{node.sql(dialect='athena')}: Athena divides two integers to an integer (7 / 2 = 3) where DuckDB "
            "gives 3.5, so this division is not run locally; say which you mean: CAST(… AS DOUBLE) / … for the "
            "fraction, floor(CAST(… AS DOUBLE) / …) for Athena's integer")


def _fractional(node: exp.Expression) -> bool:
    node = node.unnest()
    if isinstance(node, exp.Literal):
        return not node.is_string and any(mark in node.name.lower() for mark in (".", "e"))
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return node.to.this in FRACTIONAL_TYPES
    return isinstance(node, exp.Avg)
