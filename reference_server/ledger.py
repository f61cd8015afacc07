"""Pure amount rules: balances, statuses, credit-application validation, update and delete rules.

No I/O; amounts are `Decimal`. A broken rule is reported as a named `Violation`, returned by the
`check_*` functions and raised inside `RuleViolation` by the others. Line totals and link lists
are in `totals`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from accounting_conformance.reference_server import money
from accounting_conformance.reference_server.faults import NO_FAULTS, Fault, Faults

OVER_APPLICATION = "OVER_APPLICATION"
OVER_PAYMENT = "OVER_PAYMENT"
NON_POSITIVE_AMOUNT = "NON_POSITIVE_AMOUNT"
CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
CUSTOMER_MISMATCH = "CUSTOMER_MISMATCH"
VENDOR_MISMATCH = "VENDOR_MISMATCH"
DUPLICATE_TARGET = "DUPLICATE_TARGET"
TOTAL_BELOW_ALLOCATED = "TOTAL_BELOW_ALLOCATED"
CURRENCY_CHANGE_WITH_APPLICATIONS = "CURRENCY_CHANGE_WITH_APPLICATIONS"
EMPTY_APPLICATION = "EMPTY_APPLICATION"
EMPTY_LINE_ITEMS = "EMPTY_LINE_ITEMS"
UNKNOWN_TARGET = "UNKNOWN_TARGET"
HAS_APPLICATIONS = "HAS_APPLICATIONS"
NOT_APPLIED = "NOT_APPLIED"

Side = Literal["customer", "vendor"]
ZERO = Decimal(0)


@dataclass(frozen=True)
class Violation:
    """A named amount rule that a request would break."""

    code: str
    message: str


class RuleViolation(ValueError):
    """Raised by the non-`check_*` functions; carries the `Violation`."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.message)
        self.violation = violation
        self.code = violation.code


@dataclass(frozen=True)
class Balance:
    """An open balance: a memo's remaining amount, or an invoice's / bill's amount due."""

    id: str
    party_id: str | None
    currency_code: str | None
    open_amount: Decimal


@dataclass(frozen=True)
class Allocation:
    """One share of an application: `amount` of the memo applied to `target_id`."""

    target_id: str
    amount: Decimal


def total_of(amounts: Iterable[Decimal]) -> Decimal:
    """Exact sum of amounts (0 for none)."""
    return sum(amounts, ZERO)


def amount_due(total: Decimal, payments: Iterable[Decimal]) -> Decimal:
    """An invoice's amount due: total - sum of linked payment amounts."""
    return total - total_of(payments)


def _status(total: Decimal, open_amount: Decimal, labels: tuple[str, str, str], faults: Faults) -> str:
    """Nothing applied -> labels[0]; nothing left -> labels[2]; otherwise labels[1]."""
    if open_amount == total:
        return labels[0]
    if Fault.EXACTLY_USED_UP_STAYS_PARTIAL in faults:
        return labels[2] if open_amount < 0 else labels[1]
    return labels[2] if open_amount == 0 else labels[1]


def invoice_credit_memo_status(total: Decimal, remaining: Decimal, *, faults: Faults = NO_FAULTS) -> str:
    """OPEN, PARTIALLY_APPLIED or APPLIED, from the memo's amounts."""
    if Fault.ICM_STATUS_LOWERCASE in faults:
        return _status(total, remaining, ("open", "partially_applied", "applied"), faults)
    return _status(total, remaining, ("OPEN", "PARTIALLY_APPLIED", "APPLIED"), faults)


def bill_credit_memo_status(total: Decimal, remaining: Decimal, *, faults: Faults = NO_FAULTS) -> str:
    """open, partially_paid or paid, from the bill credit memo's amounts."""
    return _status(total, remaining, ("open", "partially_paid", "paid"), faults)


def invoice_status(total: Decimal, due: Decimal, *, faults: Faults = NO_FAULTS) -> str:
    """open, partially_paid or paid, from the invoice's total and amount due."""
    return _status(total, due, ("open", "partially_paid", "paid"), faults)


def _mismatch(side: Side) -> str:
    """The counterparty mismatch code for a side."""
    return CUSTOMER_MISMATCH if side == "customer" else VENDOR_MISMATCH


def _differ(a: str | None, b: str | None) -> bool:
    """True when both values are known and differ."""
    return a is not None and b is not None and a != b


def check_application(
    memo: Balance,
    allocations: Sequence[Allocation],
    targets: Mapping[str, Balance],
    side: Side,
    *,
    currency_code: str | None = None,
    party_id: str | None = None,
    faults: Faults = NO_FAULTS,
) -> Violation | None:
    """The first rule the application plan breaks against current balances, or None.

    Order: empty plan; request currency / counterparty vs the memo's; then per share, in request
    order: positivity, duplicate, unknown target, currency, counterparty, OVER_PAYMENT;
    finally the sum against the memo's remaining amount (OVER_APPLICATION).
    """
    word = "invoice" if side == "customer" else "bill"
    if not allocations:
        return Violation(EMPTY_APPLICATION, f"an application must allocate to at least one {word}")
    if _differ(currency_code, memo.currency_code):
        return Violation(CURRENCY_MISMATCH, f"currency_code {currency_code} is not the memo's {memo.currency_code}")
    if _differ(party_id, memo.party_id):
        return Violation(_mismatch(side), f"{side}_id {party_id} is not the memo's {side} {memo.party_id}")
    seen: set[str] = set()
    for index, share in enumerate(allocations):
        where = f"linked_{word}s[{index}] ({word} {share.target_id})"
        if share.amount <= 0:
            return Violation(NON_POSITIVE_AMOUNT, f"{where}: allocated_amount must be greater than 0")
        if share.target_id in seen:
            return Violation(DUPLICATE_TARGET, f"{where}: the same {word} appears twice in one application")
        seen.add(share.target_id)
        target = targets.get(share.target_id)
        if target is None:
            return Violation(UNKNOWN_TARGET, f"{where}: no such {word}")
        if _differ(target.currency_code, memo.currency_code):
            return Violation(
                CURRENCY_MISMATCH, f"{where} is in {target.currency_code}, the memo in {memo.currency_code}"
            )
        if _differ(target.party_id, memo.party_id):
            return Violation(_mismatch(side), f"{where} belongs to another {side} than the memo")
        if share.amount > target.open_amount and Fault.OVER_PAYMENT_ACCEPTED not in faults:
            return Violation(
                OVER_PAYMENT,
                f"{where}: {money.format_amount(share.amount)} exceeds its amount due "
                f"{money.format_amount(target.open_amount)}",
            )
    requested = total_of(share.amount for share in allocations)
    if requested > memo.open_amount and Fault.OVER_APPLICATION_ACCEPTED not in faults:
        return Violation(
            OVER_APPLICATION,
            f"allocations sum to {money.format_amount(requested)}, above the memo's remaining amount "
            f"{money.format_amount(memo.open_amount)}",
        )
    return None


def check_update(
    side: Side,
    applied: Decimal,
    *,
    new_total: Decimal | None = None,
    old_currency: str | None = None,
    new_currency: str | None = None,
    old_party: str | None = None,
    new_party: str | None = None,
) -> Violation | None:
    """The rule an update breaks given what is already applied/paid (`applied`), or None."""
    if new_total is not None and new_total < applied:
        return Violation(
            TOTAL_BELOW_ALLOCATED,
            f"the new total {money.format_amount(new_total)} is below the {money.format_amount(applied)} "
            "already applied",
        )
    if applied > 0 and _differ(old_currency, new_currency):
        return Violation(CURRENCY_CHANGE_WITH_APPLICATIONS, "currency_code cannot change once amounts are applied")
    if applied > 0 and _differ(old_party, new_party):
        return Violation(_mismatch(side), f"{side}_id cannot change once amounts are applied")
    return None


def check_deletable(applied: Decimal, *, faults: Faults = NO_FAULTS) -> Violation | None:
    """HAS_APPLICATIONS when a memo still has amounts applied, else None."""
    if applied > 0 and Fault.DELETE_WITH_APPLICATIONS not in faults:
        return Violation(HAS_APPLICATIONS, "revert the memo's applications before deleting it")
    return None
