"""The wire form of stored documents: decimal strings or JSON numbers per resource, as the contract spells them."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from accounting_conformance.reference_server import money
from accounting_conformance.reference_server.faults import NO_FAULTS, Fault, Faults
from accounting_conformance.reference_server.resources import BILL_CREDIT_MEMO, INVOICE_CREDIT_MEMO, Document

# The amounts of a line item, on every kind; a document's own amounts and their form are in the resource table.
LINE = ("amount", "discount_amount", "discount_percentage", "sub_total", "tax_amount", "unit_amount", "total_amount")


def _amount(value: Any, numeric: bool, faults: Faults) -> Any:
    if value is None:
        return None
    amount = Decimal(str(value))  # stored by us, already validated: no request limits apply here
    if Fault.QUANTISE_2DP in faults:
        amount = amount.quantize(Decimal("0.01"))  # "money has two decimals"
    return amount if numeric else money.format_amount(amount)


def _number(value: Any) -> Any:
    return None if value is None else Decimal(str(value))


def render(
    resource: Document, doc: Mapping[str, Any], *, expand: bool = False, faults: Faults = NO_FAULTS
) -> dict[str, Any]:
    """The object as the API answers it; `platform_data` only with expand=platform_data."""
    numeric = resource.numeric
    if resource is INVOICE_CREDIT_MEMO and Fault.ICM_AMOUNTS_AS_NUMBERS in faults:
        numeric = True
    if resource is BILL_CREDIT_MEMO and Fault.BCM_AMOUNTS_AS_STRINGS in faults:
        numeric = False
    out = dict(doc)
    if (
        resource is BILL_CREDIT_MEMO
        and Fault.BCM_REMAINING_NULL in faults
        and not out.get(BILL_CREDIT_MEMO.settled().links)
    ):
        out["remaining_amount"] = None  # only materialised by the first application
    if Fault.TIMESTAMPS_NAIVE in faults:
        for field in ("created_at", "updated_at", "last_synced_at", "issue_date", "allocated_at"):
            if isinstance(out.get(field), str) and "T" in out[field]:
                out[field] = out[field].replace("T", " ")[:19]
    if not expand:
        out.pop("platform_data", None)
    for field in resource.amounts:
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
    if resource.balance is not None:
        key, amount_key = resource.balance.links, resource.balance.amount
        out[key] = [{**link, amount_key: _amount(link[amount_key], numeric, faults)} for link in out.get(key) or []]
    return out
