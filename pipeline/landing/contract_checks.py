"""Validate a weekly snapshot against the input contract and conform it to the landed schema.

Every broken rule is collected and reported at once, each naming the file, the column, the rule and how many
rows break it, with a few example values, so a user fixes the file in one pass.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from pipeline.core.errors import ContractError
from pipeline.warehouse.contract import COLUMNS_BY_NAME, KEY_COLUMN, REQUIRED_COLUMNS, Column, arrow_schema

TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0"}

# ISO-8601 calendar date, optionally with a time of day and a UTC offset. Checked by pattern rather than left to
# pandas, whose parser guesses other layouts (03/04/2024) depending on the other rows, with a warning.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}"
                      r"(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?)?")
BIGINT_MIN, BIGINT_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)
BIGINT_LIMIT = 2.0 ** 63  # floats at or beyond +-2**63 do not fit an int64 (-2**63 itself does)
FLOAT_EXACT_LIMIT = 2.0 ** 53  # beyond this a float no longer holds every integer
PLAIN_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


# What CSV exports write for "no value" in a number, date or flag column. Text columns keep these words as text:
# "NA" is Namibia's country code, and "None" may be a plan; there only an empty field is null.
NULL_WORDS = {"#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
              "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}


def _read_csv(path: Path) -> pd.DataFrame:
    """Read as text so that every value is checked by the contract, not guessed by the reader; only an empty
    field is null here (the contract decides per column what else means null)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


READERS = {".csv": ("CSV", _read_csv), ".parquet": ("Parquet", pd.read_parquet), ".pq": ("Parquet", pd.read_parquet)}


def read_snapshot_file(path: Path) -> pd.DataFrame:
    """Read a user's CSV or Parquet file; a file that cannot be read is a ContractError naming it and why."""
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise ContractError(f"{path}: unsupported file type {suffix!r}; use .csv or .parquet")
    kind, reader = READERS[suffix]
    try:
        return reader(path)
    except FileNotFoundError:
        raise ContractError(f"{path}: file not found") from None
    except pd.errors.EmptyDataError:
        raise ContractError(f"{path}: cannot be read as {kind}: the file is empty") from None
    # Parser errors, bad encodings and corrupt Parquet (ArrowInvalid, OSError) all mean the same to the user.
    except (OSError, ValueError, pa.ArrowException) as error:
        reason = str(error).strip() or type(error).__name__
        raise ContractError(f"{path}: cannot be read as {kind}: {reason}") from error


def _examples(values: pd.Series) -> str:
    # Distinct by repr, not by value: Arrow list/struct values are unhashable.
    shown: list[str] = []
    for value in values:
        text = repr(value)
        if text not in shown:
            shown.append(text)
            if len(shown) == 3:
                break
    return ", ".join(shown)


def _violation(source: str, column: str, rule: str, bad: pd.Series, raw: pd.Series) -> str | None:
    count = int(bad.sum())
    if count == 0:
        return None
    return f"{source}: column '{column}': {rule}: {count} row(s), e.g. {_examples(raw[bad])}"


def _none_bad(raw: pd.Series) -> pd.Series:
    return pd.Series(False, index=raw.index)


def _is_text_dtype(raw: pd.Series) -> bool:
    """pandas 3 reads text as the `str` dtype, not object; object columns may hold anything."""
    return raw.dtype != object and pd.api.types.is_string_dtype(raw.dtype)


def _is_number_dtype(raw: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype)


def _to_strings(raw: pd.Series) -> tuple[pd.Series, dict[str, pd.Series]]:
    """Text, trimmed: "c42 " and "c42" are one customer, "US " and "US" one country."""
    if raw.dtype != object:
        return _trimmed(raw.astype("string")), {}
    # Parquet list/struct/binary columns arrive as arrays, dicts and bytes: not text.
    scalar = raw.map(lambda value: pd.api.types.is_scalar(value) and not isinstance(value, bytes))
    bad = raw.notna() & ~scalar.astype(bool)
    return _trimmed(raw.where(~bad).astype("string")), {"must be of type string": bad}


def _trimmed(text: pd.Series) -> pd.Series:
    stripped = text.str.strip()
    return stripped.where(stripped != "")  # blank is no value


def _null_words_to_null(raw: pd.Series) -> pd.Series:
    if raw.dtype != object and not _is_text_dtype(raw):
        return raw
    return raw.where(~raw.isin(NULL_WORDS))


def _numbers(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return (numeric values, mask of present values that are not numbers)."""
    if _is_number_dtype(raw):
        return raw, _none_bad(raw)
    if raw.dtype == object or _is_text_dtype(raw):
        numbers = pd.to_numeric(raw, errors="coerce")
        return numbers, raw.notna() & numbers.isna()
    # Booleans, timestamps and durations would convert to numbers, but are not what the contract asks for.
    return pd.Series(np.nan, index=raw.index), raw.notna()


def _to_bigints(raw: pd.Series) -> tuple[pd.Series, dict[str, pd.Series]]:
    numbers, not_numbers = _numbers(raw)
    if pd.api.types.is_signed_integer_dtype(numbers.dtype):
        return numbers.astype("Int64"), {"must be of type bigint": not_numbers}
    if pd.api.types.is_unsigned_integer_dtype(numbers.dtype):
        out_of_range = numbers > BIGINT_MAX
        return numbers.where(~out_of_range).astype("Int64"), {"is out of range for bigint": out_of_range}
    floats = pd.Series(numbers.to_numpy(dtype="float64", na_value=np.nan), index=raw.index)
    # isfinite first: inf is not a whole number, and floor/compare on it stay silent.
    whole = np.isfinite(floats) & (floats == np.floor(floats))
    fractional = floats.notna() & ~whole
    out_of_range = whole & ((floats < -BIGINT_LIMIT) | (floats >= BIGINT_LIMIT))
    exact = _exact_big_integers(raw, floats, whole)
    exact_in_range = exact.map(lambda number: BIGINT_MIN <= number <= BIGINT_MAX).astype(bool)
    out_of_range[exact.index] = ~exact_in_range
    from_floats = whole & ~out_of_range
    from_floats[exact.index] = False
    values = floats.where(from_floats).astype("Int64")
    values[exact.index[exact_in_range]] = exact[exact_in_range]
    return values, {"must be of type bigint": not_numbers | fractional, "is out of range for bigint": out_of_range}


def _exact_big_integers(raw: pd.Series, floats: pd.Series, whole: pd.Series) -> pd.Series:
    """Integer text too large for a float to hold exactly (9223372036854775807), as Python ints.

    Only needed when the column also holds non-integer text ("3.0"), which makes pandas parse it all as floats.
    """
    if not (raw.dtype == object or _is_text_dtype(raw)):
        return pd.Series([], dtype=object)
    large = raw[whole & (floats.abs() >= FLOAT_EXACT_LIMIT)]
    plain = large.map(lambda value: isinstance(value, str) and PLAIN_INTEGER.fullmatch(value) is not None)
    return large[plain.astype(bool)].map(int).astype(object)


def _to_doubles(raw: pd.Series) -> tuple[pd.Series, dict[str, pd.Series]]:
    numbers, not_numbers = _numbers(raw)
    return numbers.astype("Float64"), {"must be of type double": not_numbers}


def _calendar_date(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _iso_text_dates(text: pd.Series) -> pd.Series:
    """The date part of ISO-8601 text; NaT where the text is not ISO-8601 or not a real day (2024-02-30)."""
    text = text.astype(object).str.strip()
    iso = text.str.fullmatch(ISO_DATE).astype(bool)
    days = pd.to_datetime(text.str.slice(0, 10).where(iso), format="%Y-%m-%d", errors="coerce")
    return days.dt.date


def _to_dates(raw: pd.Series) -> tuple[pd.Series, dict[str, pd.Series]]:
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        # Parquet timestamps: the calendar date as stored (local to its time zone, if it has one).
        return raw.dt.date, {}
    present = raw.notna()
    values = pd.Series(None, index=raw.index, dtype=object)
    if _is_text_dtype(raw):
        values[present] = _iso_text_dates(raw[present])
    elif raw.dtype == object:
        # datetime.date objects (Parquet date32, the synthetic generator) or text; datetimes are dates too.
        is_date = present & raw.map(lambda value: isinstance(value, dt.date)).astype(bool)
        is_text = present & raw.map(lambda value: isinstance(value, str)).astype(bool)
        values[is_date] = raw[is_date].map(_calendar_date)
        values[is_text] = _iso_text_dates(raw[is_text])
    # Any other dtype (numbers, booleans) holds no dates: every present value stays unconverted.
    return values, {"must be of type date (YYYY-MM-DD)": present & values.isna()}


def _to_booleans(raw: pd.Series) -> tuple[pd.Series, dict[str, pd.Series]]:
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("boolean"), {}
    if _is_number_dtype(raw):
        # Parquet writers often store flags as 0/1 integers (floats once the column has nulls).
        numbers = raw.to_numpy(dtype="float64", na_value=np.nan)
        booleans = pd.Series(pd.NA, index=raw.index, dtype="boolean")
        booleans[numbers == 1] = True
        booleans[numbers == 0] = False
    else:
        words = raw.astype("string").str.strip().str.lower()
        booleans = words.map(lambda w: True if w in TRUE_WORDS else False if w in FALSE_WORDS else pd.NA)
        booleans = booleans.astype("boolean")
    return booleans, {"must be of type boolean": raw.notna() & booleans.isna()}


CONVERTERS = {"string": _to_strings, "bigint": _to_bigints, "double": _to_doubles, "date": _to_dates,
              "boolean": _to_booleans}


def _convert(raw: pd.Series, column: Column) -> tuple[pd.Series, dict[str, pd.Series]]:
    """Return (converted values, {rule: mask of the values that break it}); broken values convert to null."""
    return CONVERTERS[column.type](raw)


def _check_key(frame: pd.DataFrame, source: str) -> list[str]:
    ids = frame[KEY_COLUMN]
    # Compared as the trimmed text that lands (1, "1" and " 1" are one key); text is hashable where Arrow lists
    # are not.
    keys = ids.astype("string").str.strip()
    problems = [
        _violation(source, KEY_COLUMN, "must not be empty", ids.isna() | (keys == ""), ids),
        _violation(source, KEY_COLUMN, "must be unique within a snapshot (after trimming spaces)",
                   ids.notna() & (keys != "") & keys.duplicated(keep=False), ids),
    ]
    return [problem for problem in problems if problem]


def validate_snapshot(frame: pd.DataFrame, source: str) -> tuple[pa.Table, list[str]]:
    """Check `frame` against the contract; return (table in the landed schema, notes on ignored columns).

    Raises ContractError listing every broken rule.
    """
    repeated = frame.columns[frame.columns.duplicated()].unique()
    if len(repeated):
        raise ContractError(f"{source}: column(s) appear more than once: {', '.join(map(str, repeated))}")
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        raise ContractError(f"{source}: required column(s) missing: {', '.join(missing)} "
                            f"(found: {', '.join(map(str, frame.columns)) or 'none'})")
    if frame.empty:
        raise ContractError(f"{source}: the file has no rows")
    frame = frame.reset_index(drop=True)  # masks below align on the index: it must be unique
    problems = _check_key(frame, source)
    conformed: dict[str, pd.Series] = {}
    for name in frame.columns.intersection(list(COLUMNS_BY_NAME)):
        column = COLUMNS_BY_NAME[name]
        raw = frame[name] if column.type == "string" else _null_words_to_null(frame[name])
        values, broken = _convert(raw, column)
        problems.extend(_violation(source, name, rule, bad, raw) for rule, bad in broken.items())
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
