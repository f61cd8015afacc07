"""Document arithmetic: line-item amounts, document totals and link-list bookkeeping (pure).

Link lists (`linked_invoices`, `linked_payments`, `linked_bills`) hold their amounts in stored form,
decimal strings; one entry per counterpart document, amounts summed across applications.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accounting_conformance.reference_server import money
from accounting_conformance.reference_server.faults import NO_FAULTS, Fault, Faults
from accounting_conformance.reference_server.ledger import (
    EMPTY_LINE_ITEMS,
    NON_POSITIVE_AMOUNT,
    NOT_APPLIED,
    ZERO,
    RuleViolation,
    Violation,
    total_of,
)


@dataclass(frozen=True)
class LineAmounts:
    """The amounts of one line item, derived from the request line's `total_amount`."""

    sub_total: Decimal
    tax_amount: Decimal
    discount_amount: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Totals:
    """Document totals: total_amount = sub_total + tax_amount - total_discount."""

    sub_total: Decimal
    tax_amount: Decimal
    total_discount: Decimal
    total_amount: Decimal


def links_total(links: Iterable[Mapping[str, Any]], amount_key: str) -> Decimal:
    """Sum of the stored decimal amounts under `amount_key` in a link list."""
    return total_of(Decimal(str(link[amount_key])) for link in links)


def add_link(
    links: Sequence[Mapping[str, Any]],
    match: Mapping[str, Any],
    amount_key: str,
    amount: Decimal,
    extra: Mapping[str, Any] | None = None,
    *,
    faults: Faults = NO_FAULTS,
) -> list[dict[str, Any]]:
    """A new link list where the entry matching `match` gains `amount` (created with `extra` if absent)."""
    result = [dict(link) for link in links]
    for link in result:
        if all(link.get(key) == value for key, value in match.items()):
            if Fault.REAPPLY_OVERWRITES_LINK in faults:
                link[amount_key] = money.format_amount(amount)
                return result
            link[amount_key] = money.format_amount(Decimal(str(link[amount_key])) + amount)
            return result
    result.append({**match, amount_key: money.format_amount(amount), **(extra or {})})
    return result


def remove_link(
    links: Sequence[Mapping[str, Any]], target_id: str, amount_key: str
) -> tuple[list[dict[str, Any]], Decimal]:
    """Drop the entries for `target_id`; return the new list and the amount they held (NOT_APPLIED if none)."""
    kept = [dict(link) for link in links if link.get("id") != target_id]
    removed = links_total((link for link in links if link.get("id") == target_id), amount_key)
    if len(kept) == len(links):
        raise RuleViolation(Violation(NOT_APPLIED, f"nothing of this memo is applied to {target_id}"))
    return kept, removed


def line_amounts(lines: Sequence[Mapping[str, Any]], *, faults: Faults = NO_FAULTS) -> list[LineAmounts]:
    """Derive each line's amounts from its request `total_amount` (no tax, no discount)."""
    if not lines:
        raise RuleViolation(Violation(EMPTY_LINE_ITEMS, "line_items must contain at least one line"))
    result = []
    for index, line in enumerate(lines):
        try:
            # The contract keeps amounts exact at any precision: no rounding.
            value = money.parse_amount(line.get("total_amount") if isinstance(line, Mapping) else None, faults=faults)
        except money.MoneyError as exc:
            raise RuleViolation(Violation(exc.code, f"line_items[{index}].total_amount: {exc.message}")) from None
        if value <= 0:
            raise RuleViolation(
                Violation(NON_POSITIVE_AMOUNT, f"line_items[{index}].total_amount must be greater than 0")
            )
        result.append(LineAmounts(sub_total=value, tax_amount=ZERO, discount_amount=ZERO, amount=value))
    try:
        money.check_range(total_of(line.amount for line in result), faults=faults)
    except money.MoneyError as exc:
        raise RuleViolation(Violation(exc.code, f"line_items total: {exc.message}")) from None
    return result


def document_totals(lines: Sequence[LineAmounts], *, faults: Faults = NO_FAULTS) -> Totals:
    """Document totals from its lines: sums of sub-totals, taxes and discounts, and their total."""
    if Fault.TOTAL_SKIPS_LAST_LINE in faults and len(lines) > 1:
        lines = lines[:-1]  # range(len(lines) - 1)
    sub_total = total_of(line.sub_total for line in lines)
    tax = total_of(line.tax_amount for line in lines)
    discount = total_of(line.discount_amount for line in lines)
    return Totals(sub_total=sub_total, tax_amount=tax, total_discount=discount, total_amount=sub_total + tax - discount)
