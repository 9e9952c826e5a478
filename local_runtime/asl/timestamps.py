"""RFC 3339 timestamps as ASL uses them (Choice Timestamp* rules, Wait Timestamp, the context object)."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

# ASL requires the upper-case T separator and an explicit zone (Z or an offset).
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def parse_timestamp(value: Any) -> datetime | None:
    """The timezone-aware datetime for an RFC 3339 string, or None when `value` is not one."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:  # well-formed but impossible, e.g. month 13
        return None


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, like Step Functions' context object."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_epoch(seconds: float) -> str:
    return format_timestamp(datetime.fromtimestamp(seconds, timezone.utc))


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
