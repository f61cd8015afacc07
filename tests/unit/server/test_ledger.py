"""Amount rules: statuses, application validation and effects, update and delete rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounting_conformance.reference_server import ledger
from accounting_conformance.reference_server.ledger import Allocation, Balance, check_application

D = Decimal
MEMO = Balance("memo-1", "cust-1", "USD", D("100"))
INVOICES = {
    "inv-1": Balance("inv-1", "cust-1", "USD", D("60")),
    "inv-2": Balance("inv-2", "cust-1", "USD", D("50")),
    "inv-eur": Balance("inv-eur", "cust-1", "EUR", D("50")),
    "inv-other": Balance("inv-other", "cust-2", "USD", D("50")),
}


def code_of(allocations: list[Allocation], **kwargs: str) -> str | None:
    violation = check_application(MEMO, allocations, INVOICES, "customer", **kwargs)
    return None if violation is None else violation.code


def test_amount_due_is_total_minus_linked_payments() -> None:
    assert ledger.amount_due(D("14.34"), [D("3"), D("2")]) == D("9.34")


@pytest.mark.parametrize(
    ("total", "remaining", "status"), [("3", "3", "OPEN"), ("3", "1", "PARTIALLY_APPLIED"), ("3", "0", "APPLIED")]
)
def test_invoice_credit_memo_status_follows_amounts(total: str, remaining: str, status: str) -> None:
    assert ledger.invoice_credit_memo_status(D(total), D(remaining)) == status


@pytest.mark.parametrize(
    ("total", "remaining", "status"), [("3", "3", "open"), ("3", "1", "partially_paid"), ("3", "0", "paid")]
)
def test_bill_credit_memo_status_follows_amounts(total: str, remaining: str, status: str) -> None:
    assert ledger.bill_credit_memo_status(D(total), D(remaining)) == status


@pytest.mark.parametrize(
    ("total", "due", "status"),
    [("14.34", "14.34", "open"), ("14.34", "9.34", "partially_paid"), ("14.34", "0", "paid")],
)
def test_invoice_status_follows_amount_due(total: str, due: str, status: str) -> None:
    assert ledger.invoice_status(D(total), D(due)) == status


def test_valid_application_passes() -> None:
    assert code_of([Allocation("inv-1", D("60")), Allocation("inv-2", D("40"))]) is None


def test_over_application_is_rejected() -> None:
    assert code_of([Allocation("inv-1", D("60")), Allocation("inv-2", D("40.01"))]) == ledger.OVER_APPLICATION


def test_over_payment_is_rejected() -> None:
    assert code_of([Allocation("inv-1", D("60.01"))]) == ledger.OVER_PAYMENT


@pytest.mark.parametrize("amount", ["0", "-1", "-0.01"])
def test_non_positive_amount_is_rejected(amount: str) -> None:
    assert code_of([Allocation("inv-1", D(amount))]) == ledger.NON_POSITIVE_AMOUNT


def test_invoice_in_another_currency_is_rejected() -> None:
    assert code_of([Allocation("inv-eur", D("1"))]) == ledger.CURRENCY_MISMATCH


def test_request_currency_other_than_the_memos_is_rejected() -> None:
    assert code_of([Allocation("inv-1", D("1"))], currency_code="EUR") == ledger.CURRENCY_MISMATCH


def test_invoice_of_another_customer_is_rejected() -> None:
    assert code_of([Allocation("inv-other", D("1"))]) == ledger.CUSTOMER_MISMATCH


def test_request_customer_other_than_the_memos_is_rejected() -> None:
    assert code_of([Allocation("inv-1", D("1"))], party_id="cust-2") == ledger.CUSTOMER_MISMATCH


def test_bill_of_another_vendor_is_a_vendor_mismatch() -> None:
    memo = Balance("bcm", "vend-1", "USD", D("10"))
    bills = {"bill-1": Balance("bill-1", "vend-2", "USD", D("10"))}
    violation = check_application(memo, [Allocation("bill-1", D("1"))], bills, "vendor")
    assert violation is not None and violation.code == ledger.VENDOR_MISMATCH


def test_same_invoice_twice_is_rejected() -> None:
    plan = [Allocation("inv-1", D("1")), Allocation("inv-1", D("2"))]
    assert code_of(plan) == ledger.DUPLICATE_TARGET


def test_amount_finer_than_the_currency_minor_unit_is_kept_exact() -> None:
    assert code_of([Allocation("inv-1", D("1.001"))]) is None


def test_unknown_invoice_is_reported() -> None:
    assert code_of([Allocation("nope", D("1"))]) == ledger.UNKNOWN_TARGET


def test_empty_application_is_rejected() -> None:
    assert code_of([]) == ledger.EMPTY_APPLICATION


def test_violation_message_names_the_target() -> None:
    violation = check_application(MEMO, [Allocation("inv-1", D("61"))], INVOICES, "customer")
    assert violation is not None and "inv-1" in violation.message and "60" in violation.message


def test_new_total_below_allocated_is_rejected() -> None:
    violation = ledger.check_update("customer", D("5"), new_total=D("4.99"))
    assert violation is not None and violation.code == ledger.TOTAL_BELOW_ALLOCATED


def test_new_total_equal_to_allocated_is_allowed() -> None:
    assert ledger.check_update("customer", D("5"), new_total=D("5")) is None


def test_currency_change_with_applications_is_rejected() -> None:
    violation = ledger.check_update("vendor", D("1"), old_currency="USD", new_currency="EUR")
    assert violation is not None and violation.code == ledger.CURRENCY_CHANGE_WITH_APPLICATIONS


def test_counterparty_change_with_applications_is_rejected() -> None:
    violation = ledger.check_update("customer", D("1"), old_party="c1", new_party="c2")
    assert violation is not None and violation.code == ledger.CUSTOMER_MISMATCH


def test_changes_are_free_while_nothing_is_applied() -> None:
    assert (
        ledger.check_update(
            "customer", D("0"), new_total=D("1"), old_currency="USD", new_currency="EUR", old_party="c1", new_party="c2"
        )
        is None
    )


def test_memo_with_applications_cannot_be_deleted() -> None:
    assert ledger.check_deletable(D("0")) is None
    violation = ledger.check_deletable(D("0.01"))
    assert violation is not None and violation.code == ledger.HAS_APPLICATIONS


cents = st.integers(min_value=-500, max_value=5_000).map(lambda c: Decimal(c).scaleb(-2))
plans = st.lists(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), cents), min_size=0, max_size=4), max_size=12)


@given(total=st.integers(min_value=1, max_value=10_000).map(lambda c: Decimal(c).scaleb(-2)), attempts=plans)
def test_allocations_never_exceed_total_and_status_follows_amounts(
    total: Decimal, attempts: list[list[tuple[str, Decimal]]]
) -> None:
    remaining = total
    allocated: list[Decimal] = []
    invoices = {key: Balance(key, "c", "USD", Decimal("30")) for key in "abc"}
    invoice_totals = {key: Decimal("30") for key in "abc"}
    for attempt in attempts:
        plan = [Allocation(key, amount) for key, amount in attempt]
        memo = Balance("m", "c", "USD", remaining)
        if check_application(memo, plan, invoices, "customer") is not None:
            continue  # refused: nothing moves (the service applies only what check_application admits)
        remaining -= sum((share.amount for share in plan), Decimal(0))
        for share in plan:
            invoices[share.target_id] = Balance(
                share.target_id, "c", "USD", invoices[share.target_id].open_amount - share.amount
            )
        allocated.extend(share.amount for share in plan)
        assert all(share.amount > 0 for share in plan)
    assert sum(allocated, Decimal(0)) <= total
    assert remaining == total - sum(allocated, Decimal(0))
    assert Decimal(0) <= remaining <= total
    status = ledger.invoice_credit_memo_status(total, remaining)
    assert status == ("OPEN" if not allocated else "APPLIED" if remaining == 0 else "PARTIALLY_APPLIED")
    for key, balance in invoices.items():
        assert Decimal(0) <= balance.open_amount <= invoice_totals[key]
    assert sum(invoice_totals[k] - b.open_amount for k, b in invoices.items()) == total - remaining
