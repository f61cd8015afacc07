"""Each memo kind driven through every state the contract names, both sides of every write re-read and compared.

An invoice credit memo goes open -> partly applied (one target, paying one invoice off) -> partly applied
(several targets, equal shares) -> used up exactly (unequal shares); a bill credit memo goes open -> partly
applied -> used up exactly -> back by revert to partly applied and to open. Deletes are tried in every state:
refused while anything is applied, accepted once the memo is open again. After every write the memo and every
invoice it touches are fetched and compared with the model ledger (amounts, links, status, updated_at order).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.client import ApiClient
from accounting_conformance.conformance.expect import create, instant, invoice_matches, memo_matches, status_is
from accounting_conformance.conformance.failures import violation
from accounting_conformance.conformance.fixtures import Fixtures
from accounting_conformance.conformance.ledger import Ledger, Memo, Target
from accounting_conformance.conformance.platforms import require
from accounting_conformance.conformance.states import StateLog

from . import builders

pytestmark = pytest.mark.phase("lifecycles")

D = Decimal


class Walk:
    """One memo, the targets it pays, the model, and the checks after every write."""

    def __init__(self, client: ApiClient, states: StateLog, kind: str, memo: dict[str, Any], party: str) -> None:
        self.client, self.states, self.kind = client, states, kind
        self.ledger = Ledger()
        self.memo = Memo(kind, memo["id"], D("10.00"), "USD", party)
        self.ledger.add_memo(self.memo)
        self.stamps: dict[str, int] = {}

    def target(self, target_id: str, due: Decimal) -> None:
        """A document the memo may pay, with what is due on it now."""
        self.ledger.add_target(Target(target_id, due, "USD", self.memo.party, due))

    def apply(self, plan: list[tuple[str, str]], rule: str, accepted: bool = True) -> None:
        """Send one application; the model says whether it must be accepted, then both sides are compared."""
        decimals = [(t, D(v)) for t, v in plan]
        prediction = self.ledger.predict_application(self.memo.id, decimals)
        assert prediction.accepted == accepted, f"the walk itself is wrong: {prediction.reason}"
        exchange = self.client.request(
            "POST", kinds.application(self.kind).path, body=builders.application(self.kind, self.memo.id, *plan)
        )
        status_is(
            self.client,
            exchange,
            (200,) if accepted else (400,),
            rule,
            "the application fits what is open" if accepted else f"refused: {prediction.reason}",
        )
        if accepted:
            self.ledger.apply(self.memo.id, decimals)
        self.compare(rule, [t for t, _ in plan])

    def revert(self, bill_id: str) -> None:
        """Revert the memo's application to one bill, and compare."""
        exchange = self.client.request(
            "POST", kinds.revert(self.kind).path, body=builders.unapplication(self.kind, self.memo.id, bill_id)
        )
        status_is(self.client, exchange, (200,), "APPLY-003", "the memo has credit applied to that bill")
        self.ledger.revert(self.memo.id, bill_id)
        self.compare("APPLY-003", [])

    def delete(self) -> bool:
        """Try to delete the memo: refused (400, nothing changes) while anything is applied, else gone."""
        accepted = self.ledger.predict_delete(self.memo.id).accepted
        exchange = self.client.request("DELETE", kinds.get(self.kind).item(self.memo.id))
        status_is(
            self.client,
            exchange,
            (200,) if accepted else (400,),
            "WRITE-003",
            "a memo without applications is deleted" if accepted else "a memo with applications is not deleted",
        )
        if not accepted:
            self.compare("WRITE-003", [])
            return False
        gone = self.client.request("GET", kinds.get(self.kind).item(self.memo.id))
        status_is(self.client, gone, (404, 410), "WRITE-003", "a deleted memo is gone")
        return True

    def compare(self, rule: str, touched: list[str]) -> None:
        """Re-read the memo and every invoice the write touched; amounts, links and status must match the model,
        and no updated_at may move backwards."""
        self._forward(self.kind, memo_matches(self.client, self.memo, rule), rule)
        self.states.memo(self.kind, self.memo.total, self.memo.remaining)
        for target_id in dict.fromkeys(touched):
            target = self.ledger.targets[target_id]
            if self.kind == "invoice_credit_memo":
                self._forward("invoice", invoice_matches(self.client, target, rule), rule)
                self.states.invoice(target.total, target.due)

    def _forward(self, kind: str, fetched: tuple[Any, dict[str, Any]], rule: str) -> None:
        """No updated_at may be before the one an earlier read of the same document saw."""
        exchange, obj = fetched
        now = instant(self.client, exchange, obj, "updated_at", rule)
        if now < self.stamps.get(obj["id"], now):
            raise violation(
                rule,
                expected=f"{kind}.updated_at never before {self.stamps[obj['id']]} ns (an earlier read)",
                received=f"updated_at = {obj['updated_at']}",
                reproduction=exchange.reproduction(self.client.redactor),
            )
        self.stamps[obj["id"]] = now


@pytest.mark.rules("APPLY-001", "APPLY-002", "WRITE-003", "STATE-001")
def test_an_invoice_credit_memo_goes_through_every_state_and_both_sides_follow(
    client: ApiClient, fixtures: Fixtures, tag: str, states: StateLog, settings: Any
) -> None:
    require(
        settings.platform,
        "createInvoice",
        "createInvoiceCreditMemo",
        "createInvoiceCreditApplication",
        "deleteInvoiceCreditMemo",
    )
    body = builders.invoice_credit_memo(fixtures, tag)
    walk = Walk(
        client,
        states,
        "invoice_credit_memo",
        create(client, "invoice_credit_memo", body),
        body["invoice_credit_memo"]["customer_id"],
    )
    invoices = []
    for due in ("4.00", "20.00", "20.00"):
        created = create(client, "invoice", builders.invoice(fixtures, tag, amounts=(due,)))
        walk.target(created["id"], D(due))
        invoices.append(created["id"])
    a, b, c = invoices
    walk.compare("WRITE-001", invoices)  # open memo, open invoices
    walk.apply([(a, "4.00")], "APPLY-001")  # one target, paid off exactly
    states.reached("application to one target")
    walk.apply([(b, "1.00"), (a, "0.01")], "APPLY-002", accepted=False)  # a share above a paid invoice's amount_due
    states.reached("application with a share above its target refused")
    if not walk.delete():
        states.reached("delete refused while partly applied")
    walk.apply([(b, "2.00"), (c, "2.00")], "APPLY-001")
    states.reached("application to several targets, equal shares")
    walk.apply([(b, "1.50"), (c, "0.50")], "APPLY-001")  # the last 2.00: used up exactly
    states.reached("application to several targets, unequal shares")
    if not walk.delete():
        states.reached("delete refused while used up")


@pytest.mark.rules("APPLY-001", "APPLY-003", "WRITE-003", "STATE-001")
def test_a_bill_credit_memo_is_used_up_and_reverted_back_to_open(
    client: ApiClient, fixtures: Fixtures, tag: str, states: StateLog, settings: Any
) -> None:
    require(
        settings.platform,
        "createBillCreditMemo",
        "createBillCreditApplication",
        "revertBillCreditApplication",
        "deleteBillCreditMemo",
    )
    body = builders.bill_credit_memo(fixtures, tag)
    vendor = body["bill_credit_memo"]["vendor_id"]
    walk = Walk(client, states, "bill_credit_memo", create(client, "bill_credit_memo", body), vendor)
    bills = fixtures.bills_for(vendor)[:2]
    for bill in bills:
        walk.target(bill.id, D(str(bill.amount_due)))
    first, second = bills[0].id, bills[-1].id
    walk.compare("WRITE-001", [])
    walk.apply([(first, "4.00")], "APPLY-001")
    if not walk.delete():
        states.reached("delete refused while partly applied")
    walk.apply([(second, "6.00")], "APPLY-001")  # used up exactly (second is first when the vendor has one bill)
    if not walk.delete():
        states.reached("delete refused while used up")
    walk.revert(second)
    states.reached("bill_credit_memo reverted from used up")
    if first != second:
        walk.revert(first)
    states.reached("bill_credit_memo reverted to open")  # compare() has just seen remaining = total
    if walk.delete():
        states.reached("open memo deleted")
