"""Validate a weekly snapshot against the input contract and conform it to the landed schema.

Every broken rule is collected and reported at once, each naming the file, the column, the rule and how many
rows break it, with a few example values, so a user fixes the file in one pass.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from pipeline.contract import COLUMNS, COLUMNS_BY_NAME, KEY_COLUMN, REQUIRED_COLUMNS, Column, arrow_schema
from pipeline.errors import ContractError

TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0"}


def read_snapshot_file(path: Path) -> pd.DataFrame:
    """CSV is read as text so that every value is checked by the contract, not guessed by the reader."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=True)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raise ContractError(f"{path}: unsupported file type {suffix!r}; use .csv or .parquet")


def _examples(values: pd.Series) -> str:
    shown = [repr(value) for value in values.drop_duplicates().head(3)]
    return ", ".join(shown)


def _violation(source: str, column: str, rule: str, bad: pd.Series, raw: pd.Series) -> str | None:
    count = int(bad.sum())
    if count == 0:
        return None
    return f"{source}: column '{column}': {rule}: {count} row(s), e.g. {_examples(raw[bad])}"


def _convert(raw: pd.Series, column: Column) -> tuple[pd.Series, pd.Series]:
    """Return (converted values, mask of values that could not be converted)."""
    present = raw.notna()
    if column.type == "string":
        return raw.astype("string"), pd.Series(False, index=raw.index)
    if column.type in ("bigint", "double"):
        numbers = pd.to_numeric(raw, errors="coerce")
        unconvertible = present & numbers.isna()
        if column.type == "bigint":
            unconvertible |= numbers.notna() & (numbers % 1 != 0)
            numbers = numbers.where(~unconvertible).astype("Int64")
        return numbers.astype("Float64") if column.type == "double" else numbers, unconvertible
    if column.type == "date":
        dates = pd.to_datetime(raw, errors="coerce", format="ISO8601") if raw.dtype == object else \
            pd.to_datetime(raw, errors="coerce")
        return dates.dt.date, present & dates.isna()
    if column.type == "boolean":
        if pd.api.types.is_bool_dtype(raw):
            return raw.astype("boolean"), pd.Series(False, index=raw.index)
        words = raw.astype("string").str.strip().str.lower()
        booleans = words.map(lambda w: True if w in TRUE_WORDS else False if w in FALSE_WORDS else pd.NA)
        return booleans.astype("boolean"), present & booleans.isna()
    raise AssertionError(f"unknown logical type {column.type}")


def _check_key(frame: pd.DataFrame, source: str) -> list[str]:
    ids = frame[KEY_COLUMN]
    problems = [
        _violation(source, KEY_COLUMN, "must not be empty", ids.isna() | (ids.astype("string").str.strip() == ""), ids),
        _violation(source, KEY_COLUMN, "must be unique within a snapshot",
                   ids.notna() & ids.duplicated(keep=False), ids),
    ]
    return [problem for problem in problems if problem]


def validate_snapshot(frame: pd.DataFrame, source: str) -> tuple[pa.Table, list[str]]:
    """Check `frame` against the contract; return (table in the landed schema, notes on ignored columns).

    Raises ContractError listing every broken rule.
    """
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        raise ContractError(f"{source}: required column(s) missing: {', '.join(missing)} "
                            f"(found: {', '.join(map(str, frame.columns)) or 'none'})")
    if frame.empty:
        raise ContractError(f"{source}: the file has no rows")
    problems = _check_key(frame, source)
    conformed: dict[str, pd.Series] = {}
    for name in frame.columns.intersection(list(COLUMNS_BY_NAME)):
        column = COLUMNS_BY_NAME[name]
        raw = frame[name]
        values, unconvertible = _convert(raw, column)
        problems.append(_violation(source, name, f"must be of type {column.type}", unconvertible, raw))
        if column.required:
            problems.append(_violation(source, name, "is required and must not be null", raw.isna(), raw))
        if column.non_negative and column.type in ("bigint", "double"):
            problems.append(_violation(source, name, "must be >= 0", values.fillna(0) < 0, raw))
        conformed[name] = values
    problems = [problem for problem in problems if problem]
    if problems:
        raise ContractError("input breaks the contract:\n  " + "\n  ".join(problems))
    ignored = [str(name) for name in frame.columns if name not in COLUMNS_BY_NAME]
    notes = [f"{source}: ignored column(s) not in the contract: {', '.join(ignored)}"] if ignored else []
    return _to_landed_table(conformed, len(frame)), notes


def _to_landed_table(conformed: dict[str, pd.Series], rows: int) -> pa.Table:
    """All contract columns in contract order; absent optional columns become typed nulls."""
    schema = arrow_schema()
    arrays = []
    for field in schema:
        if field.name in conformed:
            arrays.append(pa.array(conformed[field.name].reset_index(drop=True), type=field.type, from_pandas=True))
        else:
            arrays.append(pa.nulls(rows, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)
