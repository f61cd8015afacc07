"""Assertions of the suite's own tests: compare what a target answered with what the contract implies."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from conformance.client import ApiClient, Exchange
from conformance.failures import violation
from conformance.ledger import Memo, Target

RESOURCES = {
    "invoice_credit_memo": "/accounting/invoice_credit_memos",
    "bill_credit_memo": "/accounting/bill_credit_memos",
    "invoice": "/accounting/invoices",
    "customer_refund": "/accounting/customer_refunds",
}


def amount(value: Any) -> Decimal | None:
    """A response amount (string or number) as an exact Decimal; None when null or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def status_is(client: ApiClient, exchange: Exchange, allowed: Iterable[int], rule: str, why: str) -> Any:
    """Fail under `rule` unless the exchange answered one of `allowed`, and under SCHEMA-001 when the response
    breaks the contract's schema (with the client's contract set); return the parsed body."""
    allowed = tuple(allowed)
    if exchange.error or exchange.status not in allowed:
        raise violation(
            rule,
            expected=f"HTTP {' or '.join(map(str, allowed))} ({why})",
            received=exchange.error or f"HTTP {exchange.status}: {client.redactor(exchange.text[:500])}",
            operation=f"{exchange.method} {exchange.url.split('?')[0].removeprefix(client.base)}",
            reproduction=exchange.reproduction(client.redactor),
        )
    if client.contract is not None:
        client.contract.check(client, exchange)
    try:
        return exchange.json() if exchange.text else None
    except ValueError:
        raise violation(
            rule, expected="a JSON body", received=client.redactor(exchange.text[:200]),
            reproduction=exchange.reproduction(client.redactor),
        ) from None


def same(client: ApiClient, exchange: Exchange, rule: str, what: str, expected: Any, received: Any) -> None:
    """Fail under `rule` when a value differs from what the contract implies."""
    if expected != received:
        raise violation(
            rule, expected=f"{what} = {expected}", received=f"{what} = {received}",
            operation=f"{exchange.method} {exchange.url.split('?')[0].removeprefix(client.base)}",
            reproduction=exchange.reproduction(client.redactor),
        )


def fetch(client: ApiClient, kind: str, object_id: str, rule: str) -> tuple[Exchange, Mapping[str, Any]]:
    """Fetch one object, failing under `rule` unless it answers 200 with that object."""
    exchange = client.request("GET", f"{RESOURCES[kind]}/{object_id}")
    body = status_is(client, exchange, (200,), rule, f"the {kind} {object_id} exists")
    obj = body.get(kind) if isinstance(body, dict) else None
    if not isinstance(obj, dict):
        raise violation(rule, expected=f"a body with key {kind!r}", received=str(body)[:200],
                        reproduction=exchange.reproduction(client.redactor))
    return exchange, obj


def create(client: ApiClient, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create one object, failing under WRITE-001 unless it answers 200; return the created object."""
    exchange = client.request("POST", RESOURCES[kind], body=dict(body))
    return status_is(client, exchange, (200,), "WRITE-001", f"a valid {kind} is created")[kind]


def _summed(entries: Iterable[Mapping[str, Any]], field: str) -> dict[str, Decimal | None]:
    """{id: sum of `field`} over entries; None for an id with any amount that is not a number."""
    found: dict[str, Decimal | None] = {}
    for entry in entries:
        value = amount(entry.get(field))
        previous = found.get(entry.get("id"), Decimal(0))
        found[entry.get("id")] = None if value is None or previous is None else previous + value
    return found


def payments_of(invoice: Mapping[str, Any]) -> dict[str, Decimal | None]:
    """An invoice's credit-memo payments as {memo id: amount}, summed per memo (other payment types left out)."""
    return _summed((p for p in invoice.get("linked_payments") or [] if p.get("type") == "INVOICE_CREDIT_MEMO"), "amount")


def links_of(memo: Mapping[str, Any], kind: str) -> dict[str, Decimal | None]:
    """A memo's links as {target id: allocated amount}, summed per target."""
    return _summed(memo.get("linked_invoices" if kind == "invoice_credit_memo" else "linked_bills") or [], "allocated_amount")


def memo_matches(client: ApiClient, model: Memo, rule: str) -> None:
    """Fetch a memo and compare total, remaining, status and links with the model."""
    exchange, memo = fetch(client, model.kind, model.id, rule)
    same(client, exchange, rule, f"{model.kind} {model.id} total_amount", model.total, amount(memo.get("total_amount")))
    same(client, exchange, rule, f"{model.kind} {model.id} remaining_amount", model.remaining, amount(memo.get("remaining_amount")))
    same(client, exchange, rule, f"{model.kind} {model.id} status", model.status, memo.get("status"))
    same(client, exchange, rule, f"{model.kind} {model.id} links", dict(sorted(model.links.items())),
         dict(sorted(links_of(memo, model.kind).items())))


def invoice_matches(client: ApiClient, model: Target, rule: str) -> None:
    """Fetch an invoice and compare amount_due, status and the credit-memo payments with the model."""
    exchange, invoice = fetch(client, "invoice", model.id, rule)
    same(client, exchange, rule, f"invoice {model.id} amount_due", model.due, amount(invoice.get("amount_due")))
    same(client, exchange, rule, f"invoice {model.id} status", model.status, invoice.get("status"))
    same(client, exchange, rule, f"invoice {model.id} credit memo payments", dict(sorted(model.payments.items())),
         dict(sorted(payments_of(invoice).items())))
