"""The filter language: valid expressions, and every malformed or hostile input raising QueryError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounting_conformance.reference_server import filters
from accounting_conformance.reference_server.filters import Condition, QueryError, condition_sql, parse_filter
from accounting_conformance.reference_server.resources import INVOICE, INVOICE_CREDIT_MEMO

ICM = INVOICE_CREDIT_MEMO
NS = 1_000_000


def test_single_condition_parses() -> None:
    assert parse_filter(ICM, 'customer_id = "abc"') == (Condition("customer_id", "=", "abc", 0),)


def test_and_joins_conditions_case_insensitively() -> None:
    parsed = parse_filter(ICM, 'customer_id="a" and document_number ~ "CUST" AnD customer_id != null')
    assert [(c.field, c.op, c.value) for c in parsed] == [
        ("customer_id", "=", "a"),
        ("document_number", "~", "CUST"),
        ("customer_id", "!=", None),
    ]


@pytest.mark.parametrize("text", ['customer_id="x"', '  customer_id   =   "x"  ', 'customer_id\t=\n"x"'])
def test_whitespace_around_tokens_is_allowed(text: str) -> None:
    assert parse_filter(ICM, text)[0].value == "x"


def test_escaped_quote_and_backslash_are_unescaped() -> None:
    assert parse_filter(ICM, r'document_number = "a\"b\\c"')[0].value == 'a"b\\c'


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_filter_means_no_conditions(text: str | None) -> None:
    assert parse_filter(ICM, text) == ()


@pytest.mark.parametrize("op", [">", ">=", "<", "<=", "=", "!="])
def test_timestamps_take_comparison_operators(op: str) -> None:
    (cond,) = parse_filter(ICM, f'created_at {op} "2024-03-01T00:00:00Z"')
    assert cond.value == 1709251200000 * NS


def test_timestamps_compare_as_instants_across_offsets() -> None:
    a = parse_filter(ICM, 'updated_at > "2024-03-01T01:00:00+01:00"')[0].value
    b = parse_filter(ICM, 'updated_at > "2024-03-01T00:00:00.000Z"')[0].value
    assert a == b


def test_dates_are_midnight_utc() -> None:
    (cond,) = parse_filter(INVOICE, 'due_date <= "2024-03-01"')
    assert cond.value == 1709251200000 * NS


def test_invoice_status_is_filterable() -> None:
    assert parse_filter(INVOICE, 'status = "paid"')[0].value == "paid"


def test_unicode_values_are_kept() -> None:
    assert parse_filter(ICM, 'document_number ~ "Zürich 東京 🚀"')[0].value == "Zürich 東京 🚀"


@pytest.mark.parametrize(
    ("text", "code", "position"),
    [
        ('vendor_id = "x"', filters.UNKNOWN_FIELD, 0),
        ('customer_id = "x" AND memo = "y"', filters.UNKNOWN_FIELD, 22),
        ('customer_id == "x"', filters.UNKNOWN_OPERATOR, 12),
        ('customer_id <> "x"', filters.UNKNOWN_OPERATOR, 12),
        ('customer_id LIKE "x"', filters.UNKNOWN_OPERATOR, 12),
        ('customer_id : "x"', filters.UNKNOWN_OPERATOR, 12),
        ("customer_id", filters.UNKNOWN_OPERATOR, 11),
        ('customer_id = "abc', filters.UNTERMINATED_STRING, 14),
        ('customer_id = "abc\\"', filters.UNTERMINATED_STRING, 14),
        ('customer_id = "a\\n"', filters.INVALID_ESCAPE, 16),
        ("customer_id = ", filters.INVALID_FILTER, 14),
        ("customer_id = x", filters.INVALID_FILTER, 14),
        ("customer_id = 'x'", filters.INVALID_FILTER, 14),
        ('= "x"', filters.INVALID_FILTER, 0),
        ('customer_id = "x" AND', filters.INVALID_FILTER, 21),
        ('customer_id = "x" OR customer_id = "y"', filters.INVALID_FILTER, 18),
        ('customer_id = "x" customer_id = "y"', filters.INVALID_FILTER, 18),
        ('(customer_id = "x")', filters.INVALID_FILTER, 0),
        ('customer_id = "x"; DROP TABLE invoices', filters.INVALID_FILTER, 17),
        ('customer_id = "x" -- comment', filters.INVALID_FILTER, 18),
        ('customer_id = "x" AND 1=1', filters.INVALID_FILTER, 22),
        ('cüstomer_id = "x"', filters.INVALID_FILTER, 1),
        ('created_at ~ "2024"', filters.UNSUPPORTED_OPERATOR, 11),
        ('customer_id > "a"', filters.UNSUPPORTED_OPERATOR, 12),
        ('created_at = "yesterday"', filters.INVALID_VALUE, 13),
        ('created_at = "2024-02-30T00:00:00Z"', filters.INVALID_VALUE, 13),
        ('created_at = "2024-03-01T00:00:00"', filters.INVALID_VALUE, 13),
        ("created_at > null", filters.INVALID_VALUE, 13),
        ("customer_id = NULL", filters.INVALID_FILTER, 14),
        ("customer_id = nullx", filters.INVALID_FILTER, 14),
    ],
)
def test_malformed_filters_raise_query_error(text: str, code: str, position: int) -> None:
    with pytest.raises(QueryError) as info:
        parse_filter(ICM, text)
    assert (info.value.code, info.value.position) == (code, position)
    assert f"position {position}" in info.value.message


def test_unknown_field_error_lists_the_filterable_fields() -> None:
    with pytest.raises(QueryError, match="customer_id, document_number, created_at"):
        parse_filter(ICM, 'status = "paid"')


def test_overlong_filters_are_rejected() -> None:
    with pytest.raises(QueryError) as info:
        parse_filter(ICM, 'customer_id = "' + "x" * 5000 + '"')
    assert info.value.code == filters.INVALID_FILTER


def test_too_many_conditions_are_rejected() -> None:
    with pytest.raises(QueryError):
        parse_filter(ICM, " AND ".join(['customer_id = "x"'] * 51))


@pytest.mark.parametrize("value", ["x' OR '1'='1", "'; DROP TABLE invoices; --", "%", "_", "\x00", 'a\\"b', "ü" * 50])
def test_sql_metacharacters_in_values_stay_bound_parameters(value: str) -> None:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    for op in ("=", "!=", "~"):
        (cond,) = parse_filter(ICM, f'document_number {op} "{escaped}"')
        sql, args = condition_sql(ICM, cond)
        assert args == [value]
        assert sql in ("document_number = ?", "document_number IS NOT ?", "instr(document_number, ?) > 0")


@pytest.mark.parametrize(
    ("op", "sql", "bound"),
    [
        (">", "created_at_ms > ?", 1),
        (">=", "created_at_ms >= ?", 2),
        ("<", "created_at_ms < ?", 2),
        ("<=", "created_at_ms <= ?", 1),
    ],
)
def test_sub_millisecond_bounds_round_the_right_way(op: str, sql: str, bound: int) -> None:
    (cond,) = parse_filter(ICM, f'created_at {op} "1970-01-01T00:00:00.0015Z"')
    assert condition_sql(ICM, cond) == (sql, [bound])


def test_null_conditions_use_is_null() -> None:
    assert condition_sql(ICM, parse_filter(ICM, "customer_id = null")[0]) == ("customer_id IS NULL", [])
    assert condition_sql(ICM, parse_filter(ICM, "customer_id != null")[0]) == ("customer_id IS NOT NULL", [])


@given(st.text(max_size=60))
def test_arbitrary_input_either_parses_or_raises_query_error(text: str) -> None:
    try:
        parse_filter(ICM, text)
    except QueryError as exc:
        assert exc.code and exc.message


@given(st.text(max_size=40))
def test_any_string_value_round_trips_through_quoting(value: str) -> None:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    assert parse_filter(ICM, f'document_number = "{escaped}"')[0].value == value
