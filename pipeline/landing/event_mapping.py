"""The mapping file of `ingest-events`: which columns of a team's event log are the customer, the time, the event
id, the type, the amount and the length, the time zone of times written without an offset, and which event types
count as which kind of activity. TOML, checked here as a whole before a row is read:

    [columns]
    customer_id = "user_id"
    event_time = "occurred_at"
    event_id = "event_uuid"          # optional: without it, identical rows count once
    event_type = "event_name"
    amount = "order_total"           # optional: a purchase's revenue
    minutes = "duration_min"         # optional: a session's length

    time_zone = "Europe/Paris"       # default UTC
    snapshot_weekday = "monday"      # the weekly cut-off's day (default monday)
    presence_days = 90               # a week holds the customers with an event in this many days before it

    [event_types]                    # kind = [the log's types]; `session` is required
    session = ["app_open", "login"]
    purchase = ["order_completed"]
    support_ticket = ["ticket_created"]
    ignore = ["page_view"]           # types to skip; any other type not named refuses the file
"""
from __future__ import annotations

import tomllib
import zoneinfo
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.core.errors import ContractError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
IGNORE = "ignore"
# A week's snapshot holds the customers with an event in its 90 days (the contract's widest window) by default; a
# mapping may keep them longer, up to ten years, so that customers who buy once a year are still scored in the
# months they are silent.
PRESENCE_DAYS = 90
# kind -> the contract's columns it fills: (column prefix, windows). Every kind counts events; session and purchase
# fill more (pipeline.landing.events).
KIND_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "session": ("sessions", ("7d", "30d", "90d")),
    "purchase": ("purchases", ("7d", "30d", "90d")),
    "support_ticket": ("support_tickets", ("7d", "30d", "90d")),
    "notification_sent": ("notifications_sent", ("7d", "30d")),
    "notification_opened": ("notifications_opened", ("7d", "30d")),
    "email_sent": ("emails_sent", ("7d", "30d")),
    "email_opened": ("emails_opened", ("7d", "30d")),
    "email_click": ("email_clicks", ("30d",)),
    "content_view": ("content_views", ("7d", "30d", "90d")),
    "search": ("searches", ("7d", "30d")),
    "like": ("social_likes", ("7d", "30d")),
    "comment": ("social_comments", ("7d", "30d")),
    "share": ("social_shares", ("7d", "30d")),
    "cart_add": ("cart_adds", ("7d", "30d")),
    "wishlist_add": ("wishlist_adds", ("30d",)),
    "app_crash": ("app_crashes", ("7d", "30d")),
    "download": ("downloads", ("30d",)),
    "saved_item": ("saved_items", ("30d",)),
    "payment_failure": ("payment_failures", ("90d",)),
    "discount": ("discounts_used", ("90d",)),
    "referral": ("referrals", ("90d",)),
    "plan_change": ("plan_changes", ("90d",)),
    "refund": ("refunds", ("90d",)),
    "unsubscribe": ("unsubscribes", ("90d",)),
}


class Columns(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_id: str
    event_time: str
    event_type: str
    event_id: str | None = None
    amount: str | None = None
    minutes: str | None = None


class EventMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    columns: Columns
    time_zone: str = "UTC"
    snapshot_weekday: str = "monday"
    presence_days: int = Field(default=PRESENCE_DAYS, ge=PRESENCE_DAYS, le=3653, strict=True)
    event_types: dict[str, list[str]] = Field(min_length=1)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{zone!r} is not an IANA time zone (e.g. UTC, Europe/Paris)") from None
        return zone

    @field_validator("snapshot_weekday")
    @classmethod
    def _weekday(cls, day: str) -> str:
        if day.lower() not in WEEKDAYS:
            raise ValueError(f"{day!r} is not a day of the week ({', '.join(WEEKDAYS)})")
        return day.lower()

    @model_validator(mode="after")
    def _kinds(self) -> "EventMapping":
        unknown = sorted(set(self.event_types) - set(KIND_COLUMNS) - {IGNORE})
        if unknown:
            raise ValueError(f"event_types names kinds the contract has no columns for: {', '.join(unknown)} "
                             f"(kinds: {', '.join(KIND_COLUMNS)}, or {IGNORE})")
        if "session" not in self.event_types:
            raise ValueError("event_types must name the session types: sessions_7d is required by the contract")
        seen: dict[str, str] = {}
        for kind, types in self.event_types.items():
            for event_type in types:
                if seen.setdefault(event_type, kind) != kind:
                    raise ValueError(f"event type {event_type!r} is under both {seen[event_type]} and {kind}")
        return self

    @property
    def kind_of_type(self) -> dict[str, str]:
        """The log's event type -> its kind (IGNORE for those skipped)."""
        return {event_type: kind for kind, types in self.event_types.items() for event_type in types}

    @property
    def kinds(self) -> list[str]:
        return [kind for kind in self.event_types if kind != IGNORE]

    @property
    def weekday(self) -> int:
        return WEEKDAYS.index(self.snapshot_weekday)


def read_mapping(path: Path) -> EventMapping:
    """The mapping file, checked; a ContractError names the file and every problem."""
    try:
        document = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ContractError(f"{path}: cannot be read as a TOML mapping file: {error}") from None
    try:
        return EventMapping.model_validate(document)
    except ValidationError as error:
        problems = "\n  ".join(f"{'.'.join(map(str, problem['loc'])) or 'mapping'}: {problem['msg']}"
                               for problem in error.errors())
        raise ContractError(f"{path}: the mapping file is not valid:\n  {problems}") from None
