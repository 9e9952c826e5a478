"""What the assistant may run: one read-only SELECT over the `engagement` tables, with a bounded result.

The statement is parsed in Athena's dialect by sqlglot, checked node by node, and the text that runs is the one
printed back from the checked tree (never the model's own text), so nothing the parser did not see can run. Each
refusal names its rule, for the model to correct itself and for the hostile suite to prove which rule held.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlglot
import sqlglot.errors
from sqlglot import exp

from pipeline.core.errors import PipelineError
from pipeline.core.settings import DATABASE

MAX_ROWS = 1_000
MAX_SQL_CHARACTERS = 20_000
CATALOG = "awsdatacatalog"  # Athena's name for the Glue catalog: `awsdatacatalog.engagement.t` is ours too

QUERIES = (exp.Select, exp.SetOperation)
# Statements and clauses that change data, schema or session, wherever they sit in the tree (a CTE may hold one)
WRITES = (exp.DML, exp.DDL, exp.Command, exp.Into, exp.Lock, exp.Set, exp.Pragma, exp.Copy, exp.Use,
          exp.Transaction, exp.Commit, exp.Rollback, exp.Merge, exp.Describe, exp.Analyze, exp.Grant, exp.Revoke)
# Functions that read files or produce rows out of nothing: a FROM over them is not one of our tables
ROW_SOURCES = (exp.ReadCSV, exp.ReadParquet, exp.GenerateSeries, exp.ExplodingGenerateSeries,
               exp.GenerateDateArray, exp.GenerateTimestampArray)
# Trino functions sqlglot has no class for, vetted harmless: they compute on their arguments and read nothing
EXTRA_FUNCTIONS = frozenset({"format_datetime", "map_agg", "histogram", "normal_cdf", "codepoint",
                             "hamming_distance", "parse_datetime", "date_format", "human_readable_seconds"})


class Refused(PipelineError):
    """A statement the guard will not run; `rule` names the rule it broke."""

    def __init__(self, rule: str, message: str):
        super().__init__(rule, message)
        self.rule, self.message = rule, message

    def __str__(self) -> str:
        return f"refused ({self.rule}): {self.message}"


@dataclass(frozen=True)
class GuardedSql:
    sql: str  # Athena SQL as printed from the checked tree, tables qualified, LIMIT imposed
    tables: tuple[str, ...]  # the engagement tables it reads
    limit: int


def guard(sql: str, tables: frozenset[str]) -> GuardedSql:
    """The statement made safe to run, or Refused: `tables` are the engagement tables that may be read."""
    if len(sql) > MAX_SQL_CHARACTERS:
        raise Refused("too_long", f"the statement has {len(sql):,} characters; at most {MAX_SQL_CHARACTERS:,}")
    statement = _one_statement(sql)
    _refuse_writes(statement)
    _refuse_recursion(statement)
    _refuse_parameters(statement)
    read = _qualify_tables(statement, tables)
    _check_functions(statement)
    _refuse_cross_joins(statement)
    limit = _impose_limit(statement)
    return GuardedSql(statement.sql(dialect="athena"), tuple(sorted(read)), limit)


def _one_statement(sql: str) -> exp.Expression:
    try:
        with _quiet_parser():
            statements = [statement for statement in sqlglot.parse(sql, read="athena") if statement is not None]
    except sqlglot.errors.SqlglotError as error:
        raise Refused("parse", f"not valid Athena SQL: {str(error).splitlines()[0]}") from None
    if len(statements) != 1:
        raise Refused("one_statement", f"exactly one statement is run, got {len(statements)}")
    (statement,) = statements
    while isinstance(statement, exp.Subquery) and not statement.alias:  # (SELECT ...) is a SELECT
        statement = statement.this
    if not isinstance(statement, QUERIES):
        raise Refused("select_only", f"only a SELECT (WITH allowed) is run, got {_kind(statement)}")
    return statement


class _quiet_parser:
    """sqlglot logs a warning for each statement it can only keep as an opaque command (UNLOAD, CALL, SHOW...):
    those are refused here, and the warning would only clutter the answer's log."""

    def __enter__(self) -> None:
        self.logger = logging.getLogger("sqlglot")
        self.level = self.logger.level
        self.logger.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        self.logger.setLevel(self.level)


def _kind(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return node.key.upper()


def _refuse_writes(statement: exp.Expression) -> None:
    for node in statement.walk():
        if isinstance(node, WRITES):
            raise Refused("select_only", f"{_kind(node)} inside the query: only reads are run")


def _refuse_recursion(statement: exp.Expression) -> None:
    for with_ in statement.find_all(exp.With):
        if with_.args.get("recursive"):
            raise Refused("no_recursion", "WITH RECURSIVE can run without end: write the query without it")


def _refuse_parameters(statement: exp.Expression) -> None:
    if statement.find(exp.Placeholder, exp.Parameter):
        raise Refused("no_parameters", "the statement has a parameter placeholder: write the value in the SQL")


def _check_functions(statement: exp.Expression) -> None:
    for function in statement.find_all(exp.Func):
        if isinstance(function, ROW_SOURCES):
            raise Refused("function_not_allowed",
                          f"{function.sql(dialect='athena')[:80]} reads files or makes rows: only tables are read")
        if isinstance(function, exp.Anonymous) and function.name.lower() not in EXTRA_FUNCTIONS:
            raise Refused("function_not_allowed", f"function {function.name}() is not one the assistant may call")


def _refuse_cross_joins(statement: exp.Expression) -> None:
    """A join without a condition multiplies tables: refused (CROSS JOIN UNNEST of a row's own array is not)."""
    for join in statement.find_all(exp.Join):
        if isinstance(join.this, (exp.Unnest, exp.Lateral)):
            continue
        condition = join.args.get("on")
        if join.args.get("using"):
            continue
        if condition is None or not condition.find(exp.Column):
            raise Refused("no_cross_join", f"join of {join.this.sql(dialect='athena')[:60]} has no condition on "
                                           "columns (ON a.x = b.x): a cross join is refused")


def _qualify_tables(statement: exp.Expression, allowed: frozenset[str]) -> set[str]:
    """Every table is a CTE or one of ours; ours are written engagement.name, so every engine resolves them."""
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    read = set()
    for table in statement.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise Refused("tables_only", f"FROM {table.sql(dialect='athena')[:80]}: only tables are read")
        name, database, catalog = table.name.lower(), table.db.lower(), table.catalog.lower()
        if not database and not catalog and name in ctes:
            continue
        if catalog not in ("", CATALOG) or database not in ("", DATABASE):
            where = ".".join(part for part in (catalog, database) if part)
            raise Refused("engagement_only", f"{where}.{name} is outside the {DATABASE} database")
        if name not in allowed:
            raise Refused("engagement_only", f"{DATABASE}.{name} is not a table of the {DATABASE} database "
                                             f"(its tables: {', '.join(sorted(allowed))})")
        table.set("catalog", None)
        table.set("db", exp.to_identifier(DATABASE))
        read.add(name)
    if not read:
        raise Refused("engagement_only", f"the query reads no table of the {DATABASE} database")
    return read


def _impose_limit(statement: exp.Expression) -> int:
    """The outer query's LIMIT (or FETCH FIRST), at most MAX_ROWS; added where there is none."""
    given = statement.args.get("limit")
    asked = None
    if isinstance(given, exp.Fetch):
        options = given.args.get("limit_options")
        if options and (options.args.get("percent") or options.args.get("with_ties")):
            raise Refused("limit", "FETCH FIRST ... PERCENT or WITH TIES: give a whole number of rows")
        asked = _row_count(given.args.get("count"))
    elif given is not None:
        asked = _row_count(given.expression)
    limit = min(asked, MAX_ROWS) if asked is not None else MAX_ROWS
    statement.set("limit", exp.Limit(expression=exp.Literal.number(limit)))
    return limit


def _row_count(node: exp.Expression | None) -> int | None:
    if node is None:
        return None
    if isinstance(node, exp.Literal) and not node.is_string and node.name.isdigit():
        return int(node.name)
    if isinstance(node, exp.Var) and node.name.upper() == "ALL":
        return None
    raise Refused("limit", f"LIMIT {node.sql(dialect='athena')} is not a whole number of rows")
