"""The amount and status rules (MONEY-*, STATUS-*) of one API object, computed exactly with Decimal.

Amounts arrive as decimal strings or JSON numbers (int, float or Decimal); each is read via
`Decimal(str(x))` and all arithmetic runs in a context that traps any rounding. A null amount skips
the rules that need it. Rule IDs are those of conformance/rules.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, InvalidOperation
from functools import reduce
from typing import Any

from accounting_conformance.conformance import kinds

#: Amounts are bounded by _LIMIT below, so sums of them never need more than 100 digits.
_EXACT = Context(prec=100, traps=[Inexact, InvalidOperation])
_LIMIT = 30  # at most 10^30 in size and 30 decimal places: anything beyond is not a money amount
_ZERO = Decimal(0)

#: The line amount a memo's total_amount sums (x-amount-rules): invoice credit memo lines carry `amount`.
_LINE_KEYS = {"invoice_credit_memo": "amount"}


@dataclass(frozen=True)
class Violation:
    """One broken rule in one object: the rule ID, where, and what was expected and received."""

    rule: str
    path: str
    expected: str
    received: str


def to_decimal(value: Any) -> Decimal:
    """An amount (decimal string or number) as an exact Decimal; ValueError if it is not one."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError(f"{value!r} is not a decimal string or a number")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal") from None
    if not result.is_finite():
        raise ValueError(f"{value!r} is not finite")
    exponent = result.as_tuple().exponent
    if result and (result.adjusted() > _LIMIT or (isinstance(exponent, int) and exponent < -_LIMIT)):
        raise ValueError(f"{value!r} is out of the range of money amounts")
    return result


def fmt(value: Decimal) -> str:
    """An amount as plain decimal text (no exponent)."""
    return format(value, "f")


def _sum(values: Iterable[Decimal]) -> Decimal:
    return reduce(_EXACT.add, values, _ZERO)


def _terms(values: list[Decimal], column: str) -> str:
    """`sum(line_items[].amount) = 1 + 2 = 3`, the terms left out when there is one or more than four."""
    terms = " + ".join(fmt(v) for v in values)
    return f"sum({column}) = " + (f"{terms} = " if 1 < len(values) <= 4 else "") + fmt(_sum(values))


class _Rules:
    """Collects the violations of one object while reading its amounts."""

    def __init__(self) -> None:
        self.found: list[Violation] = []

    def add(self, rule: str, path: str, expected: str, received: str) -> None:
        item = Violation(rule, path, expected, received)
        if item not in self.found:  # an amount read by two rules is reported once
            self.found.append(item)

    def amount(self, obj: Mapping[str, Any], key: str, prefix: str = "") -> Decimal | None:
        value = obj.get(key)
        if value is None:
            return None
        try:
            return to_decimal(value)
        except ValueError as exc:
            self.add("MONEY-010", prefix + key, f"{key}: an exact, finite decimal amount", f"{key} = {value!r} ({exc})")
            return None

    def column(self, rows: list[tuple[str, Mapping[str, Any]]], key: str) -> list[Decimal] | None:
        """The key's amount on every row, or None when any row lacks one."""
        values = [self.amount(row, key, prefix) for prefix, row in rows]
        known = [v for v in values if v is not None]
        return known if len(known) == len(values) else None

    def line_amounts(self, lines: list[tuple[str, Mapping[str, Any]]], key: str) -> None:
        """MONEY-008: each line's key = sub_total + tax_amount when both are present."""
        for prefix, line in lines:
            amount, sub, tax = (self.amount(line, k, prefix) for k in (key, "sub_total", "tax_amount"))
            if amount is not None and sub is not None and tax is not None and amount != _EXACT.add(sub, tax):
                expected = f"{key} = {fmt(sub)} + {fmt(tax)} = {fmt(_EXACT.add(sub, tax))}"
                self.add("MONEY-008", prefix + key, expected, f"{key} = {fmt(amount)}")


def _rows(obj: Mapping[str, Any], key: str) -> list[tuple[str, Mapping[str, Any]]]:
    items = obj.get(key)
    if not isinstance(items, list):
        return []
    return [(f"{key}[{i}].", item) for i, item in enumerate(items) if isinstance(item, Mapping)]


def _status(
    rules: _Rules, rule: str, obj: Mapping[str, Any], names: tuple[str, ...], allowed: set[str], why: str
) -> None:
    """A status of `names` must be one the amounts allow; other statuses (void, unknown, ...) are exempt."""
    status = obj.get("status")
    if status in names and status not in allowed:
        wanted = " or ".join(sorted(allowed)) if allowed else "none of " + ", ".join(names)
        rules.add(rule, "status", f"status = {wanted} ({why})", f"status = {status}")


def _memo(kind: str, obj: Mapping[str, Any]) -> list[Violation]:
    rules = _Rules()
    links_key, line_key = kinds.application(kind).links, _LINE_KEYS.get(kind, "total_amount")
    total, remaining = rules.amount(obj, "total_amount"), rules.amount(obj, "remaining_amount")
    known = []
    for prefix, link in _rows(obj, links_key):
        allocated = rules.amount(link, "allocated_amount", prefix)
        if allocated is not None and allocated <= 0:
            rules.add(
                "MONEY-001", prefix + "allocated_amount", "allocated_amount > 0", f"allocated_amount = {fmt(allocated)}"
            )
        known.append(allocated)
    allocations = [a for a in known if a is not None]
    applied = _sum(allocations)
    sum_name = f"sum({links_key}[].allocated_amount)"
    if total is not None and len(allocations) == len(known):
        if applied > total:
            rules.add(
                "MONEY-002", links_key, f"{sum_name} <= total_amount = {fmt(total)}", f"{sum_name} = {fmt(applied)}"
            )
        if remaining is not None and remaining != _EXACT.subtract(total, applied):
            expected = f"remaining_amount = {fmt(total)} - {fmt(applied)} = {fmt(_EXACT.subtract(total, applied))}"
            rules.add("MONEY-003", "remaining_amount", expected, f"remaining_amount = {fmt(remaining)}")
    lines = _rows(obj, "line_items")
    line_totals = rules.column(lines, line_key)
    if lines and line_totals is not None and total is not None and total != _sum(line_totals):
        expected = f"total_amount = {_terms(line_totals, f'line_items[].{line_key}')}"
        rules.add("MONEY-004", "total_amount", expected, f"total_amount = {fmt(total)}")
    rules.line_amounts(lines, line_key)
    if total is not None and remaining is not None:
        names = kinds.statuses(kind)
        allowed = {
            names[0] if not allocations and remaining == total else "",
            names[1] if 0 < remaining < total else "",
            names[2] if remaining == 0 and total > 0 else "",
        } - {""}
        _status(
            rules, "STATUS-001", obj, names, allowed, f"remaining_amount {fmt(remaining)} of total_amount {fmt(total)}"
        )
    return rules.found


def _invoice(obj: Mapping[str, Any]) -> list[Violation]:
    rules = _Rules()
    total, due = rules.amount(obj, "total_amount"), rules.amount(obj, "amount_due")
    sub, tax, discount = (rules.amount(obj, k) for k in ("sub_total", "tax_amount", "total_discount"))
    paid = rules.column(_rows(obj, "linked_payments"), "amount")
    if due is not None and due < 0:
        rules.add("MONEY-005", "amount_due", "amount_due >= 0", f"amount_due = {fmt(due)}")
    if due is not None and total is not None and paid is not None and due != _EXACT.subtract(total, _sum(paid)):
        expected = f"amount_due = {fmt(total)} - {fmt(_sum(paid))} = {fmt(_EXACT.subtract(total, _sum(paid)))}"
        rules.add("MONEY-005", "amount_due", expected, f"amount_due = {fmt(due)}")
    if total is not None and sub is not None and tax is not None and discount is not None:
        computed = _EXACT.subtract(_EXACT.add(sub, tax), discount)
        if total != computed:
            expected = f"total_amount = {fmt(sub)} + {fmt(tax)} - {fmt(discount)} = {fmt(computed)}"
            rules.add("MONEY-006", "total_amount", expected, f"total_amount = {fmt(total)}")
    lines = _rows(obj, "line_items")
    for key, value in (("sub_total", sub), ("tax_amount", tax)):
        column = rules.column(lines, key)
        if lines and column is not None and value is not None and value != _sum(column):
            rules.add("MONEY-007", key, f"{key} = {_terms(column, f'line_items[].{key}')}", f"{key} = {fmt(value)}")
    rules.line_amounts(lines, "amount")
    if total is not None and due is not None:
        names = kinds.statuses("invoice")
        allowed = {
            names[0] if due == total else "",
            names[1] if 0 < due < total else "",
            names[2] if due == 0 else "",
        } - {""}
        _status(rules, "STATUS-002", obj, names, allowed, f"amount_due {fmt(due)} of total_amount {fmt(total)}")
    return rules.found


def _refund(obj: Mapping[str, Any]) -> list[Violation]:
    rules = _Rules()
    total = rules.amount(obj, "total_amount")
    discount, tax = rules.amount(obj, "discount_amount") or _ZERO, rules.amount(obj, "tax_amount") or _ZERO
    lines = _rows(obj, "line_items")
    line_totals = rules.column(lines, "total_amount")
    if lines and line_totals is not None and total is not None:
        computed = _EXACT.add(_EXACT.subtract(_sum(line_totals), discount), tax)
        if total != computed:
            lines_sum = _terms(line_totals, "line_items[].total_amount")
            expected = f"total_amount = {lines_sum} - {fmt(discount)} + {fmt(tax)} = {fmt(computed)}"
            rules.add("MONEY-009", "total_amount", expected, f"total_amount = {fmt(total)}")
    return rules.found


def amount_violations(kind: str, obj: Mapping[str, Any]) -> list[Violation]:
    """The MONEY-* and STATUS-* violations of one object of this kind."""
    if kind in kinds.MEMOS:
        return _memo(kind, obj)
    if kind == "invoice":
        return _invoice(obj)
    if kind == "customer_refund":
        return _refund(obj)
    raise ValueError(f"unknown kind {kind!r}")
