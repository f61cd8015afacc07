"""Build and change the stored form of each document from request attributes (amounts as exact decimals)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, Mapping

from reference_server import faults, ledger, money, timestamps, totals

ZERO = Decimal(0)
STATUS = {
    "invoice_credit_memo": ledger.invoice_credit_memo_status,
    "bill_credit_memo": ledger.bill_credit_memo_status,
    "invoice": ledger.invoice_status,
}
LINKS = {"invoice_credit_memo": ("linked_invoices", "allocated_amount"),
         "bill_credit_memo": ("linked_bills", "allocated_amount"),
         "invoice": ("linked_payments", "amount")}
OPEN_FIELD = {"invoice_credit_memo": "remaining_amount", "bill_credit_memo": "remaining_amount", "invoice": "amount_due"}
PARTY = {"invoice_credit_memo": "customer_id", "bill_credit_memo": "vendor_id", "invoice": "customer_id",
         "customer_refund": "customer_id"}


def dec(value: Any) -> Decimal:
    """A stored or requested amount as an exact Decimal."""
    return money.parse_amount(value)


def stamp(ms: int) -> str:
    """An epoch-millisecond instant as the API writes timestamps."""
    return timestamps.format_ms(ms)


def normalise_instant(value: str | None) -> str | None:
    """A requested ISO 8601 timestamp in the API's own form (UTC, milliseconds); dates stay dates."""
    if value is None:
        return None
    if len(value) == 10:
        return value
    return timestamps.format_ms(timestamps.parse_ms(value))


def _item(line: Mapping[str, Any]) -> Mapping[str, Any] | None:
    item = line.get("item")
    return item if isinstance(item, Mapping) else None


def build_lines(kind: str, lines: list[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], totals.Totals]:
    """Stored line items and document totals from request lines."""
    amounts = totals.line_amounts(lines)
    built: list[dict[str, Any]] = []
    for line, amount in zip(lines, amounts):
        item = _item(line)
        quantity = None if item is None or item.get("quantity") is None else dec(item["quantity"])
        unit = None if item is None or item.get("unit_amount") is None else dec(item["unit_amount"])
        common = {"account_id": line.get("account_id"), "description": line.get("description"),
                  "tax_rate_id": line.get("tax_rate_id"), "discount_amount": amount.discount_amount,
                  "sub_total": amount.sub_total, "tax_amount": amount.tax_amount}
        if kind in ("invoice_credit_memo", "invoice"):
            row = {"id": str(uuid.uuid4()), "platform_id": str(uuid.uuid4().int % 10**8), **common,
                   "item_id": item.get("id") if item else None, "quantity": quantity, "amount": amount.amount,
                   "discount_percentage": ZERO, "unit_amount": unit}
            if kind == "invoice_credit_memo":
                row["class_id"] = None
        elif kind == "bill_credit_memo":
            row = {**common, "class_id": None, "customer_id": None, "department_id": None, "location_id": None,
                   "project_id": None, "discount_percentage": ZERO, "total_amount": amount.amount,
                   "item": None if item is None else {"id": item["id"], "quantity": quantity, "unit_amount": unit}}
        else:
            row = {"account_id": line.get("account_id"), "class_id": line.get("class_id"),
                   "tax_rate_id": line.get("tax_rate_id"), "total_amount": amount.amount,
                   "description": line.get("description"),
                   "item": None if item is None else {"id": item["id"], "quantity": quantity, "unit_amount": unit}}
        built.append(row)
    return built, totals.document_totals(amounts)


def new_document(kind: str, attrs: Mapping[str, Any], *, platform_number: int, now_ms: int,
                 default_account: str | None) -> dict[str, Any]:
    """A new document of `kind` from create attributes."""
    currency = attrs.get("currency_code") or "USD"
    if faults.active("currency-lowercase"):
        currency = currency.lower()
    lines, sums = build_lines(kind, list(attrs["line_items"]))
    now = stamp(now_ms)
    doc: dict[str, Any] = {
        "id": str(uuid.uuid4()), "platform_id": str(platform_number),
        "created_at": now, "updated_at": now, "last_synced_at": now,
        "platform_data": {"id": platform_number, "data": {"source": "reference server"}},
        "line_items": lines,
    }
    if kind == "customer_refund":
        doc.update({k: attrs.get(k) for k in ("account_id", "class_id", "customer_id", "department_id", "tax_rate_id")})
        total = lines[0]["total_amount"] if faults.active("refund-total-first-line") else sums.total_amount
        doc.update(transaction_date=normalise_instant(attrs.get("transaction_date")), total_amount=total,
                   discount_amount=None, tax_amount=None, document_number=attrs.get("document_number"),
                   platform_url=f"https://platform.invalid/customer_refunds/{platform_number}")
        return doc
    doc.update(account_id=attrs.get("account_id", default_account), currency_code=currency, memo=attrs.get("memo"),
               issue_date=normalise_instant(attrs.get("issue_date")) or now, total_amount=sums.total_amount)
    doc[PARTY[kind]] = attrs[PARTY[kind]]
    key, _ = LINKS[kind]
    doc[key] = []
    doc[OPEN_FIELD[kind]] = sums.total_amount
    doc["status"] = STATUS[kind](sums.total_amount, sums.total_amount)
    if kind == "invoice":
        doc.update(subsidiary_id=None, due_date=normalise_instant(attrs.get("due_date")),
                   document_number=attrs.get("document_number"), sub_total=sums.sub_total,
                   tax_amount=sums.tax_amount, total_discount=sums.total_discount)
        if faults.active("invoice-due-date-omitted") and doc["due_date"] is None:
            del doc["due_date"]
    elif kind == "invoice_credit_memo":
        doc.update(allocated_at=None, document_number=attrs.get("document_number"),
                   platform_url=f"https://platform.invalid/credit_memos/{platform_number}")
    else:
        doc.update(document_number=attrs.get("document_number") or f"VENDCRED-{platform_number}",
                   platform_url=f"https://platform.invalid/vendor_credits/{platform_number}")
    return doc


def applied(kind: str, doc: Mapping[str, Any]) -> Decimal:
    """What has been applied to (memo) or paid on (invoice) a document."""
    key, amount_key = LINKS[kind]
    return totals.links_total(doc.get(key) or [], amount_key)


def refresh(kind: str, doc: dict[str, Any]) -> None:
    """Recompute the open amount and status from the total and the links."""
    total = dec(doc["total_amount"])
    open_amount = total - applied(kind, doc)
    if faults.active("float-remaining"):
        open_amount = Decimal(repr(float(total) - float(applied(kind, doc))))
    status_from = dec(doc[OPEN_FIELD[kind]]) if faults.active("status-stale") else open_amount
    doc[OPEN_FIELD[kind]] = open_amount
    doc["status"] = STATUS[kind](total, status_from)


def update_document(kind: str, doc: dict[str, Any], attrs: Mapping[str, Any], *, now_ms: int) -> dict[str, Any]:
    """Apply PATCH attributes: fields sent replace, fields left out persist; 400 when a rule would break."""
    updated = dict(doc)
    if faults.active("update-drops-unsent-fields"):
        updated.update({field: None for field in ("memo", "document_number", "account_id") if field not in attrs})
    new_total = None
    if "line_items" in attrs:
        lines, sums = build_lines(kind, list(attrs["line_items"]))
        updated["line_items"] = lines
        updated["total_amount"] = new_total = sums.total_amount
        if kind == "invoice":
            updated.update(sub_total=sums.sub_total, tax_amount=sums.tax_amount, total_discount=sums.total_discount)
    violation = ledger.check_update(
        "vendor" if kind == "bill_credit_memo" else "customer", applied(kind, doc), new_total=new_total,
        old_currency=doc.get("currency_code"), new_currency=attrs.get("currency_code", doc.get("currency_code")),
        old_party=doc.get(PARTY[kind]), new_party=attrs.get(PARTY[kind], doc.get(PARTY[kind])),
    )
    if violation is not None and not (faults.active("update-total-below-allocated")
                                      and violation.code == ledger.TOTAL_BELOW_ALLOCATED):
        raise ledger.RuleViolation(violation)
    for field, value in attrs.items():
        if field == "line_items":
            continue
        if (field == "issue_date" and faults.active("update-ignores-issue-date")) or (
                kind == "invoice" and field == "account_id" and faults.active("invoice-update-ignores-account")):
            continue
        updated[field] = normalise_instant(value) if field in ("issue_date", "due_date") else value
    refresh(kind, updated)
    if new_total is not None and faults.active("update-remaining-reset"):
        updated[OPEN_FIELD[kind]] = new_total  # "recomputed" from the new total alone
        updated["status"] = STATUS[kind](new_total, new_total)
    if faults.active("updated-at-whole-seconds"):
        now_ms -= now_ms % 1000
    updated["updated_at"] = updated["last_synced_at"] = stamp(now_ms)
    if faults.active("updated-at-not-moved") or (kind == "bill_credit_memo" and faults.active("bcm-update-keeps-updated-at")):
        updated["updated_at"] = doc["updated_at"]
    return updated
