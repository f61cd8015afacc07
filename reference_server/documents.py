"""Build and change the stored form of each document from request attributes (amounts as exact decimals)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from accounting_conformance.reference_server import ledger, money, timestamps, totals
from accounting_conformance.reference_server.faults import NO_FAULTS, Fault, Faults
from accounting_conformance.reference_server.resources import (
    BILL_CREDIT_MEMO,
    CUSTOMER_REFUND,
    INVOICE,
    INVOICE_CREDIT_MEMO,
    Document,
)

ZERO = Decimal(0)


def dec(value: Any, *, faults: Faults = NO_FAULTS) -> Decimal:
    """A stored or requested amount as an exact Decimal."""
    return money.parse_amount(value, faults=faults)


def stamp(ms: int) -> str:
    """An epoch-millisecond instant as the API writes timestamps."""
    return timestamps.format_ms(ms)


def normalise_instant(value: str | None, *, faults: Faults = NO_FAULTS) -> str | None:
    """A requested ISO 8601 timestamp in the API's own form (UTC, milliseconds); dates stay dates."""
    if value is None:
        return None
    if len(value) == 10:
        return value
    return timestamps.format_ms(timestamps.parse_ms(value, faults=faults))


def _item(line: Mapping[str, Any]) -> Mapping[str, Any] | None:
    item = line.get("item")
    return item if isinstance(item, Mapping) else None


def build_lines(
    resource: Document, lines: list[Mapping[str, Any]], *, faults: Faults = NO_FAULTS
) -> tuple[list[dict[str, Any]], totals.Totals]:
    """Stored line items and document totals from request lines."""
    amounts = totals.line_amounts(lines, faults=faults)
    built: list[dict[str, Any]] = []
    for line, amount in zip(lines, amounts, strict=False):
        item = _item(line)
        quantity = None if item is None or item.get("quantity") is None else dec(item["quantity"], faults=faults)
        unit = None if item is None or item.get("unit_amount") is None else dec(item["unit_amount"], faults=faults)
        common = {
            "account_id": line.get("account_id"),
            "description": line.get("description"),
            "tax_rate_id": line.get("tax_rate_id"),
            "discount_amount": amount.discount_amount,
            "sub_total": amount.sub_total,
            "tax_amount": amount.tax_amount,
        }
        if resource is INVOICE_CREDIT_MEMO or resource is INVOICE:
            row = {
                "id": str(uuid.uuid4()),
                "platform_id": str(uuid.uuid4().int % 10**8),
                **common,
                "item_id": item.get("id") if item else None,
                "quantity": quantity,
                "amount": amount.amount,
                "discount_percentage": ZERO,
                "unit_amount": unit,
            }
            if resource is INVOICE_CREDIT_MEMO:
                row["class_id"] = None
        elif resource is BILL_CREDIT_MEMO:
            row = {
                **common,
                "class_id": None,
                "customer_id": None,
                "department_id": None,
                "location_id": None,
                "project_id": None,
                "discount_percentage": ZERO,
                "total_amount": amount.amount,
                "item": None if item is None else {"id": item["id"], "quantity": quantity, "unit_amount": unit},
            }
        else:
            row = {
                "account_id": line.get("account_id"),
                "class_id": line.get("class_id"),
                "tax_rate_id": line.get("tax_rate_id"),
                "total_amount": amount.amount,
                "description": line.get("description"),
                "item": None if item is None else {"id": item["id"], "quantity": quantity, "unit_amount": unit},
            }
        built.append(row)
    return built, totals.document_totals(amounts, faults=faults)


def _platform_url(resource: Document, platform_number: int) -> str:
    """Where the document lives on its (fictional) source platform."""
    return f"https://platform.invalid/{resource.platform_path}/{platform_number}"


def new_document(
    resource: Document,
    attrs: Mapping[str, Any],
    *,
    platform_number: int,
    now_ms: int,
    default_account: str | None,
    faults: Faults = NO_FAULTS,
) -> dict[str, Any]:
    """A new document of the `resource` kind from create attributes."""
    currency = attrs.get("currency_code") or "USD"
    if Fault.CURRENCY_LOWERCASE in faults:
        currency = currency.lower()
    lines, sums = build_lines(resource, list(attrs["line_items"]), faults=faults)
    now = stamp(now_ms)
    doc: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "platform_id": str(platform_number),
        "created_at": now,
        "updated_at": now,
        "last_synced_at": now,
        "platform_data": {"id": platform_number, "data": {"source": "reference server"}},
        "line_items": lines,
    }
    if resource is CUSTOMER_REFUND:
        doc.update({k: attrs.get(k) for k in ("account_id", "class_id", "customer_id", "department_id", "tax_rate_id")})
        total = lines[0]["total_amount"] if Fault.REFUND_TOTAL_FIRST_LINE in faults else sums.total_amount
        doc.update(
            transaction_date=normalise_instant(attrs.get("transaction_date"), faults=faults),
            total_amount=total,
            discount_amount=None,
            tax_amount=None,
            document_number=attrs.get("document_number"),
            platform_url=_platform_url(resource, platform_number),
        )
        return doc
    doc.update(
        account_id=attrs.get("account_id", default_account),
        currency_code=currency,
        memo=attrs.get("memo"),
        issue_date=normalise_instant(attrs.get("issue_date"), faults=faults) or now,
        total_amount=sums.total_amount,
    )
    doc[resource.party] = attrs[resource.party]
    balance = resource.settled()
    doc[balance.links] = []
    doc[balance.open_field] = sums.total_amount
    doc["status"] = balance.status(sums.total_amount, sums.total_amount, faults=faults)
    if resource is INVOICE:
        doc.update(
            subsidiary_id=None,
            due_date=normalise_instant(attrs.get("due_date"), faults=faults),
            document_number=attrs.get("document_number"),
            sub_total=sums.sub_total,
            tax_amount=sums.tax_amount,
            total_discount=sums.total_discount,
        )
        if Fault.INVOICE_DUE_DATE_OMITTED in faults and doc["due_date"] is None:
            del doc["due_date"]
    elif resource is INVOICE_CREDIT_MEMO:
        doc.update(
            allocated_at=None,
            document_number=attrs.get("document_number"),
            platform_url=_platform_url(resource, platform_number),
        )
    else:
        doc.update(
            document_number=attrs.get("document_number") or f"VENDCRED-{platform_number}",
            platform_url=_platform_url(resource, platform_number),
        )
    return doc


def applied(resource: Document, doc: Mapping[str, Any]) -> Decimal:
    """What has been applied to (memo) or paid on (invoice) a document."""
    balance = resource.settled()
    return totals.links_total(doc.get(balance.links) or [], balance.amount)


def refresh(resource: Document, doc: dict[str, Any], *, faults: Faults = NO_FAULTS) -> None:
    """Recompute the open amount and status from the total and the links."""
    balance = resource.settled()
    total = dec(doc["total_amount"], faults=faults)
    open_amount = total - applied(resource, doc)
    if Fault.FLOAT_REMAINING in faults:
        open_amount = Decimal(repr(float(total) - float(applied(resource, doc))))
    status_from = dec(doc[balance.open_field], faults=faults) if Fault.STATUS_STALE in faults else open_amount
    doc[balance.open_field] = open_amount
    doc["status"] = balance.status(total, status_from, faults=faults)


def update_document(
    resource: Document, doc: dict[str, Any], attrs: Mapping[str, Any], *, now_ms: int, faults: Faults = NO_FAULTS
) -> dict[str, Any]:
    """Apply PATCH attributes: fields sent replace, fields left out persist; 400 when a rule would break."""
    updated = dict(doc)
    if Fault.UPDATE_DROPS_UNSENT_FIELDS in faults:
        updated.update({field: None for field in ("memo", "document_number", "account_id") if field not in attrs})
    new_total = None
    if "line_items" in attrs:
        lines, sums = build_lines(resource, list(attrs["line_items"]), faults=faults)
        updated["line_items"] = lines
        updated["total_amount"] = new_total = sums.total_amount
        if resource is INVOICE:
            updated.update(sub_total=sums.sub_total, tax_amount=sums.tax_amount, total_discount=sums.total_discount)
    party = resource.party
    violation = ledger.check_update(
        resource.side,
        applied(resource, doc),
        new_total=new_total,
        old_currency=doc.get("currency_code"),
        new_currency=attrs.get("currency_code", doc.get("currency_code")),
        old_party=doc.get(party),
        new_party=attrs.get(party, doc.get(party)),
    )
    if violation is not None and not (
        Fault.UPDATE_TOTAL_BELOW_ALLOCATED in faults and violation.code == ledger.TOTAL_BELOW_ALLOCATED
    ):
        raise ledger.RuleViolation(violation)
    for field, value in attrs.items():
        if field == "line_items":
            continue
        if (field == "issue_date" and Fault.UPDATE_IGNORES_ISSUE_DATE in faults) or (
            resource is INVOICE and field == "account_id" and Fault.INVOICE_UPDATE_IGNORES_ACCOUNT in faults
        ):
            continue
        updated[field] = normalise_instant(value, faults=faults) if field in ("issue_date", "due_date") else value
    refresh(resource, updated, faults=faults)
    if new_total is not None and Fault.UPDATE_REMAINING_RESET in faults:
        balance = resource.settled()
        updated[balance.open_field] = new_total  # "recomputed" from the new total alone
        updated["status"] = balance.status(new_total, new_total, faults=faults)
    if Fault.UPDATED_AT_WHOLE_SECONDS in faults:
        now_ms -= now_ms % 1000
    updated["updated_at"] = updated["last_synced_at"] = stamp(now_ms)
    if Fault.UPDATED_AT_NOT_MOVED in faults or (
        resource is BILL_CREDIT_MEMO and Fault.BCM_UPDATE_KEEPS_UPDATED_AT in faults
    ):
        updated["updated_at"] = doc["updated_at"]
    return updated
