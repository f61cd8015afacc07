"""Assertions of the suite's own tests: compare what a target answered with what the contract implies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.client import ApiClient, Exchange
from accounting_conformance.conformance.failures import RuleViolation, violation
from accounting_conformance.conformance.instants import instant_ns
from accounting_conformance.conformance.ledger import Memo, Target


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
        raise _refused(
            client,
            exchange,
            rule,
            expected=f"HTTP {' or '.join(map(str, allowed))} ({why})",
            received=exchange.error or f"HTTP {exchange.status}: {client.redactor(exchange.text[:500])}",
        )
    if client.contract is not None:
        client.contract.check(client, exchange)
    try:
        return exchange.json() if exchange.text else None
    except ValueError:
        raise _refused(
            client,
            exchange,
            rule,
            expected="a JSON body",
            received=client.redactor(exchange.text[:200]),
        ) from None


def same(client: ApiClient, exchange: Exchange, rule: str, what: str, expected: Any, received: Any) -> None:
    """Fail under `rule` when a value differs from what the contract implies."""
    if expected != received:
        raise _refused(
            client,
            exchange,
            rule,
            expected=f"{what} = {expected}",
            received=f"{what} = {received}",
        )


def _where(client: ApiClient, exchange: Exchange) -> str:
    return f"{exchange.method} {exchange.url.split('?')[0].removeprefix(client.base)}"


def _excerpt(client: ApiClient, value: Any, limit: int = 300) -> str:
    return client.redactor(repr(value) if not isinstance(value, str) else value)[:limit]


def _refused(client: ApiClient, exchange: Exchange, rule: str, *, expected: str, received: str) -> RuleViolation:
    """The violation of rule by this exchange, with its operation and its curl reproduction."""
    return violation(
        rule,
        expected=expected,
        received=received,
        operation=_where(client, exchange),
        reproduction=exchange.reproduction(client.redactor),
    )


def envelope(client: ApiClient, exchange: Exchange, body: Any, key: str, rule: str) -> dict[str, Any]:
    """The object a response body carries under `key`, with a non-empty string `id`; else a violation of `rule`."""
    obj = body.get(key) if isinstance(body, dict) else None
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
        raise _refused(
            client,
            exchange,
            rule,
            expected=f"a JSON object with key {key!r} holding the {key}, with a string id",
            received=_excerpt(client, body),
        )
    return obj


def listing(client: ApiClient, exchange: Exchange, body: Any, key: str, rule: str) -> list[dict[str, Any]]:
    """The objects a list response carries under `key`, each an object with a string id; else a violation of `rule`."""
    page = body.get(key) if isinstance(body, dict) else None
    if not isinstance(page, list) or not all(isinstance(o, dict) and isinstance(o.get("id"), str) for o in page):
        raise _refused(
            client,
            exchange,
            rule,
            expected=f"a JSON object with key {key!r} holding a list of objects with string ids",
            received=_excerpt(client, body),
        )
    return page


def text(client: ApiClient, exchange: Exchange, obj: Mapping[str, Any], field: str, rule: str) -> str:
    """A field of a response object that the contract makes a string; a violation of `rule` when it is not one."""
    value = obj.get(field)
    if not isinstance(value, str):
        raise _refused(
            client,
            exchange,
            rule,
            expected=f"{field} a string",
            received=f"{field} = {_excerpt(client, value, 100)}",
        )
    return value


def instant(client: ApiClient, exchange: Exchange, obj: Mapping[str, Any], field: str, rule: str) -> int:
    """A timestamp field of a response object as exact nanoseconds; a violation of `rule` unless it is a zoned ISO 8601 one."""
    stamp = text(client, exchange, obj, field, rule)
    try:
        return instant_ns(stamp)
    except ValueError:
        raise _refused(
            client,
            exchange,
            rule,
            expected=f"{field} an ISO 8601 zoned timestamp",
            received=f"{field} = {stamp!r}"[:200],
        ) from None


def fetch(client: ApiClient, kind: str, object_id: str, rule: str) -> tuple[Exchange, dict[str, Any]]:
    """Fetch one object, failing under `rule` unless it answers 200 with that object."""
    exchange = client.request("GET", kinds.get(kind).item(object_id))
    body = status_is(client, exchange, (200,), rule, f"the {kind} {object_id} exists")
    return exchange, envelope(client, exchange, body, kind, rule)


def create(client: ApiClient, kind: str, body: Mapping[str, Any], rule: str = "WRITE-001") -> dict[str, Any]:
    """Create one object, failing under `rule` unless it answers 200 with the object; return the created object."""
    exchange = client.request("POST", kinds.get(kind).path, body=dict(body))
    return envelope(
        client, exchange, status_is(client, exchange, (200,), rule, f"a valid {kind} is created"), kind, rule
    )


def _entries(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a response list; anything else in it (or a list that is not one) becomes an entry without amounts."""
    if not isinstance(value, list):
        return [] if value is None else [{"id": f"<not a list: {value!r:.60}>"}]
    return [e if isinstance(e, dict) else {"id": f"<not an object: {e!r:.60}>"} for e in value]


def _summed(entries: Iterable[Mapping[str, Any]], field: str) -> dict[str, Decimal | None]:
    """{id: sum of `field`} over entries; None for an id with any amount that is not a number."""
    found: dict[str, Decimal | None] = {}
    for entry in entries:
        ident = entry.get("id")
        key = ident if isinstance(ident, str) else repr(ident)
        value = amount(entry.get(field))
        previous = found.get(key, Decimal(0))
        found[key] = None if value is None or previous is None else previous + value
    return found


def payments_of(invoice: Mapping[str, Any]) -> dict[str, Decimal | None]:
    """An invoice's credit-memo payments as {memo id: amount}, summed per memo (other payment types left out)."""
    return _summed(
        (p for p in _entries(invoice.get("linked_payments")) if p.get("type") == "INVOICE_CREDIT_MEMO"), "amount"
    )


def links_of(memo: Mapping[str, Any], kind: str) -> dict[str, Decimal | None]:
    """A memo's links as {target id: allocated amount}, summed per target."""
    return _summed(_entries(memo.get(kinds.application(kind).links)), "allocated_amount")


def memo_matches(client: ApiClient, model: Memo, rule: str) -> tuple[Exchange, dict[str, Any]]:
    """Fetch a memo and compare total, remaining, status and links with the model; the fetch, for further checks."""
    exchange, memo = fetch(client, model.kind, model.id, rule)
    same(client, exchange, rule, f"{model.kind} {model.id} total_amount", model.total, amount(memo.get("total_amount")))
    same(
        client,
        exchange,
        rule,
        f"{model.kind} {model.id} remaining_amount",
        model.remaining,
        amount(memo.get("remaining_amount")),
    )
    same(client, exchange, rule, f"{model.kind} {model.id} status", model.status, memo.get("status"))
    same(
        client,
        exchange,
        rule,
        f"{model.kind} {model.id} links",
        dict(sorted(model.links.items())),
        dict(sorted(links_of(memo, model.kind).items())),
    )
    return exchange, memo


def invoice_matches(client: ApiClient, model: Target, rule: str) -> tuple[Exchange, dict[str, Any]]:
    """Fetch an invoice and compare amount_due, status and the credit-memo payments with the model; the fetch."""
    exchange, invoice = fetch(client, "invoice", model.id, rule)
    same(client, exchange, rule, f"invoice {model.id} amount_due", model.due, amount(invoice.get("amount_due")))
    same(client, exchange, rule, f"invoice {model.id} status", model.status, invoice.get("status"))
    same(
        client,
        exchange,
        rule,
        f"invoice {model.id} credit memo payments",
        dict(sorted(model.payments.items())),
        dict(sorted(payments_of(invoice).items())),
    )
    return exchange, invoice
