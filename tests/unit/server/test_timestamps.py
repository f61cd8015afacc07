"""ISO 8601 parsing and the API's millisecond UTC format."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounting_conformance.reference_server import timestamps
from accounting_conformance.reference_server.timestamps import TimestampError, format_ms, parse_instant_ns, parse_ms


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1970-01-01T00:00:00.000Z", 0),
        ("1970-01-01", 0),
        ("2023-01-02T02:34:56.000Z", 1672626896000),
        ("2023-01-02T03:34:56+01:00", 1672626896000),
        ("2023-01-01T21:04:56.5-05:30", 1672626896500),
        ("1969-12-31T23:59:59.999Z", -1),
    ],
)
def test_iso_8601_forms_parse_to_the_same_instant(text: str, ms: int) -> None:
    assert parse_ms(text) == ms


def test_nanoseconds_are_kept_exactly() -> None:
    assert parse_instant_ns("1970-01-01T00:00:00.123456789Z") == 123456789


@pytest.mark.parametrize(
    "text",
    [
        "2023-01-02T02:34:56",
        "2023-13-01",
        "2023-02-29",
        "2023-01-02T24:00:00Z",
        "2023-01-02 02:34:56Z",
        "2023-01-02T02:34:56+24:00",
        "20230102T023456Z",
        "2023-01-02T02:34:56.1234567890Z",
        "",
        "now",
    ],
)
def test_other_strings_are_rejected(text: str) -> None:
    with pytest.raises(TimestampError):
        parse_ms(text)


def test_non_strings_are_rejected() -> None:
    with pytest.raises(TimestampError):
        parse_ms(1672626896000)


def test_format_is_utc_with_milliseconds() -> None:
    assert format_ms(1672626896000) == "2023-01-02T02:34:56.000Z"
    assert format_ms(-1) == "1969-12-31T23:59:59.999Z"


def test_next_ms_bumps_by_one_when_the_clock_has_not_moved() -> None:
    ahead = timestamps.now_ms() + 60_000
    assert timestamps.next_ms(ahead) == ahead + 1
    assert timestamps.next_ms(None, 0) >= timestamps.now_ms() - 1000


@given(st.integers(min_value=-62135596800000, max_value=253402300799999))
def test_format_and_parse_round_trip(ms: int) -> None:
    assert parse_ms(format_ms(ms)) == ms
