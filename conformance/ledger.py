"""The suite's model ledger: predicts every amount, status and link from the calls made so far.

It is written from the contract's rules alone and shares no code with the reference server, so that a
bug in one cannot hide itself in the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from accounting_conformance.conformance import kinds

ZERO = Decimal(0)


@dataclass
class Memo:
    """A credit memo as the model knows it."""

    kind: str  # a memo kind of conformance/kinds.py
    id: str
    total: Decimal
    currency: str
    party: str  # customer_id or vendor_id
    links: dict[str, Decimal] = field(default_factory=dict)  # invoice or bill id -> allocated

    @property
    def allocated(self) -> Decimal:
        """Sum of what has been applied."""
        return sum(self.links.values(), ZERO)

    @property
    def remaining(self) -> Decimal:
        """What can still be applied."""
        return self.total - self.allocated

    @property
    def status(self) -> str:
        """The status the contract says the amounts imply."""
        none, part, full = kinds.statuses(self.kind)
        if self.remaining == 0:
            return full
        return none if self.allocated == 0 else part


@dataclass
class Target:
    """An invoice or a bill that credit is applied to."""

    id: str
    total: Decimal
    currency: str
    party: str
    due_at_start: Decimal
    payments: dict[str, Decimal] = field(default_factory=dict)  # memo id -> amount

    @property
    def due(self) -> Decimal:
        """The amount still due."""
        return self.due_at_start - sum(self.payments.values(), ZERO)

    @property
    def status(self) -> str:
        """An invoice's status as its amounts imply."""
        none, part, full = kinds.statuses("invoice")
        if self.due == 0:
            return full
        return none if self.due == self.total else part


@dataclass(frozen=True)
class Prediction:
    """Whether the server must accept a request, and if not, why."""

    accepted: bool
    reason: str = ""


class Ledger:
    """Everything this run created or touched, and what it must look like now."""

    def __init__(self) -> None:
        self.memos: dict[str, Memo] = {}
        self.targets: dict[str, Target] = {}

    def add_memo(self, memo: Memo) -> None:
        """Record a created memo."""
        self.memos[memo.id] = memo

    def add_target(self, target: Target) -> None:
        """Record a created invoice or a known bill."""
        self.targets[target.id] = target

    def predict_application(
        self, memo_id: str, plan: list[tuple[str, Decimal]], currency: str | None = None
    ) -> Prediction:
        """What the contract says an application of `plan` from `memo_id` must do."""
        memo = self.memos[memo_id]
        ids = [target_id for target_id, _ in plan]
        if len(set(ids)) != len(ids):
            return Prediction(False, "the same target twice")
        if any(amount <= 0 for _, amount in plan):
            return Prediction(False, "a zero or negative amount")
        if currency is not None and currency != memo.currency:
            return Prediction(False, "currency_code is not the memo's")
        for target_id, amount in plan:
            target = self.targets[target_id]
            if target.currency != memo.currency:
                return Prediction(False, "a target in another currency")
            if target.party != memo.party:
                return Prediction(False, "a target of another customer or vendor")
            if amount > target.due:
                return Prediction(False, f"more than {target_id}'s amount due {target.due}")
        if sum((amount for _, amount in plan), ZERO) > memo.remaining:
            return Prediction(False, f"more than the memo's remaining {memo.remaining}")
        return Prediction(True)

    def apply(self, memo_id: str, plan: list[tuple[str, Decimal]]) -> None:
        """Record an accepted application: money moves on both sides."""
        memo = self.memos[memo_id]
        for target_id, amount in plan:
            memo.links[target_id] = memo.links.get(target_id, ZERO) + amount
            target = self.targets[target_id]
            target.payments[memo_id] = target.payments.get(memo_id, ZERO) + amount

    def predict_revert(self, memo_id: str, target_id: str) -> Prediction:
        """A revert is accepted only when the memo has something applied to that bill."""
        if target_id not in self.memos[memo_id].links:
            return Prediction(False, "nothing of this memo is applied to that bill")
        return Prediction(True)

    def revert(self, memo_id: str, target_id: str) -> None:
        """Record an accepted revert: the link goes and both sides get their money back."""
        self.memos[memo_id].links.pop(target_id)
        self.targets[target_id].payments.pop(memo_id, None)

    def predict_total_change(self, memo_id: str, new_total: Decimal) -> Prediction:
        """A memo's new total may not fall below what is already applied."""
        if new_total < self.memos[memo_id].allocated:
            return Prediction(False, "the new total is below the amount applied")
        return Prediction(True)

    def predict_delete(self, memo_id: str) -> Prediction:
        """A memo with applications cannot be deleted."""
        if self.memos[memo_id].links:
            return Prediction(False, "the memo has applications")
        return Prediction(True)

    def delete(self, memo_id: str) -> None:
        """Record a deleted memo."""
        del self.memos[memo_id]
