"""The wire form of stored documents: decimal strings or JSON numbers per resource, as the contract spells them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from accounting_conformance.reference_server import money
from accounting_conformance.reference_server.faults import NO_FAULTS, Fault, Faults

# Fields that are amounts, per kind; the kinds in NUMERIC carry them as JSON numbers, the others as strings.
TOP = {
    "invoice_credit_memo": ("remaining_amount", "total_amount"),
    "bill_credit_memo": ("remaining_amount", "total_amount"),
    "invoice": ("amount_due", "sub_total", "tax_amount", "total_amount", "total_discount"),
    "customer_refund": ("total_amount", "discount_amount", "tax_amount"),
}
LINE = ("amount", "discount_amount", "discount_percentage", "sub_total", "tax_amount", "unit_amount", "total_amount")
LINK = {"invoice_credit_memo": ("linked_invoices", "allocated_amount"), "bill_credit_memo": ("linked_bills", "allocated_amount"),
        "invoice": ("linked_payments", "amount")}
NUMERIC = ("bill_credit_memo", "customer_refund")


def _amount(value: Any, numeric: bool, faults: Faults) -> Any:
    if value is None:
        return None
    amount = Decimal(str(value))  # stored by us, already validated: no request limits apply here
    if Fault.QUANTISE_2DP in faults:
        amount = amount.quantize(Decimal("0.01"))  # "money has two decimals"
    return amount if numeric else money.format_amount(amount)


def _number(value: Any) -> Any:
    return None if value is None else Decimal(str(value))


def render(kind: str, doc: Mapping[str, Any], *, expand: bool = False, faults: Faults = NO_FAULTS) -> dict[str, Any]:
    """The object as the API answers it; `platform_data` only with expand=platform_data."""
    numeric = kind in NUMERIC
    if kind == "invoice_credit_memo" and Fault.ICM_AMOUNTS_AS_NUMBERS in faults:
        numeric = True
    if kind == "bill_credit_memo" and Fault.BCM_AMOUNTS_AS_STRINGS in faults:
        numeric = False
    out = dict(doc)
    if kind == "bill_credit_memo" and Fault.BCM_REMAINING_NULL in faults and not out.get("linked_bills"):
        out["remaining_amount"] = None  # only materialised by the first application
    if Fault.TIMESTAMPS_NAIVE in faults:
        for field in ("created_at", "updated_at", "last_synced_at", "issue_date", "allocated_at"):
            if isinstance(out.get(field), str) and "T" in out[field]:
                out[field] = out[field].replace("T", " ")[:19]
    if not expand:
        out.pop("platform_data", None)
    for field in TOP[kind]:
        if field in out:
            out[field] = _amount(out[field], numeric, faults)
    lines = []
    for line in out.get("line_items") or []:
        line = dict(line)
        for field in LINE:
            if field in line:
                line[field] = _amount(line[field], numeric, faults)
        if "quantity" in line:
            line["quantity"] = _number(line["quantity"])
        if isinstance(line.get("item"), Mapping):
            item = dict(line["item"])
            item["quantity"] = _number(item.get("quantity"))
            item["unit_amount"] = _number(item.get("unit_amount"))
            line["item"] = item
        lines.append(line)
    out["line_items"] = lines
    if kind in LINK:
        key, amount_key = LINK[kind]
        out[key] = [{**link, amount_key: _amount(link[amount_key], numeric, faults)} for link in out.get(key) or []]
    return out

