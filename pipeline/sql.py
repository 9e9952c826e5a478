"""The Athena SQL of `athena_sql/`, rendered for a run (Athena runs it on AWS; locally DuckDB, translated).

Templates take `{{name}}` parameters (validated: ISO dates, integers and finite floats only, so nothing is injected) and
`{{sql:other}}` to inline another file.
"""
from __future__ import annotations

import datetime as dt
import math
import re

from pipeline.settings import REPO_ROOT

SQL_DIR = REPO_ROOT / "athena_sql"
PLACEHOLDER = re.compile(r"\{\{\s*(sql:)?([a-z_]+)\s*\}\}")


def _literal(name: str, value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return f"{value!r}e0" if "e" not in repr(value) else repr(value)  # a DOUBLE literal, not a DECIMAL
    raise TypeError(f"SQL parameter {name!r} must be a date, an int or a finite float, got {value!r}")


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
