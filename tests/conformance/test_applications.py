"""Application rules beyond one call: shares above a target's due, repeated applications, links, updates after one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from conformance.client import ApiClient
from conformance.expect import RESOURCES, amount, fetch, links_of, payments_of, same, status_is
from conformance.fixtures import Fixtures
from conformance.platforms import require
from tests.conformance import builders

APPLY = "/accounting/invoice_credit_applications"
MEMO = RESOURCES["invoice_credit_memo"]


@pytest.fixture(autouse=True)
def _documented_for_the_platform(settings: Any) -> None:
    """Every test here creates invoice credit memos, invoices and applications."""
    require(settings.platform, "createInvoiceCreditMemo", "createInvoice", "createInvoiceCreditApplication")


def _apply(client: ApiClient, memo: dict[str, Any], invoice: dict[str, Any], value: str, rule: str, why: str) -> None:
    exchange = client.request("POST", APPLY, body=builders.icm_application(memo["id"], (invoice["id"], value)))
    status_is(client, exchange, (200,), rule, why)


@pytest.mark.rules("APPLY-002")
def test_share_above_the_invoices_amount_due_is_rejected_and_changes_nothing(
    client: ApiClient, fixtures: Fixtures, tag: str
) -> None:
    memo, inv = builders.memo_and_invoice(client, fixtures, tag, "50.00", "20.00")
    exchange = client.request("POST", APPLY, body=builders.icm_application(memo["id"], (inv["id"], "20.01")))
    status_is(client, exchange, (400,), "APPLY-002", "20.01 is more than the invoice's amount_due of 20.00")
    exchange, after = fetch(client, "invoice", inv["id"], "APPLY-002")
    same(client, exchange, "APPLY-002", "amount_due after a refused application", Decimal("20"), amount(after.get("amount_due")))
    exchange, after = fetch(client, "invoice_credit_memo", memo["id"], "APPLY-002")
    same(client, exchange, "APPLY-002", "remaining_amount after a refused application", Decimal("50"), amount(after.get("remaining_amount")))


@pytest.mark.rules("APPLY-001")
def test_second_application_to_the_same_invoice_adds_to_the_first(client: ApiClient, fixtures: Fixtures, tag: str) -> None:
    memo, inv = builders.memo_and_invoice(client, fixtures, tag, "10.00", "25.00")
    _apply(client, memo, inv, "2.00", "APPLY-001", "2.00 of a 10.00 memo fits a 25.00 invoice")
    _apply(client, memo, inv, "3.00", "APPLY-001", "3.00 more of the memo fits the invoice")
    exchange, after = fetch(client, "invoice_credit_memo", memo["id"], "APPLY-001")
    same(client, exchange, "APPLY-001", "memo remaining_amount", Decimal("5"), amount(after.get("remaining_amount")))
    same(client, exchange, "APPLY-001", "memo linked_invoices, summed per invoice", {inv["id"]: Decimal("5")},
         links_of(after, "invoice_credit_memo"))
    exchange, after = fetch(client, "invoice", inv["id"], "APPLY-001")
    same(client, exchange, "APPLY-001", "invoice amount_due", Decimal("20"), amount(after.get("amount_due")))
    same(client, exchange, "APPLY-001", "invoice linked_payments of type INVOICE_CREDIT_MEMO, summed per memo",
         {memo["id"]: Decimal("5")}, payments_of(after))


def _applied_then_relined(client: ApiClient, fixtures: Fixtures, tag: str, applied: str, new_total: str,
                          status: int, why: str) -> tuple[Any, dict[str, Any]]:
    """A 10.00 memo with `applied` of it applied, then PATCHed to one line of `new_total`; the memo as fetched after."""
    memo, inv = builders.memo_and_invoice(client, fixtures, tag, "10.00", "25.00")
    _apply(client, memo, inv, applied, "APPLY-001", f"{applied} of a 10.00 memo fits a 25.00 invoice")
    exchange = client.request("PATCH", f"{MEMO}/{memo['id']}",
                              body={"invoice_credit_memo": {"line_items": [{"total_amount": new_total, "description": "new"}]}})
    status_is(client, exchange, (status,), "APPLY-004", why)
    return fetch(client, "invoice_credit_memo", memo["id"], "APPLY-004")


@pytest.mark.rules("APPLY-004")
def test_new_lines_keep_the_applied_money(client: ApiClient, fixtures: Fixtures, tag: str) -> None:
    exchange, after = _applied_then_relined(client, fixtures, tag, "4.00", "8.00", 200, "a total of 8.00 is above the 4.00 applied")
    same(client, exchange, "APPLY-004", "total_amount", Decimal("8"), amount(after.get("total_amount")))
    same(client, exchange, "APPLY-004", "remaining_amount (8.00 total - 4.00 applied)", Decimal("4"), amount(after.get("remaining_amount")))
    same(client, exchange, "APPLY-004", "status", "PARTIALLY_APPLIED", after.get("status"))


@pytest.mark.rules("APPLY-004")
def test_total_below_the_applied_amount_is_rejected_and_changes_nothing(client: ApiClient, fixtures: Fixtures, tag: str) -> None:
    exchange, after = _applied_then_relined(client, fixtures, tag, "6.00", "5.00", 400,
                                            "a total of 5.00 is below the 6.00 already applied")
    same(client, exchange, "APPLY-004", "total_amount after a refused update", Decimal("10"), amount(after.get("total_amount")))
    same(client, exchange, "APPLY-004", "remaining_amount after a refused update", Decimal("4"), amount(after.get("remaining_amount")))
