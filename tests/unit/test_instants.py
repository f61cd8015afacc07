"""The suite's one timestamp reader: exact instants across offsets and fractions, and nothing that is no instant."""

from __future__ import annotations

import pytest

from accounting_conformance.conformance.instants import instant_ns, ms_of
from accounting_conformance.conformance.invariants import instant


def test_instants_are_exact_across_offsets_and_fractions() -> None:
    assert instant_ns("2024-03-01T01:00:00+01:00") == instant_ns("2024-03-01T00:00:00Z") == instant_ns("2024-03-01")
    assert instant_ns("1970-01-01T00:00:00.000000001Z") == 1
    assert instant_ns("1969-12-31T23:59:59.5Z") == -500_000_000
    assert instant_ns("2024-03-01T00:00:00-23:59") - instant_ns("2024-03-01T00:00:00Z") == (23 * 60 + 59) * 60 * 10**9
    assert ms_of("1970-01-01T00:00:01.9999Z") == 1999


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-30",
        "2024-03-01T24:00:00Z",
        "2024-03-01T12:60:00Z",
        "2024-03-01T12:00:60Z",
        "2024-03-01T12:00:00+24:00",
        "2024-03-01T12:00:00-25:30",
        "0000-01-01",
        "2024-03-01T12:00:00",
        "2024-03-01T12:00:00.1234567890Z",
        "\uff12024-03-01",
        "",
    ],
)
def test_what_is_no_instant_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        instant_ns(text)


def test_the_invariants_hold_each_field_to_its_pattern_then_read_it_the_same_way() -> None:
    assert instant("2024-03-01T01:00:00.5+01:00") == instant_ns("2024-03-01T00:00:00.5Z")
    assert instant("2024-03-01") is None and instant("2024-03-01", allow_date=True) == instant_ns("2024-03-01")
    assert instant("2024-03-01T00:00:00.5z") is None  # the contract's pattern wants a capital Z
    assert instant("0001-01-01T00:00:00+01:00") == instant_ns("0001-01-01T00:00:00+01:00")  # before year 1 in UTC
    assert instant("9999-12-31T23:59:59-01:00") is not None  # after year 9999 in UTC
