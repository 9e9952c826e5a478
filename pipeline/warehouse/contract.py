"""The input contract: one row per customer per weekly snapshot.

Defined once here; it drives ingest validation, the Glue table in `glue/`, the synthetic generator and the
column table of docs/input-contract.md (`engagement-pipeline contract`).
"""
from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

# Logical type -> Arrow type (what lands in Parquet) and Athena/Glue type (what the catalog declares).
ARROW_TYPES = {
    "string": pa.string(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "date": pa.date32(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("ms"),  # UTC by convention: Athena's timestamp has no zone
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # one of ARROW_TYPES
    description: str
    required: bool = False
    non_negative: bool = False

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]


def _counts(prefix: str, windows: tuple[str, ...], what: str) -> list[Column]:
    return [Column(f"{prefix}_{w}", "bigint", f"{what} in the last {w[:-1]} days", non_negative=True) for w in windows]


def _amounts(prefix: str, windows: tuple[str, ...], what: str) -> list[Column]:
    return [Column(f"{prefix}_{w}", "double", f"{what} in the last {w[:-1]} days", non_negative=True) for w in windows]


ALL_WINDOWS = ("7d", "30d", "90d")
SHORT_WINDOWS = ("7d", "30d")

COLUMNS: tuple[Column, ...] = (
    Column("customer_id", "string", "Customer key, unique within a snapshot", required=True),
    Column("sessions_7d", "bigint", "Sessions in the last 7 days (0 = inactive this week)", required=True,
           non_negative=True),
    Column("signup_date", "date", "Date the customer signed up"),
    Column("plan", "string", "Subscription plan (e.g. free, basic, premium)"),
    Column("country", "string", "Country code"),
    Column("device", "string", "Main device (ios, android, web, ...)"),
    Column("acquisition_channel", "string", "Channel the customer came from"),
    Column("age_band", "string", "Age band of the customer"),
    Column("email_opt_in", "boolean", "Customer accepts marketing email"),
    Column("push_enabled", "boolean", "Push notifications enabled"),
    Column("auto_renew", "boolean", "Subscription renews automatically"),
    *_counts("sessions", ("30d", "90d"), "Sessions"),
    Column("days_since_last_session", "bigint", "Days since the last session", non_negative=True),
    *_counts("active_days", SHORT_WINDOWS, "Days with at least one session"),
    *_amounts("minutes", ALL_WINDOWS, "Minutes of use"),
    Column("avg_session_minutes_30d", "double", "Average session length over the last 30 days", non_negative=True),
    *_counts("purchases", ALL_WINDOWS, "Purchases"),
    *_amounts("revenue", ALL_WINDOWS, "Revenue"),
    *_counts("support_tickets", ALL_WINDOWS, "Support tickets opened"),
    *_counts("notifications_sent", SHORT_WINDOWS, "Push notifications sent"),
    *_counts("notifications_opened", SHORT_WINDOWS, "Push notifications opened"),
    *_counts("emails_sent", SHORT_WINDOWS, "Marketing emails sent"),
    *_counts("emails_opened", SHORT_WINDOWS, "Marketing emails opened"),
    *_counts("content_views", ALL_WINDOWS, "Content items viewed"),
    *_counts("searches", SHORT_WINDOWS, "Searches"),
    *_counts("social_likes", SHORT_WINDOWS, "Likes given"),
    *_counts("social_comments", SHORT_WINDOWS, "Comments written"),
    *_counts("social_shares", SHORT_WINDOWS, "Items shared"),
    Column("friends_count", "bigint", "Friends / connections in the product", non_negative=True),
    *_counts("cart_adds", SHORT_WINDOWS, "Items added to cart"),
    *_counts("wishlist_adds", ("30d",), "Items added to wishlist"),
    *_counts("features_used", SHORT_WINDOWS, "Distinct product features used"),
    *_counts("app_crashes", SHORT_WINDOWS, "App crashes"),
    Column("payment_failures_90d", "bigint", "Failed payments in the last 90 days", non_negative=True),
    Column("discounts_used_90d", "bigint", "Discounts redeemed in the last 90 days", non_negative=True),
    Column("referrals_90d", "bigint", "Customers referred in the last 90 days", non_negative=True),
    Column("plan_changes_90d", "bigint", "Plan changes in the last 90 days", non_negative=True),
    Column("nps_score", "bigint", "Latest survey score 0-10 (often missing)", non_negative=True),
    Column("satisfaction_rating", "double", "Latest in-app rating 1-5 (often missing)", non_negative=True),
    Column("days_since_last_purchase", "bigint", "Days since the last purchase", non_negative=True),
    *_counts("email_clicks", ("30d",), "Marketing email clicks"),
    *_counts("weekend_sessions", ("30d",), "Sessions on Saturdays and Sundays"),
    *_counts("mobile_sessions", ("30d",), "Sessions on a phone or tablet"),
    *_counts("desktop_sessions", ("30d",), "Sessions on a desktop browser"),
    *_counts("late_night_sessions", ("30d",), "Sessions between midnight and 5 am"),
    *_counts("downloads", ("30d",), "Items downloaded"),
    *_counts("saved_items", ("30d",), "Items saved for later"),
    *_counts("refunds", ("90d",), "Refunds granted"),
    *_counts("unsubscribes", ("90d",), "Unsubscribes from marketing lists"),
    Column("credit_balance", "double", "Store credit balance", non_negative=True),
    # The customer's whole history up to the snapshot, where the data has it (ingest-events fills them from every
    # event before the cut-off): what repeat-purchase models read, beyond the 90-day windows
    Column("lifetime_purchases", "bigint", "Purchases since the customer's first event", non_negative=True),
    Column("lifetime_revenue", "double", "Revenue since the customer's first event", non_negative=True),
    Column("lifetime_active_days", "bigint", "Days with a session since the customer's first event",
           non_negative=True),
    Column("days_since_first_purchase", "bigint", "Days since the customer's first purchase", non_negative=True),
)
LIFETIME_COLUMNS = ("lifetime_purchases", "lifetime_revenue", "lifetime_active_days", "days_since_first_purchase")

COLUMNS_BY_NAME = {column.name: column for column in COLUMNS}
REQUIRED_COLUMNS = tuple(column.name for column in COLUMNS if column.required)
KEY_COLUMN = "customer_id"
PARTITION_COLUMN = "snapshot_date"


def arrow_schema() -> pa.Schema:
    """The schema every landed snapshot file has: all contract columns, absent ones as typed nulls."""
    return pa.schema([pa.field(column.name, column.arrow_type, nullable=True) for column in COLUMNS])


def markdown_table() -> str:
    """The contract as a Markdown table, for docs/input-contract.md."""
    lines = ["| column | type | required | description |", "|---|---|---|---|"]
    for column in COLUMNS:
        lines.append(f"| `{column.name}` | {column.type} | {'yes' if column.required else ''} | {column.description} |")
    return "\n".join(lines)
