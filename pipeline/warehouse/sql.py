"""The Athena SQL of `athena_sql/`, rendered for a run (Athena runs it on AWS; locally DuckDB, translated).

Templates take `{{name}}` parameters (validated: ISO dates, integers, finite floats and plain tokens of letters, digits,
`_`, `.` and `-` only, so nothing is injected; or `Composed` SQL the code wrote from its own names) and
`{{sql:other}}` to inline another file.

The training and scoring sets are written by UNLOAD statements the state machine composes (PrepareSets) from
UNLOAD_TEMPLATE: the SELECT, the set's folder, the execution's attempt ($$.Execution.RedriveCount) and the options.
UNLOAD needs an empty folder, so each attempt writes its own `attempt=N/`, and readers take the newest.
"""
from __future__ import annotations

import datetime as dt
import math
import re

from pipeline.core.settings import REPO_ROOT
from pipeline.warehouse.layout import ATTEMPT_FOLDER

SQL_DIR = REPO_ROOT / "athena_sql"
PLACEHOLDER = re.compile(r"\{\{\s*(sql:)?([a-z_]+)\s*\}\}")
# statemachine/pipeline.asl.json's PrepareSets holds the same text (tests/deploy/test_template.py checks it).
UNLOAD_TEMPLATE = f"UNLOAD ({{}}) TO '{{}}{ATTEMPT_FOLDER}{{}}/' WITH ({{}})"
UNLOAD_STATEMENT = re.compile(r"UNLOAD \((?P<select>.*)\) TO '(?P<location>(?:[^']|'')*)' WITH \((?P<options>.*)\)",
                              re.DOTALL)
PARTITIONED_BY = re.compile(r"partitioned_by = ARRAY\['(?P<column>[a-z_]+)'\]")
TOKEN = re.compile(r"[A-Za-z0-9_.-]+")  # a string parameter (a version, a name): nothing to escape in a literal


class Composed(str):
    """SQL text the code composed from its own fixed names (never from input), rendered as it is: the columns of a
    pivot that depend on a configuration, say."""


def _literal(name: str, value: object) -> str:
    if isinstance(value, Composed):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return f"{value!r}e0" if "e" not in repr(value) else repr(value)  # a DOUBLE literal, not a DECIMAL
    if isinstance(value, str) and TOKEN.fullmatch(value):
        return value
    raise TypeError(f"SQL parameter {name!r} must be a date, an int, a finite float or a token of letters, digits, "
                    f"_, . and -, got {value!r}")


def render(template: str, **params: object) -> str:
    """The text of `athena_sql/<template>.sql` with its parameters filled in."""
    text = (SQL_DIR / f"{template}.sql").read_text()

    def substitute(match: re.Match) -> str:
        is_include, name = match.groups()
        if is_include:
            return render(name, **params).rstrip()
        if name not in params:
            raise KeyError(f"athena_sql/{template}.sql needs parameter {name!r}")
        return _literal(name, params[name])

    return PLACEHOLDER.sub(substitute, text)


def unload_set(select: str, location: str, partition_by: str) -> dict[str, str]:
    """What PrepareSets needs to compose one set's UNLOAD: the SELECT, the folder (ending in /, as the inside of
    an SQL string: a quote doubled, since a local data directory may hold one), the options."""
    # A line comment at the end would swallow the closing parenthesis: end the SELECT with a newline.
    return {"select": select.rstrip().removesuffix(";") + "\n", "location": location.replace("'", "''"),
            "options": f"format = 'PARQUET', compression = 'ZSTD', partitioned_by = ARRAY['{partition_by}']"}


def unload_statement(unload: dict[str, str], attempt: int) -> str:
    """The statement PrepareSets composes for `unload` (see unload_set) on the execution's `attempt`."""
    return UNLOAD_TEMPLATE.format(unload["select"], unload["location"], attempt, unload["options"])


def parse_unload(statement: str) -> tuple[str, str, str | None]:
    """(SELECT, location, partition column) of an UNLOAD statement as composed from UNLOAD_TEMPLATE."""
    match = UNLOAD_STATEMENT.fullmatch(statement.strip())
    if not match:
        raise ValueError(f"not an UNLOAD statement of UNLOAD_TEMPLATE's shape: {statement[:120]!r}")
    partitioned = PARTITIONED_BY.search(match["options"])
    return match["select"], match["location"].replace("''", "'"), partitioned["column"] if partitioned else None
