"""Every invariant rule: the spec's own examples pass it, and a hand-broken copy fails with its rule ID."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.contract import component
from accounting_conformance.conformance.invariants import check_object, iter_objects
from accounting_conformance.conformance.rules import of_family


def good(kind: str) -> dict[str, Any]:
    """A fresh copy of the spec's example object of this kind (`<Schema>Example`)."""
    return copy.deepcopy(component(f"{kinds.get(kind).schema}Example", "examples")["value"][kind])


def rules_of(kind: str, obj: dict[str, Any]) -> set[str]:
    return {item.rule for item in check_object(kind, obj)}


def _partially_applied_icm(obj: dict[str, Any]) -> None:
    obj["linked_invoices"][0]["allocated_amount"] = "1.5"
    obj["remaining_amount"] = "1.5"


def _open_bcm_marked_paid(obj: dict[str, Any]) -> None:
    obj["linked_bills"] = []
    obj["remaining_amount"] = 3


# rule -> (kind, how to break the good example)
BREAKS: dict[str, tuple[str, Callable[[dict[str, Any]], None]]] = {
    "MONEY-001": ("bill_credit_memo", lambda o: o["linked_bills"].append({"id": "b2", "allocated_amount": 0})),
    "MONEY-002": ("invoice_credit_memo", lambda o: o["linked_invoices"].append({"id": "i2", "allocated_amount": "1"})),
    "MONEY-003": ("invoice_credit_memo", lambda o: o.update(remaining_amount="1")),
    "MONEY-004": ("bill_credit_memo", lambda o: o.update(total_amount=4, remaining_amount=1)),
    "MONEY-005": ("invoice", lambda o: o.update(amount_due="10")),
    "MONEY-006": ("invoice", lambda o: o.update(total_discount="1")),
    "MONEY-007": ("invoice", lambda o: o["line_items"].append({"amount": "1", "sub_total": "1", "tax_amount": "0"})),
    "MONEY-008": ("invoice_credit_memo", lambda o: o["line_items"][0].update(tax_amount="1")),
    "MONEY-009": ("customer_refund", lambda o: o.update(discount_amount=None)),
    "MONEY-010": ("customer_refund", lambda o: o.update(tax_amount="NaN")),
    "STATUS-001": ("invoice_credit_memo", lambda o: o.update(status="OPEN")),
    "STATUS-002": ("invoice", lambda o: o.update(status="paid")),
    "TIME-001": ("customer_refund", lambda o: o.update(created_at="2023-01-03T00:00:00Z")),
    "CUR-001": ("invoice", lambda o: o.update(currency_code="XYZ")),
}


def test_every_invariant_rule_of_the_registry_has_a_break_case() -> None:
    invariant_rules = of_family("money") | of_family("status") | {"TIME-001", "CUR-001"}
    assert invariant_rules == set(BREAKS)


@pytest.mark.parametrize("kind", kinds.NAMES)
def test_the_spec_examples_break_no_rule(kind: str) -> None:
    assert check_object(kind, good(kind)) == []


@pytest.mark.parametrize("rule", sorted(BREAKS))
def test_a_broken_example_is_reported_under_its_rule(rule: str) -> None:
    kind, breaker = BREAKS[rule]
    obj = good(kind)
    assert rule not in rules_of(kind, obj)
    breaker(obj)
    assert rule in rules_of(kind, obj)


def test_a_remaining_amount_mismatch_says_what_was_expected_and_received() -> None:
    obj = good("invoice_credit_memo")
    obj["linked_invoices"][0]["allocated_amount"] = "1.5"
    (item,) = [v for v in check_object("invoice_credit_memo", obj) if v.rule == "MONEY-003"]
    assert (item.path, item.expected, item.received) == (
        "remaining_amount",
        "remaining_amount = 3 - 1.5 = 1.5",
        "remaining_amount = 0",
    )


def test_a_negative_allocation_names_its_path() -> None:
    obj = good("bill_credit_memo")
    obj["linked_bills"][0]["allocated_amount"] = -3
    paths = {v.path for v in check_object("bill_credit_memo", obj) if v.rule == "MONEY-001"}
    assert paths == {"linked_bills[0].allocated_amount"}


@pytest.mark.parametrize("spelling", [3, 3.0, Decimal("3.00"), "3", "3.000"])
def test_amounts_compare_exactly_whatever_their_spelling(spelling: Any) -> None:
    obj = good("bill_credit_memo")
    obj["total_amount"] = spelling
    assert check_object("bill_credit_memo", obj) == []


def test_float_arithmetic_noise_is_not_an_exact_sum() -> None:
    obj = good("customer_refund")
    obj.update(discount_amount=0, tax_amount=0, total_amount=0.1 + 0.2)  # 0.30000000000000004
    obj["line_items"] = [{"total_amount": 0.1}, {"total_amount": 0.2}]
    assert "MONEY-009" in rules_of("customer_refund", obj)
    obj["total_amount"] = 0.3
    assert rules_of("customer_refund", obj) == set()


def test_null_amounts_skip_the_rules_that_need_them() -> None:
    obj = good("invoice")
    obj.update(total_amount=None, amount_due=None)
    assert rules_of("invoice", obj) == set()


def test_a_refund_counts_null_discount_and_tax_as_zero() -> None:
    obj = good("customer_refund")
    obj.update(discount_amount=None, tax_amount=None, total_amount=120)
    assert rules_of("customer_refund", obj) == set()


def test_an_amount_due_below_zero_is_reported() -> None:
    obj = good("invoice")
    obj["linked_payments"][0]["amount"] = "20"
    obj["amount_due"] = "-7.66"
    found = [v for v in check_object("invoice", obj) if v.rule == "MONEY-005"]
    assert [v.expected for v in found] == ["amount_due >= 0"]


@pytest.mark.parametrize("status", ["VOID", "UNKNOWN", None])
def test_void_and_unknown_memo_statuses_are_exempt(status: str | None) -> None:
    obj = good("invoice_credit_memo")
    obj["status"] = status
    assert "STATUS-001" not in rules_of("invoice_credit_memo", obj)


def test_a_partially_applied_memo_must_say_so() -> None:
    obj = good("invoice_credit_memo")
    _partially_applied_icm(obj)
    assert rules_of("invoice_credit_memo", obj) == {"STATUS-001"}
    obj["status"] = "PARTIALLY_APPLIED"
    assert rules_of("invoice_credit_memo", obj) == set()


def test_an_unapplied_bill_credit_memo_is_open() -> None:
    obj = good("bill_credit_memo")
    _open_bcm_marked_paid(obj)
    assert rules_of("bill_credit_memo", obj) == {"STATUS-001"}
    obj["status"] = "open"
    assert rules_of("bill_credit_memo", obj) == set()


@pytest.mark.parametrize("status", ["void", "draft", "unknown", "submitted"])
def test_exempt_invoice_statuses_are_not_judged(status: str) -> None:
    obj = good("invoice")
    obj["status"] = status
    assert rules_of("invoice", obj) == set()


def test_timestamps_compare_as_instants_across_offsets() -> None:
    obj = good("invoice")
    obj.update(created_at="2024-03-01T01:00:00+01:00", updated_at="2024-03-01T00:00:00Z")
    assert rules_of("invoice", obj) == set()
    obj["created_at"] = "2024-03-01T00:00:00.000000001Z"
    assert rules_of("invoice", obj) == {"TIME-001"}


@pytest.mark.parametrize("stamp", ["2023-01-02T02:34:56", "2023-01-02", "2023-02-30T00:00:00Z", 1672626896000])
def test_a_timestamp_without_zone_or_calendar_sense_is_reported(stamp: Any) -> None:
    obj = good("bill_credit_memo")
    obj["linked_bills"][0]["allocated_date"] = stamp
    assert [v.path for v in check_object("bill_credit_memo", obj)] == ["linked_bills[0].allocated_date"]


def test_a_refund_transaction_date_may_be_a_plain_date() -> None:
    obj = good("customer_refund")
    assert obj["transaction_date"] == "2023-01-02"
    obj["transaction_date"] = "2023-01-02T10:00:00"
    assert rules_of("customer_refund", obj) == {"TIME-001"}


@pytest.mark.parametrize("code", ["usd", "US", "EURO", 840])
def test_a_currency_outside_iso_4217_is_reported(code: Any) -> None:
    obj = good("bill_credit_memo")
    obj["currency_code"] = code
    assert rules_of("bill_credit_memo", obj) == {"CUR-001"}


def test_a_null_currency_is_allowed() -> None:
    obj = good("invoice_credit_memo")
    obj["currency_code"] = None
    assert rules_of("invoice_credit_memo", obj) == set()


def test_iter_objects_finds_envelopes_pages_and_job_results() -> None:
    memo, invoice = good("invoice_credit_memo"), good("invoice")
    assert [k for k, _ in iter_objects({"invoice_credit_memo": memo})] == ["invoice_credit_memo"]
    assert [k for k, _ in iter_objects({"invoices": [invoice, invoice], "next_cursor": None})] == ["invoice"] * 2
    job = {
        "id": "j",
        "status": "success",
        "request": {"method": "POST", "url": "/x", "body": {"invoice": {}}},
        "response": {"http_status": 200, "body": {"invoice": invoice}},
    }
    assert [(k, o) for k, o in iter_objects(job)] == [("invoice", invoice)]
    assert list(iter_objects([memo])) == [] and list(iter_objects({"async_response": {}})) == []


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        check_object("Bill", {})


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_FIELDS = st.sampled_from(
    [
        "total_amount",
        "remaining_amount",
        "amount_due",
        "linked_invoices",
        "linked_bills",
        "linked_payments",
        "line_items",
        "status",
        "created_at",
        "updated_at",
        "currency_code",
        "sub_total",
        "tax_amount",
        "total_discount",
        "discount_amount",
    ]
)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(kinds.NAMES), obj=st.dictionaries(_FIELDS, _JSON, max_size=8), body=_JSON)
def test_the_checks_never_crash_on_any_json(kind: str, obj: dict, body: object) -> None:
    for found in check_object(kind, obj):
        assert found.rule and found.expected is not None
    list(iter_objects(body))
