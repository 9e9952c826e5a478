"""The serving store: each published week's scores, one item per customer, read by the API in one lookup (DynamoDB
on AWS, SQLite in the data directory locally; both behind the ItemTable port).

A week becomes visible all at once. Each Inference shard writes its customers' items under its execution's
version (the execution's name), in parallel with the other shards; Publish, after the catalog switch, points the
week at that version and, when it is the newest week published, moves the current pointer to it. A failed or
half-loaded execution is never pointed at, so the API goes on answering with the week it served before. Every item
carries an expiry (EXPIRES_AT, DynamoDB's TTL attribute): DynamoDB deletes expired items lazily and returns them
until it does, so every read checks it.

Keys: a customer's item is (`customer#<id>`, version); a week's pointer (`week#`, run_date); the current pointer
(`current#`, `#`).
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import asdict, dataclass
from typing import Iterable

from pipeline.warehouse.ports import Item, ItemTable

CUSTOMER = "customer#"
WEEK = "week#"
CURRENT = "current#"
EXPIRES_AT = "expires_at"
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class Reason:
    feature: str
    value: float | str | None  # the customer's value of the feature (a category's name for a categorical one)
    contribution: float  # what it added to the log-odds of churn

    def to_json(self) -> dict:
        return {"feature": self.feature, "value": self.value, "contribution": self.contribution}


@dataclass(frozen=True)
class Risk:
    customer_id: str
    run_date: str
    churn_probability: float
    risk_band: str
    model_version: str
    reasons: list[Reason]

    def to_json(self) -> dict:
        return {"customer_id": self.customer_id, "run_date": self.run_date, "churn_probability": self.churn_probability,
                "risk_band": self.risk_band, "model_version": self.model_version,
                "reasons": [reason.to_json() for reason in self.reasons]}


@dataclass(frozen=True)
class ServedWeek:
    run_date: str
    version: str  # the execution that published it
    model_version: str  # the model that scored its customers
    published_at: str
    customers: int


def expiry(days: int, now: float | None = None) -> int:
    """The epoch second items loaded now expire: `days` from now (not from their week: a backfilled week is served
    as long as a new one)."""
    return int((time.time() if now is None else now) + days * DAY_SECONDS)


ReasonRow = tuple[str, object, float]  # feature, the customer's value of it, contribution


def score_item(version: str, expires_at: int, run_date: str, model_version: str, customer_id: str,
               probability: float, band: str, reasons: list[ReasonRow]) -> Item:
    """A customer's item: built from plain values, as Inference has them (a week's million customers)."""
    return {"pk": f"{CUSTOMER}{customer_id}", "sk": version, EXPIRES_AT: expires_at, "run_date": run_date,
            "churn_probability": probability, "risk_band": band, "model_version": model_version,
            "reasons": [{"feature": feature, "value": value, "contribution": contribution}
                        for feature, value, contribution in reasons]}


def risk_item(risk: Risk, version: str, expires_at: int) -> Item:
    return score_item(version, expires_at, risk.run_date, risk.model_version, risk.customer_id,
                      risk.churn_probability, risk.risk_band,
                      [(reason.feature, reason.value, reason.contribution) for reason in risk.reasons])


def load_scores(table: ItemTable, version: str, expires_at: int, run_date: str, model_version: str,
                scored: Iterable[tuple[str, float, str, list[ReasonRow]]]) -> None:
    """Write a shard's customers (id, probability, band, reasons) under the execution's version; nothing reads
    them until Publish points at it."""
    table.put_items([score_item(version, expires_at, run_date, model_version, *row) for row in scored])


def load_risks(table: ItemTable, risks: list[Risk], version: str, expires_at: int) -> None:
    table.put_items([risk_item(risk, version, expires_at) for risk in risks])


def publish_week(table: ItemTable, week: ServedWeek, expires_at: int) -> bool:
    """Point the week at its version, then the current pointer if no later week is published; True if it moved."""
    pointer = {**asdict(week), EXPIRES_AT: expires_at}
    table.put_items([{"pk": WEEK, "sk": week.run_date, **pointer}])
    # The current pointer never expires: a service left without a run for months still names what it serves.
    return table.put_unless_later({"pk": CURRENT, "sk": "#", **asdict(week)}, "run_date")


def served_week(table: ItemTable, run_date: dt.date | None = None) -> ServedWeek | None:
    """The week served (the newest, or the one asked for), None if none is published (or it expired)."""
    key = (WEEK, run_date.isoformat()) if run_date else (CURRENT, "#")
    found = _unexpired(table.get_items([key]))
    return _week(found[0]) if found else None


def risks_of(table: ItemTable, customer_ids: list[str], week: ServedWeek) -> dict[str, Risk]:
    """The week's risk of each customer that has one (a customer not scored that week is left out)."""
    items = _unexpired(table.get_items([(f"{CUSTOMER}{customer}", week.version) for customer in customer_ids]))
    return {risk.customer_id: risk for risk in map(_risk, items)}


def _unexpired(items: list[Item]) -> list[Item]:
    now = time.time()
    return [item for item in items if item.get(EXPIRES_AT) is None or item[EXPIRES_AT] > now]


def _week(item: Item) -> ServedWeek:
    return ServedWeek(item["run_date"], item["version"], item["model_version"], item["published_at"],
                      int(item["customers"]))


def _risk(item: Item) -> Risk:
    return Risk(item["pk"].removeprefix(CUSTOMER), item["run_date"], float(item["churn_probability"]),
                item["risk_band"], item["model_version"],
                [Reason(reason["feature"], reason["value"], float(reason["contribution"]))
                 for reason in item["reasons"]])
