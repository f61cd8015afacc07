"""Small, deterministic request bodies for the example-based conformance tests (the fuzzed ones use strategies/)."""

from __future__ import annotations

from typing import Any

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.client import ApiClient
from accounting_conformance.conformance.expect import create
from accounting_conformance.conformance.fixtures import Fixtures


def invoice_credit_memo(
    fixtures: Fixtures, tag: str, *, amounts: tuple[str, ...] = ("10.00",), currency: str = "USD", number: str = ""
) -> dict[str, Any]:
    """An invoice credit memo create body for a customer in `currency`."""
    customer = fixtures.customers(currency)[0]
    return {
        "invoice_credit_memo": {
            "customer_id": customer.id,
            "currency_code": currency,
            "memo": f"conformance {tag}",
            "document_number": f"{tag}-{number}" if number else tag,
            "line_items": [{"total_amount": value, "description": f"line {i}"} for i, value in enumerate(amounts)],
        }
    }


def bill_credit_memo(
    fixtures: Fixtures, tag: str, *, amounts: tuple[str, ...] = ("10.00",), currency: str = "USD"
) -> dict[str, Any]:
    """A bill credit memo create body for a vendor in `currency` that has bills."""
    vendor = next(v for v in fixtures.vendors(currency) if fixtures.bills_for(v.id))
    return {
        "bill_credit_memo": {
            "vendor_id": vendor.id,
            "currency_code": currency,
            "memo": f"conformance {tag}",
            "document_number": tag,
            "line_items": [{"total_amount": value, "description": f"line {i}"} for i, value in enumerate(amounts)],
        }
    }


def invoice(
    fixtures: Fixtures, tag: str, *, amounts: tuple[str, ...] = ("25.00",), currency: str = "USD"
) -> dict[str, Any]:
    """An invoice create body for the first customer in `currency`."""
    customer = fixtures.customers(currency)[0]
    return {
        "invoice": {
            "customer_id": customer.id,
            "currency_code": currency,
            "memo": f"conformance {tag}",
            "document_number": tag,
            "line_items": [{"total_amount": value, "description": f"line {i}"} for i, value in enumerate(amounts)],
        }
    }


def customer_refund(fixtures: Fixtures, tag: str, *, amounts: tuple[str, ...] = ("12.50",)) -> dict[str, Any]:
    """A customer refund create body."""
    customer = fixtures.customers()[0]
    return {
        "customer_refund": {
            "customer_id": customer.id,
            "account_id": fixtures.account("bank").id,
            "document_number": tag,
            "line_items": [{"total_amount": value, "description": f"line {i}"} for i, value in enumerate(amounts)],
        }
    }


def application(kind: str, memo_id: str, *plan: tuple[str, Any]) -> dict[str, Any]:
    """The body of an application of a memo of `kind` to the targets of `plan` (target id, allocated amount)."""
    applied = kinds.application(kind)
    return {
        applied.key: {
            applied.memo_field: memo_id,
            applied.links: [{"id": target, "allocated_amount": value} for target, value in plan],
        }
    }


def unapplication(kind: str, memo_id: str, target_id: str) -> dict[str, Any]:
    """The body of a revert of a memo's application to one target."""
    revert = kinds.revert(kind)
    return {revert.key: {kinds.application(kind).memo_field: memo_id, revert.target_field: target_id}}


def memo_and_invoice(
    client: ApiClient, fixtures: Fixtures, tag: str, memo: str, due: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A USD invoice credit memo of one line `memo` and an invoice of the same customer with one line `due`, created."""
    return (
        create(client, "invoice_credit_memo", invoice_credit_memo(fixtures, tag, amounts=(memo,))),
        create(client, "invoice", invoice(fixtures, tag, amounts=(due,))),
    )
