"""Time in one place, so tests can move the clock instead of waiting."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def epoch() -> float:
    return time.time()


def aware(dt: datetime) -> datetime:
    """A stored time with its zone: SQLite gives naive datetimes back, and they are stored in UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def iso(dt: datetime | None) -> str | None:
    """RFC 3339 with millisecond precision and a ``Z``, the contract's date-time shape."""
    if dt is None:
        return None
    return aware(dt).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_from_epoch(seconds: float) -> str:
    return iso(datetime.fromtimestamp(seconds, UTC))
