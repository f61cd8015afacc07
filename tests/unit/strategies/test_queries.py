"""strategies.queries: rendered filters and sorts match the contract's patterns, bad filters never do."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis.errors import InvalidArgument

from accounting_conformance.conformance import querymodel
from accounting_conformance.conformance.instants import instant_ns
from accounting_conformance.conformance.querymodel import Filter
from accounting_conformance.strategies.queries import bad_filters, filters, sorts
from tests.unit.strategies.spec_helpers import PARAMETERS, filter_regex, parameter, sort_regex

KINDS = list(PARAMETERS)
FIND = settings(max_examples=1000, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
OBJECTS: list[dict[str, Any]] = [
    {
        "id": "m1",
        "customer_id": "cust-a",
        "document_number": 'T-q0 "quoted" \\ back',
        "created_at": "2024-03-31T10:00:00.123Z",
        "updated_at": "2024-03-05T09:00:00.000Z",
        "last_synced_at": None,
    },
    {
        "id": "m2",
        "customer_id": "cust-b",
        "document_number": None,
        "created_at": "2024-03-29T01:00:00.500Z",
        "updated_at": "2024-03-05T09:00:00.001Z",
        "last_synced_at": "2024-02-01T00:00:00.000Z",
    },
    {
        "id": "m3",
        "customer_id": "cust-a",
        "document_number": "T-q2",
        "created_at": "2024-02-10T23:59:59.999Z",
        "updated_at": "2024-03-06T00:00:00.000Z",
        "last_synced_at": "2024-02-01T00:00:00.000Z",
    },
]
VALUES = {f: [o[f] for o in OBJECTS] for f in querymodel.RESOURCE_FIELDS["invoice_credit_memo"]}


@pytest.mark.parametrize("kind", KINDS)
def test_the_models_grammar_is_the_contracts_pattern_and_field_list(kind: str) -> None:
    filter_param, sort_param = parameter(f"Filter{PARAMETERS[kind]}"), parameter(f"Sort{PARAMETERS[kind]}")
    assert querymodel.filter_pattern(kind) == filter_param["schema"]["pattern"]
    assert querymodel.sort_pattern(kind) == sort_param["schema"]["pattern"]
    assert list(querymodel.RESOURCE_FIELDS[kind]) == filter_param["x-filterable-fields"]
    assert list(querymodel.SORT_FIELDS[kind]) == sort_param["x-sortable-fields"]


@pytest.mark.parametrize("kind", KINDS)
def test_rendered_filters_match_the_contracts_pattern(kind: str) -> None:
    pattern = filter_regex(kind)
    values = {f: v for f, v in VALUES.items() if f in querymodel.RESOURCE_FIELDS[kind]}

    @settings(max_examples=80, deadline=None)
    @given(chosen=filters(kind=kind, values=values, max_conditions=3))
    def check(chosen: Filter) -> None:
        assert (
            all(c.field in querymodel.RESOURCE_FIELDS[kind] for c in chosen.conditions)
            and 1 <= len(chosen.conditions) <= 3
        )
        assert pattern.fullmatch(chosen.render()), chosen.render()

    check()


@pytest.mark.parametrize("kind", KINDS)
def test_rendered_sorts_match_the_contracts_pattern(kind: str) -> None:
    pattern = sort_regex(kind)

    @settings(max_examples=30)
    @given(pair=sorts(kind=kind))
    def check(pair: tuple[str, str]) -> None:
        assert pair[1] in ("ASC", "DESC") and pattern.fullmatch(f"{pair[0]} {pair[1]}")

    check()


def _names_a_date_that_does_not_exist(text: str) -> bool:
    """Whether a quoted value in text starts with a YYYY-MM-DD that is no calendar date."""
    for found in re.findall(r'"(\d{4}-\d{2}-\d{2})', text):
        try:
            date.fromisoformat(found)
        except ValueError:
            return True
    return False


@pytest.mark.parametrize("kind", KINDS)
def test_bad_filters_never_match_the_contracts_pattern_unless_their_date_does_not_exist(kind: str) -> None:
    pattern = filter_regex(kind)
    outcomes: list[bool] = []

    @settings(max_examples=150, deadline=None)
    @given(bad=bad_filters(kind=kind))
    def check(bad: str) -> None:
        matched = bool(pattern.fullmatch(bad))
        assert not matched or _names_a_date_that_does_not_exist(bad), bad
        outcomes.append(matched)

    check()
    assert not all(outcomes)


@pytest.mark.parametrize(
    ("kind", "flaw"),
    [
        ("invoice_credit_memo", lambda s: " and " in s),
        ("invoice_credit_memo", lambda s: "total_amount=" in s),
        ("invoice_credit_memo", lambda s: s.startswith("customer_id>")),
        ("invoice_credit_memo", lambda s: "DROP TABLE" in s),
        ("invoice_credit_memo", lambda s: s.endswith('="abc')),
        ("invoice_credit_memo", lambda s: "2024-13-01" in s),
        ("invoice_credit_memo", lambda s: s.endswith('"2024-02-30"')),
        ("invoice_credit_memo", lambda s: s.endswith(" AND ")),
        ("invoice_credit_memo", lambda s: s.startswith("foo")),
        ("invoice_credit_memo", lambda s: "<>" in s),
        ("customer_refund", lambda s: s.startswith("customer_id=")),
        ("customer_refund", lambda s: s.startswith("created_at~")),
        ("bill_credit_memo", lambda s: s.startswith('customer_id="')),
    ],
)
def test_bad_filters_reach_each_kind_of_flaw(kind: str, flaw: Callable[[str], bool]) -> None:
    find(bad_filters(kind=kind), flaw, settings=FIND)


def test_filters_reach_spaces_around_the_operator_null_and_substrings() -> None:
    strategy = filters(kind="invoice_credit_memo", values=VALUES, max_conditions=1)
    find(strategy, lambda f: f.render().startswith("document_number = "), settings=FIND)
    find(strategy, lambda f: f.render() == "document_number=null", settings=FIND)
    find(strategy, lambda f: f.render().startswith('document_number~"') and '\\"' in f.render(), settings=FIND)
    find(strategy, lambda f: " AND " not in f.render() and f.render().endswith('+05:30"'), settings=FIND)


def test_filters_shrink_to_equality_on_the_first_candidate() -> None:
    chosen = find(filters(kind="invoice_credit_memo", values=VALUES), lambda f: True)
    assert chosen.render() == 'customer_id="cust-a"'


def test_timestamp_candidates_are_kept_as_given_or_respelled_as_the_same_instant() -> None:
    strategy = filters(kind="invoice_credit_memo", values={"created_at": VALUES["created_at"]}, max_conditions=1)
    chosen = find(
        strategy, lambda f: f.conditions[0].field == "created_at" and f.conditions[0].op == "=", settings=FIND
    )
    assert chosen.render() == 'created_at="2024-03-31T10:00:00.123Z"'
    assert querymodel.matches(chosen, OBJECTS[0]) and not querymodel.matches(chosen, OBJECTS[1])
    instants = {instant_ns(o["created_at"]) for o in OBJECTS}

    def respelled(f: Filter) -> bool:
        field, value = f.conditions[0].field, f.conditions[0].value
        return (
            field == "created_at"
            and value is not None
            and value not in VALUES["created_at"]
            and "T" in value
            and instant_ns(value) in instants
        )

    assert respelled(find(strategy, respelled, settings=FIND))


def test_most_filters_built_from_candidates_select_something() -> None:
    selected: list[bool] = []

    @settings(max_examples=200, derandomize=True, database=None, deadline=None)
    @given(chosen=filters(kind="invoice_credit_memo", values=VALUES, max_conditions=2))
    def record(chosen: Filter) -> None:
        selected.append(any(querymodel.matches(chosen, o) for o in OBJECTS))

    record()
    assert sum(selected) >= len(selected) // 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: filters(kind="payments"), r"kind='payments' must be one of"),
        (lambda: filters(kind="invoice", max_conditions=0), r"max_conditions=0 must be an integer from 1 to 50"),
        (lambda: filters(kind="invoice", max_conditions=True), r"max_conditions=True"),
        (lambda: filters(kind="invoice", values={"total_amount": ["1"]}), r"'total_amount', not a filterable field"),
        (lambda: filters(kind="invoice", values={"created_at": ["yesterday"]}), r"'yesterday' is not an ISO 8601"),
        (lambda: filters(kind="invoice", values={"created_at": [17]}), r"must be ISO 8601 strings"),
        (lambda: filters(kind="invoice", values={"status": "open"}), r"must be a sequence of candidate values"),
        (lambda: filters(kind="invoice", values={"status": [3]}), r"must hold strings or None"),
        (lambda: bad_filters(kind="refunds"), r"kind='refunds' must be one of"),
        (lambda: sorts(kind="bills"), r"kind='bills' must be one of"),
    ],
)
def test_bad_options_fail_when_the_strategy_is_made(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        call()
