"""conformance.querymodel: hand-built examples of matching, rendering, ordering and the ms bounds."""

from __future__ import annotations

from typing import Any

import pytest

from accounting_conformance.conformance.instants import instant_ns, ms_of
from accounting_conformance.conformance.querymodel import (
    Condition,
    Filter,
    expected_order,
    filter_timestamp,
    matches,
    parse_ms,
    stamp_text,
    within_ms_bounds,
)

MEMO: dict[str, Any] = {
    "id": "m1",
    "customer_id": "Cust-A",
    "document_number": "INV-7",
    "memo": None,
    "created_at": "2024-03-01T01:00:00+01:00",
    "updated_at": "2024-03-05T10:00:00.500Z",
}


def _f(*conditions: tuple[str, str, str | None]) -> Filter:
    return Filter(tuple(Condition(*c) for c in conditions))


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([("customer_id", "=", "Cust-A")], True),
        ([("customer_id", "=", "cust-a")], False),
        ([("customer_id", "!=", "Cust-B")], True),
        ([("customer_id", "~", "st-")], True),
        ([("customer_id", "~", "ST-")], False),
        ([("customer_id", "~", "")], True),
        ([("vendor_id", "=", None)], True),
        ([("vendor_id", "!=", None)], False),
        ([("vendor_id", "!=", "V1")], True),
        ([("vendor_id", "~", "V")], False),
        ([("document_number", "!=", None)], True),
        ([("created_at", "=", "2024-03-01T00:00:00Z")], True),
        ([("created_at", "=", "2024-03-01")], True),
        ([("created_at", ">", "2024-03-01")], False),
        ([("created_at", ">=", "2024-02-28T23:59:59.999999-00:01")], True),
        ([("updated_at", ">", "2024-03-05T10:00:00.5Z")], False),
        ([("updated_at", ">", "2024-03-05T10:00:00.499999Z")], True),
        ([("updated_at", "<=", "2024-03-05T10:00:00.5Z")], True),
        ([("last_synced_at", "<", "2099-01-01")], False),
        ([("last_synced_at", "!=", "2099-01-01")], True),
        ([("customer_id", "=", "Cust-A"), ("created_at", "<", "2024-03-01")], False),
        ([("customer_id", "=", "Cust-A"), ("updated_at", ">", "2024-03-05")], True),
    ],
)
def test_matches_follows_the_adopted_semantics(conditions: list[tuple[str, str, str | None]], expected: bool) -> None:
    assert matches(_f(*conditions), MEMO) is expected


def test_render_escapes_quotes_and_backslashes_and_spaces_only_where_asked() -> None:
    condition = Condition("document_number", "=", 'a"b\\c', space_before=True)
    assert condition.render() == 'document_number ="a\\"b\\\\c"'
    assert (
        _f(("customer_id", "~", "x"), ("created_at", ">=", "2024-03-01")).render()
        == 'customer_id~"x" AND created_at>="2024-03-01"'
    )
    assert Condition("customer_id", "!=", None, True, True).render() == "customer_id != null"


@pytest.mark.parametrize(
    ("field", "op", "value", "message"),
    [
        ("total_amount", "=", "1", "not a filterable field"),
        ("customer_id", ">", "a", "does not apply to string field"),
        ("created_at", "~", "2024-03-01", "does not apply to timestamp field"),
        ("created_at", "=", None, "null only goes with"),
        ("customer_id", "~", None, "null only goes with"),
        ("created_at", "=", "2024-02-30", "not a date that exists"),
        ("created_at", "=", "2023-02-29T00:00:00Z", "not a date that exists"),
        ("created_at", "=", "2024-03-01T00:00:00.1234567Z", "not a timestamp the grammar accepts"),
        ("created_at", "=", "2024-03-01T00:00:00", "not a timestamp the grammar accepts"),
        ("customer_id", "=", 5, "must be a string or None"),
    ],
)
def test_conditions_the_grammar_cannot_express_are_refused(field: str, op: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Condition(field, op, value)


def test_an_empty_filter_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one Condition"):
        Filter(())


def test_timestamps_outside_the_grammar_are_respelled_in_utc_when_possible() -> None:
    assert filter_timestamp("2024-03-05T10:00:00.500Z") == "2024-03-05T10:00:00.500Z"
    assert filter_timestamp("2024-03-31T12:00:00Z") == "2024-03-31T12:00:00Z"
    assert filter_timestamp("2024-03-05T10:00:00.1234567Z") is None
    assert filter_timestamp("2024-03-05T10:00:00.123456000+01:00") == "2024-03-05T09:00:00.123456Z"
    assert filter_timestamp("0999-12-31T23:00:00Z") is None
    with pytest.raises(ValueError):
        filter_timestamp("2024-02-30T00:00:00Z")
    assert stamp_text(instant_ns("2024-03-05T00:00:00Z"), 330) == "2024-03-05T05:30:00+05:30"


def _objs(*rows: tuple[str, str | None]) -> list[dict[str, Any]]:
    return [{"id": i, "created_at": v, "document_number": v} for i, v in rows]


def test_ascending_order_puts_nulls_first_and_breaks_ties_by_id() -> None:
    objs = _objs(("b", "2024-03-02T00:00:00Z"), ("c", None), ("a", "2024-03-02T01:00:00+01:00"), ("d", "2024-03-01"))
    assert [o["id"] for o in expected_order(objs, "created_at", "ASC")] == ["c", "d", "a", "b"]
    assert [o["id"] for o in expected_order(objs, "created_at")] == ["c", "d", "a", "b"]


def test_descending_order_is_the_exact_reverse_with_nulls_last_and_ties_by_id_descending() -> None:
    objs = _objs(("b", "2024-03-02T00:00:00Z"), ("c", None), ("a", "2024-03-02T01:00:00+01:00"), ("e", None))
    assert [o["id"] for o in expected_order(objs, "created_at", "DESC")] == ["b", "a", "e", "c"]


def test_timestamps_sort_as_instants_and_strings_by_code_point() -> None:
    objs = _objs(("x", "2024-03-01T01:00:00+02:00"), ("y", "2024-03-01T00:30:00Z"))
    assert [o["id"] for o in expected_order(objs, "created_at")] == ["x", "y"]
    assert [o["id"] for o in expected_order(objs, "document_number")] == ["y", "x"]
    texts = [{"id": str(i), "document_number": t} for i, t in enumerate(["b", "B", "a", "é"])]
    assert [o["document_number"] for o in expected_order(texts, "document_number")] == ["B", "a", "b", "é"]
    with pytest.raises(ValueError, match="direction"):
        expected_order(texts, "document_number", "asc")


def test_millisecond_bounds_are_inclusive_and_never_hold_for_null() -> None:
    obj: dict[str, Any] = {"updated_at": "2024-03-05T10:00:00.500Z", "last_synced_at": None}
    ms = ms_of(obj["updated_at"])
    assert ms == 1709632800500
    assert within_ms_bounds(obj, updated_at_min=ms, updated_at_max=ms)
    assert not within_ms_bounds(obj, updated_at_min=ms + 1)
    assert not within_ms_bounds(obj, updated_at_max=ms - 1)
    assert not within_ms_bounds(obj, last_synced_at_min=0)
    assert within_ms_bounds(obj)


@pytest.mark.parametrize(
    ("raw", "expected"), [("0", 0), (1709632800500, 1709632800500), ("253402300799999", 253402300799999)]
)
def test_parse_ms_reads_unix_milliseconds(raw: str | int, expected: int) -> None:
    assert parse_ms(raw) == expected


@pytest.mark.parametrize("raw", ["-1", "253402300800000", "1.5", "", "1e3", True])
def test_parse_ms_refuses_anything_else(raw: Any) -> None:
    with pytest.raises(ValueError, match="Unix milliseconds"):
        parse_ms(raw)
