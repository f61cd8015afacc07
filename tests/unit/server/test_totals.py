"""Line-item amounts, document totals and link-list bookkeeping."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounting_conformance.reference_server import ledger, totals
from accounting_conformance.reference_server.ledger import RuleViolation

D = Decimal


def test_request_total_becomes_sub_total_and_amount_without_tax_or_discount() -> None:
    (line,) = totals.line_amounts([{"total_amount": "3", "description": "x"}])
    assert (line.sub_total, line.amount, line.tax_amount, line.discount_amount) == (D(3), D(3), D(0), D(0))


def test_line_totals_accept_numbers_and_strings() -> None:
    lines = totals.line_amounts([{"total_amount": 12.34}, {"total_amount": "0.66"}])
    assert totals.document_totals(lines).total_amount == D("13.00")


def test_document_total_is_sub_total_plus_tax_minus_discount() -> None:
    lines = [totals.LineAmounts(D("12.34"), D("2"), D("0.5"), D("13.84")), totals.LineAmounts(D("1"), D(0), D(0), D(1))]
    result = totals.document_totals(lines)
    assert (result.sub_total, result.tax_amount, result.total_discount) == (D("13.34"), D("2"), D("0.5"))
    assert result.total_amount == result.sub_total + result.tax_amount - result.total_discount == D("14.84")


def test_line_amounts_keep_every_decimal_place() -> None:
    assert totals.line_amounts([{"total_amount": "1.005"}])[0].amount == D("1.005")


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([], ledger.EMPTY_LINE_ITEMS),
        ([{"total_amount": "0"}], ledger.NON_POSITIVE_AMOUNT),
        ([{"total_amount": -1}], ledger.NON_POSITIVE_AMOUNT),
        ([{"description": "no amount"}], "INVALID_AMOUNT"),
        ([{"total_amount": "1e3"}], "INVALID_AMOUNT"),
        ([{"total_amount": str(2**53)}, {"total_amount": "1"}], "AMOUNT_OUT_OF_RANGE"),
    ],
)
def test_invalid_line_items_are_rejected(lines: list[dict[str, object]], code: str) -> None:
    with pytest.raises(RuleViolation) as info:
        totals.line_amounts(lines)
    assert info.value.code == code


def test_line_violation_names_the_line() -> None:
    with pytest.raises(RuleViolation, match=r"line_items\[1\]"):
        totals.line_amounts([{"total_amount": "1"}, {"total_amount": "0"}])


def test_add_link_creates_one_entry_per_target_and_sums_amounts() -> None:
    links = totals.add_link([], {"id": "inv-1"}, "allocated_amount", D("1.10"))
    links = totals.add_link(links, {"id": "inv-2"}, "allocated_amount", D("2"))
    links = totals.add_link(links, {"id": "inv-1"}, "allocated_amount", D("0.90"))
    assert links == [{"id": "inv-1", "allocated_amount": "2"}, {"id": "inv-2", "allocated_amount": "2"}]


def test_add_link_keeps_the_first_date_and_matches_on_type() -> None:
    payments = [{"id": "m", "type": "INVOICE_PAYMENT", "amount": "3", "date": "d0"}]
    match = {"id": "m", "type": "INVOICE_CREDIT_MEMO"}
    payments = totals.add_link(payments, match, "amount", D("1"), {"date": "d1"})
    payments = totals.add_link(payments, match, "amount", D("1"), {"date": "d2"})
    assert payments[1] == {"id": "m", "type": "INVOICE_CREDIT_MEMO", "amount": "2", "date": "d1"}
    assert totals.links_total(payments, "amount") == D("5")


def test_add_link_does_not_mutate_its_input() -> None:
    original = [{"id": "a", "allocated_amount": "1"}]
    totals.add_link(original, {"id": "a"}, "allocated_amount", D("1"))
    assert original == [{"id": "a", "allocated_amount": "1"}]


def test_remove_link_returns_the_amount_it_held() -> None:
    links = [{"id": "b1", "allocated_amount": "3", "allocated_date": "d"}, {"id": "b2", "allocated_amount": "4"}]
    kept, removed = totals.remove_link(links, "b1", "allocated_amount")
    assert kept == [{"id": "b2", "allocated_amount": "4"}] and removed == D("3")


def test_removing_an_absent_link_is_not_applied() -> None:
    with pytest.raises(RuleViolation) as info:
        totals.remove_link([{"id": "b2", "allocated_amount": "4"}], "b1", "allocated_amount")
    assert info.value.code == ledger.NOT_APPLIED


@given(st.lists(st.integers(min_value=1, max_value=10**9).map(lambda c: Decimal(c).scaleb(-2)), min_size=1))
def test_document_total_is_the_sum_of_line_amounts(amounts: list[Decimal]) -> None:
    lines = totals.line_amounts([{"total_amount": str(a)} for a in amounts])
    result = totals.document_totals(lines)
    assert result.total_amount == sum(amounts, Decimal(0)) == sum((line.amount for line in lines), Decimal(0))
    assert result.sub_total == result.total_amount and result.tax_amount == 0


@given(st.lists(st.tuples(st.sampled_from("xyz"), st.integers(1, 10**6)), max_size=20))
def test_link_totals_equal_the_sum_of_what_was_added(additions: list[tuple[str, int]]) -> None:
    links: list[dict[str, object]] = []
    for target, cents in additions:
        links = totals.add_link(links, {"id": target}, "allocated_amount", Decimal(cents).scaleb(-2))
    assert len(links) == len({target for target, _ in additions})
    expected = sum((Decimal(c).scaleb(-2) for _, c in additions), Decimal(0))
    assert totals.links_total(links, "allocated_amount") == expected
