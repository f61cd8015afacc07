"""The suite's one reader of timestamps: an ISO 8601 date or zoned timestamp as exact nanoseconds since the epoch.

It reads the shapes of the contract's `Timestamp` and `NullableDateOrTimestamp` patterns (a date alone is that
day's midnight UTC), to the nanosecond, and refuses what is no instant: a date or time that does not exist
(2024-02-30, 24:00:00, :60) or a UTC offset of a day or more. Which of those shapes a field may hold is for its
caller to say (conformance/invariants.py holds each field to its pattern).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["EPOCH", "instant_ns", "ms_of"]

_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2}))?"
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_MINUTES = 24 * 60


def instant_ns(text: str) -> int:
    """An ISO 8601 date (midnight UTC) or zoned timestamp as exact nanoseconds since the epoch; ValueError otherwise."""
    match = _ISO.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 date or zoned timestamp")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=UTC)
    offset = 0 if zone in (None, "Z") else (int(zone[1:3]) * 60 + int(zone[4:6])) * (1 if zone[0] == "+" else -1)
    if abs(offset) >= _DAY_MINUTES:
        raise ValueError(f"{text!r} has a UTC offset of a day or more")
    delta = moment - EPOCH - timedelta(minutes=offset)
    return (delta.days * 86400 + delta.seconds) * 10**9 + int((fraction or "").ljust(9, "0"))


def ms_of(timestamp: str) -> int:
    """A timestamp as whole Unix milliseconds (floored), the unit of the deprecated bounds."""
    return instant_ns(timestamp) // 10**6
