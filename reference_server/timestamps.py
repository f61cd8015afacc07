"""ISO 8601 instants: exact parsing, the API's millisecond UTC format, and a forward-only clock.

Instants are handled as integers (nanoseconds or milliseconds since the Unix epoch) so that
comparisons are exact: "2024-03-01T01:00:00+01:00" and "2024-03-01T00:00:00Z" are the same instant.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from accounting_conformance.reference_server.faults import NO_FAULTS, Fault, Faults

__all__ = [
    "TimestampError",
    "format_ms",
    "next_ms",
    "now_ms",
    "parse_instant_ns",
    "parse_ms",
]

# A calendar date, optionally followed by a time with 1-9 fractional digits and a required zone
# (Z or +hh:mm); the same shape the contract's Timestamp / DateOrTimestamp schemas use.
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2}))?"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_MS = 1_000_000


class TimestampError(ValueError):
    """A string that is not an ISO 8601 date or zoned timestamp."""


def parse_instant_ns(text: object, *, faults: Faults = NO_FAULTS) -> int:
    """Parse an ISO 8601 date or zoned timestamp into exact nanoseconds since the Unix epoch."""
    match = _ISO.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise TimestampError(
            f"{text!r} is not an ISO 8601 date (YYYY-MM-DD) or timestamp "
            "(YYYY-MM-DDThh:mm:ss[.fff]Z or with a +hh:mm offset)"
        )
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError as exc:
        if Fault.NONEXISTENT_DATE_500 in faults:
            raise  # "the regex already checked it"
        raise TimestampError(f"{text!r} is not a valid calendar date and time: {exc}") from None
    offset_seconds = 0
    if zone and zone not in "Zz":
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
        if zone_hours > 23 or zone_minutes > 59:
            raise TimestampError(f"{text!r} has an invalid UTC offset {zone}")
        offset_seconds = (zone_hours * 3600 + zone_minutes * 60) * (1 if zone[0] == "+" else -1)
    seconds = (moment - _EPOCH) // timedelta(seconds=1) - offset_seconds
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    return seconds * 1_000_000_000 + nanos


def parse_ms(text: object, *, faults: Faults = NO_FAULTS) -> int:
    """Parse an ISO 8601 date or timestamp into whole milliseconds since the epoch (floored)."""
    return parse_instant_ns(text, faults=faults) // _NS_PER_MS


def format_ms(ms: int) -> str:
    """Format epoch milliseconds as the API's UTC form, e.g. "2023-01-02T02:34:56.000Z"."""
    moment = _EPOCH + timedelta(milliseconds=ms)
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def now_ms() -> int:
    """The wall clock in epoch milliseconds."""
    return time.time_ns() // _NS_PER_MS


def next_ms(*floors: int | None) -> int:
    """A timestamp (epoch ms) not before now and strictly after every given floor.

    Used for `updated_at`: passing the previous value bumps by 1 ms when the clock has not moved.
    """
    return max([now_ms(), *(floor + 1 for floor in floors if floor is not None)])
