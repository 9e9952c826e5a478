"""What-if scores: a row the caller writes (the input contract's columns, and the history features if known),
scored with the model that scored the newest published week, the champion Publish crowned with it. Calibrated, with
the same approximate reasons as the served scores, so a what-if reads beside a customer's served risk.

A row is checked here in plain Python, field by field (a bad one is refused naming the field and the rule), then
normalised: numbers as their contract type, text trimmed, signup_date turned into tenure_days as of the served week,
missing values left out, and the whole-history features computed from the lifetime totals and tenure where the row
does not give them (as athena_sql/customer_weeks.sql computes a week's). The answer is cached in the serving table by
(model version, normalised row) for `cache_seconds` (an hour by default): the same question, asked in any spelling
of the same row, is scored once.

This module loads pyarrow, and XGBoost when a row is first scored: the API imports it in the what-if route only, so
the lookups never do. The model is loaded once a process, and again only when the served week's model changes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from pipeline.model.features import NOT_FEATURES, TENURE_COLUMN, lifetime_features, row_matrix
from pipeline.serving.store import EXPIRES_AT, Reason, ServedWeek
from pipeline.warehouse.contract import COLUMNS, COLUMNS_BY_NAME, KEY_COLUMN, Column
from pipeline.warehouse.tables import table

if TYPE_CHECKING:
    from pipeline.model.scorer import Scorer
    from pipeline.warehouse.ports import ItemTable, Storage

WHAT_IF = "whatif#"
MAX_TEXT = 256
MAX_WHOLE_NUMBER = 2 ** 53  # JSON numbers beyond it lose digits in most clients
SIGNUP = "signup_date"


def _fields() -> dict[str, Column]:
    """What a row may hold: the kept feature rows' columns (glue/features.json), the input contract's with its
    rules, the features computed from earlier weeks and tenure_days (counts and days: never negative)."""
    return {name: COLUMNS_BY_NAME.get(name) or Column(name, athena_type, "", non_negative=True)
            for name, athena_type in table("features").columns if name not in NOT_FEATURES or name == SIGNUP}


FIELDS = _fields()
MOST_ACTIVE_WEEKS = 4


class InvalidRow(ValueError):
    """A what-if row the API refuses with 422: which field, which rule."""

    def __init__(self, field: str, rule: str, message: str):
        super().__init__(message)
        self.field, self.rule, self.message = field, rule, message


@dataclass(frozen=True)
class WhatIfScore:
    model_version: str
    churn_probability: float
    risk_band: str
    reasons: list[Reason]
    missing_features: list[str]  # the model's features the row gave no value for: read as missing
    cached: bool = False

    def to_json(self, week: ServedWeek) -> dict:
        return {"model_version": self.model_version, "run_date": week.run_date,
                "churn_probability": self.churn_probability, "risk_band": self.risk_band,
                "reasons": [reason.to_json() for reason in self.reasons],
                "missing_features": self.missing_features, "cached": self.cached}


def normalised_row(row: object, as_of: dt.date) -> dict[str, object]:
    """The row's fields with a value, each as its contract type, signup_date as tenure_days on `as_of`; raises
    InvalidRow naming the first field that breaks a rule."""
    if not isinstance(row, dict):
        raise InvalidRow("row", "object", "row must be a JSON object of the input contract's columns")
    values = {name: _value(name, raw) for name, raw in row.items()}
    for column in COLUMNS:
        if column.required and column.name != KEY_COLUMN and values.get(column.name) is None:
            raise InvalidRow(column.name, "required", f"{column.name} is required (the input contract requires it)")
    if (values.get("active_weeks_4w") or 0) > MOST_ACTIVE_WEEKS:
        raise InvalidRow("active_weeks_4w", "at_most_4", "active_weeks_4w counts weeks among 4: at most 4")
    signup = values.pop(SIGNUP, None)
    if signup is not None:
        if values.get(TENURE_COLUMN) is not None:
            raise InvalidRow(SIGNUP, "one_of", f"give {SIGNUP} or {TENURE_COLUMN}, not both")
        if signup > as_of:
            raise InvalidRow(SIGNUP, "not_after_week", f"{SIGNUP} {signup} is after the week scored ({as_of})")
        values[TENURE_COLUMN] = (as_of - signup).days
    given = {name: value for name, value in values.items() if value is not None}
    # The whole-history features follow from the lifetime totals and tenure, as in a week's rows: a what-if of
    # more purchases moves the purchase rate too. A feature the row gives itself is scored as given.
    return dict(sorted((lifetime_features(given) | given).items()))


def _value(name: str, raw: object) -> object:
    column = FIELDS.get(name)
    if column is None and name in NOT_FEATURES:
        raise InvalidRow(name, "not_a_feature", f"{name} is not a feature: a what-if row is scored as it is, for no "
                                                "customer or week in particular")
    if column is None:
        raise InvalidRow(name, "known_field", f"{name} is not a column of the input contract nor a history feature "
                                              "(see docs/input-contract.md)")
    if raw is None:
        return None
    value = _CONVERT[column.type](name, raw)
    if column.non_negative and value < 0:
        raise InvalidRow(name, "non_negative", f"{name} must not be negative, got {raw!r}")
    return value


def _whole(name: str, raw: object) -> int:
    if not _is_number(raw) or not float(raw).is_integer() or abs(raw) > MAX_WHOLE_NUMBER:
        raise InvalidRow(name, "bigint", f"{name} must be a whole number, got {raw!r}")
    return int(raw)


def _double(name: str, raw: object) -> float:
    if not _is_number(raw):
        raise InvalidRow(name, "double", f"{name} must be a number, got {raw!r}")
    return float(raw)


def _is_number(raw: object) -> bool:
    return not isinstance(raw, bool) and isinstance(raw, (int, float)) and math.isfinite(raw)


def _text(name: str, raw: object) -> str | None:
    if not isinstance(raw, str) or len(raw) > MAX_TEXT:
        raise InvalidRow(name, "string", f"{name} must be text of at most {MAX_TEXT} characters")
    return raw.strip() or None  # as ingest reads a blank: missing


def _date(name: str, raw: object) -> dt.date:
    try:
        if isinstance(raw, str) and len(raw) == len("YYYY-MM-DD"):
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    raise InvalidRow(name, "date", f"{name} must be a date, YYYY-MM-DD, got {raw!r}")


def _boolean(name: str, raw: object) -> bool:
    if not isinstance(raw, bool):
        raise InvalidRow(name, "boolean", f"{name} must be true or false, got {raw!r}")
    return raw


_CONVERT: dict[str, Callable[[str, object], object]] = {
    "bigint": _whole, "double": _double, "string": _text, "date": _date, "boolean": _boolean}


def cache_key(model_version: str, row: dict[str, object]) -> tuple[str, str]:
    digest = hashlib.sha256(json.dumps(row, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f"{WHAT_IF}{digest}", model_version


class WhatIf:
    """Scores what-if rows with a served week's model, loaded from the model store when first needed (one model
    a process, shared by its threads), answers cached in the serving table."""

    def __init__(self, storage: Callable[[], Storage], cache_seconds: int):
        self._storage_factory, self.cache_seconds = storage, cache_seconds
        self._lock = threading.Lock()
        self._scorer: Scorer | None = None

    def score(self, table: ItemTable, week: ServedWeek, row: dict[str, object]) -> WhatIfScore:
        key = cache_key(week.model_version, row)
        cached = [item for item in table.get_items([key]) if item[EXPIRES_AT] > time.time()]
        if cached:
            return _from_item(cached[0])
        scored = self._scored(week.model_version, row)
        table.put_items([{"pk": key[0], "sk": key[1], EXPIRES_AT: int(time.time()) + self.cache_seconds,
                          "churn_probability": scored.churn_probability, "risk_band": scored.risk_band,
                          "reasons": [reason.to_json() for reason in scored.reasons],
                          "missing_features": scored.missing_features}])
        return scored

    def _scored(self, model_version: str, row: dict[str, object]) -> WhatIfScore:
        from pipeline.model.scorer import risk_band

        scorer = self._model(model_version)
        probability, reasons = scorer.probability_and_reasons(row_matrix(row, scorer.features))
        return WhatIfScore(model_version, round(float(probability[0]), 6), str(risk_band(probability)[0]),
                           [Reason(*reason) for reason in reasons[0]],
                           [name for name in scorer.features.names if name not in row])

    def _model(self, model_version: str) -> Scorer:
        with self._lock:
            if self._scorer is None or self._scorer.model_version != model_version:
                from pipeline.model.scorer import Scorer, load_booster
                from pipeline.model.store import ModelStore

                self._scorer = Scorer(*load_booster(ModelStore(self._storage_factory()), model_version),
                                      model_version)
                # One row a request: a thread pool per prediction would only contend with the other requests
                self._scorer.booster.set_param({"nthread": 1})
            return self._scorer


def _from_item(item: dict) -> WhatIfScore:
    return WhatIfScore(item["sk"], float(item["churn_probability"]), item["risk_band"],
                       [Reason(reason["feature"], reason["value"], float(reason["contribution"]))
                        for reason in item["reasons"]], list(item["missing_features"]), cached=True)
