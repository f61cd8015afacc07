"""Stateful workflows against the model ledger: create, apply, revert, update, delete, and compare everything."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.client import ApiClient
from accounting_conformance.conformance.expect import amount, envelope, invoice_matches, memo_matches, same, status_is
from accounting_conformance.conformance.failures import violation
from accounting_conformance.conformance.fixtures import Fixtures
from accounting_conformance.conformance.ledger import Ledger, Memo, Target
from accounting_conformance.conformance.platforms import require
from accounting_conformance.conformance.plugin import ConformancePlugin
from accounting_conformance.conformance.settings import Settings
from accounting_conformance.conformance.states import StateLog
from accounting_conformance.conformance.streams import stream
from accounting_conformance.strategies import allocations, documents, money

from . import builders

pytestmark = pytest.mark.phase("model")

ICM, BCM = kinds.MEMOS


def _lines_total(lines: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(str(line["total_amount"])) for line in lines), Decimal(0))


class LedgerMachine(RuleBasedStateMachine):
    """Drives the target through credit workflows while the model predicts every outcome."""

    memos = Bundle("memos")
    invoices = Bundle("invoices")

    def __init__(self, client: ApiClient, fixtures: Fixtures, tag: str, states: StateLog) -> None:
        super().__init__()
        self.client, self.fixtures, self.tag, self.states = client, fixtures, tag, states
        self.ledger = Ledger()

    @initialize()
    def know_the_bills(self) -> None:
        for bill in self.fixtures.bills:
            self.ledger.add_target(
                Target(
                    bill.id,
                    Decimal(str(bill.total_amount)),
                    bill.currency_code,
                    bill.vendor_id,
                    Decimal(str(bill.amount_due)),
                )
            )

    @initialize(target=invoices, data=st.data())
    def an_invoice_to_apply_to(self, data: st.DataObject) -> str:
        """Every example starts with an invoice, so that invoice credit always has somewhere to go."""
        return self.create_invoice(data)

    # ----------------------------------------------------------------- creates
    def _create_memo(self, kind: str, body: dict[str, Any]) -> str:
        exchange = self.client.request("POST", kinds.get(kind).path, body=body)
        created = envelope(
            self.client,
            exchange,
            status_is(self.client, exchange, (200,), "WRITE-001", f"a valid {kind} is created"),
            kind,
            "WRITE-001",
        )
        attrs = body[kind]
        total = _lines_total(attrs["line_items"])
        party = attrs["customer_id"] if kind == ICM else attrs["vendor_id"]
        same(
            self.client,
            exchange,
            "WRITE-001",
            f"created {kind} total_amount",
            total,
            amount(created.get("total_amount")),
        )
        same(
            self.client,
            exchange,
            "WRITE-001",
            f"created {kind} currency_code",
            attrs["currency_code"],
            created.get("currency_code"),
        )
        self.ledger.add_memo(Memo(kind, created["id"], total, attrs["currency_code"], party))
        self._compare(created["id"], [], "WRITE-001")  # re-read: what was created is what is stored
        return str(created["id"])

    def _concentrated(self, data: st.DataObject, body: dict[str, Any], key: str, party: str) -> dict[str, Any]:
        """Most documents go to two USD parties, so that memos and targets meet often enough to apply."""
        if data.draw(st.integers(0, 4)) > 0:
            parties = (
                self.fixtures.customers("USD")
                if party == "customer_id"
                else [v for v in self.fixtures.vendors("USD") if self.fixtures.bills_for(v.id)]
            )[:2]
            body[key][party] = data.draw(st.sampled_from([p.id for p in parties]))
        return body

    @rule(target=memos, data=st.data())
    def create_invoice_credit_memo(self, data: st.DataObject) -> str:
        body = data.draw(documents.creates(ICM, fixtures=self.fixtures, tag=self.tag, currency="USD"))
        return self._create_memo(ICM, self._concentrated(data, body, ICM, "customer_id"))

    @rule(target=memos, data=st.data())
    def create_bill_credit_memo(self, data: st.DataObject) -> str:
        body = data.draw(documents.creates(BCM, fixtures=self.fixtures, tag=self.tag, currency="USD"))
        return self._create_memo(BCM, self._concentrated(data, body, BCM, "vendor_id"))

    @rule(target=invoices, data=st.data())
    def create_invoice(self, data: st.DataObject) -> str:
        body = data.draw(documents.creates("invoice", fixtures=self.fixtures, tag=self.tag, currency="USD"))
        body = self._concentrated(data, body, "invoice", "customer_id")
        exchange = self.client.request("POST", kinds.get("invoice").path, body=body)
        created = envelope(
            self.client,
            exchange,
            status_is(self.client, exchange, (200,), "WRITE-001", "a valid invoice is created"),
            "invoice",
            "WRITE-001",
        )
        total = amount(created.get("total_amount"))
        same(
            self.client,
            exchange,
            "WRITE-001",
            "created invoice sub_total",
            _lines_total(body["invoice"]["line_items"]),
            amount(created.get("sub_total")),
        )
        if total is None:
            raise violation(
                "WRITE-001",
                expected="created invoice total_amount a decimal amount",
                received=f"total_amount = {created.get('total_amount')!r}",
                reproduction=exchange.reproduction(self.client.redactor),
            )
        self.ledger.add_target(
            Target(created["id"], total, body["invoice"]["currency_code"], body["invoice"]["customer_id"], total)
        )
        self._compare("", [created["id"]], "WRITE-001")
        return str(created["id"])

    # ------------------------------------------------------------ applications
    @rule(memo_id=memos, data=st.data())
    def apply_credit(self, memo_id: str, data: st.DataObject) -> None:
        memo = self.ledger.memos.get(memo_id)
        if memo is None:
            return
        candidates = [
            t
            for t in self.ledger.targets.values()
            if (t.id in self.fixtures.bill_ids) == (memo.kind == BCM)
            and t.party == memo.party
            and t.currency == memo.currency
            and t.due > 0
        ]
        if not candidates:
            return
        chosen = data.draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=3, unique_by=lambda t: t.id))
        targets = [(t.id, t.due) for t in chosen]
        due = sum((d for _, d in targets), Decimal(0))
        unit = money.minor_unit(memo.currency)
        possible = [
            mode
            for mode, ok in (
                ("under", memo.remaining > unit),
                ("exact", 0 < memo.remaining <= due),
                ("over", due >= memo.remaining + unit),
            )
            if ok
        ]
        if not possible:
            return
        mode = data.draw(st.sampled_from(possible))
        plan = data.draw(
            allocations.allocation_plans(remaining=memo.remaining, targets=targets, mode=mode, currency=memo.currency)
        )
        prediction = self.ledger.predict_application(memo_id, plan)
        exchange = self._send_application(memo, plan)
        if prediction.accepted:
            status_is(self.client, exchange, (200,), "APPLY-001", "the application fits the remaining and due amounts")
            self.ledger.apply(memo_id, plan)
        else:
            status_is(
                self.client, exchange, (400,), "APPLY-002", f"the application must be refused: {prediction.reason}"
            )
        self._compare(memo_id, [t for t, _ in plan], "APPLY-001" if prediction.accepted else "APPLY-002")
        if prediction.accepted:
            shares = {value for _, value in plan}
            self.states.reached(
                "application to one target"
                if len(plan) == 1
                else f"application to several targets, {'equal' if len(shares) == 1 else 'unequal'} shares"
            )

    def _send_application(self, memo: Memo, plan: list[tuple[str, Decimal]]) -> Any:
        body = builders.application(memo.kind, memo.id, *((target_id, str(value)) for target_id, value in plan))
        return self.client.request("POST", kinds.application(memo.kind).path, body=body)

    @rule(memo_id=memos, data=st.data())
    def overpay_one_target(self, memo_id: str, data: st.DataObject) -> None:
        """More than a target's amount due, though within the memo's remaining: refused, nothing moves."""
        memo = self.ledger.memos.get(memo_id)
        if memo is None:
            return
        unit = money.minor_unit(memo.currency)
        candidates = sorted(
            (
                t
                for t in self.ledger.targets.values()
                if (t.id in self.fixtures.bill_ids) == (memo.kind == BCM)
                and t.party == memo.party
                and t.currency == memo.currency
                and 0 < t.due
                and t.due + unit <= memo.remaining
            ),
            key=lambda t: t.id,
        )
        if not candidates:
            return
        target = data.draw(st.sampled_from(candidates))
        plan = [(target.id, target.due + unit)]
        prediction = self.ledger.predict_application(memo_id, plan)
        assert not prediction.accepted
        exchange = self._send_application(memo, plan)
        status_is(self.client, exchange, (400,), "APPLY-002", f"the application must be refused: {prediction.reason}")
        self._compare(memo_id, [target.id], "APPLY-002")
        self.states.reached("application with a share above its target refused")

    @rule(memo_id=memos, data=st.data())
    def apply_again_to_a_linked_target(self, memo_id: str, data: st.DataObject) -> None:
        """A second application to the same target adds to the first."""
        memo = self.ledger.memos.get(memo_id)
        if memo is None or memo.remaining <= 0:
            return
        linked = sorted(t for t in memo.links if self.ledger.targets[t].due > 0)
        if not linked:
            return
        target = self.ledger.targets[data.draw(st.sampled_from(linked))]
        unit = money.minor_unit(memo.currency)
        plan = [(target.id, min(memo.remaining, target.due, data.draw(st.sampled_from([unit, unit * 100]))))]
        assert self.ledger.predict_application(memo_id, plan).accepted
        exchange = self._send_application(memo, plan)
        status_is(self.client, exchange, (200,), "APPLY-001", "a further application within both balances is accepted")
        self.ledger.apply(memo_id, plan)
        self._compare(memo_id, [target.id], "APPLY-001")

    @rule(memo_id=memos)
    def shrink_memo_below_what_is_applied(self, memo_id: str) -> None:
        """New lines totalling less than the amount applied: refused, the memo keeps its total."""
        memo = self.ledger.memos.get(memo_id)
        unit = money.minor_unit(memo.currency) if memo else Decimal(0)
        if memo is None or memo.allocated <= unit:
            return
        new_total = memo.allocated - unit
        body = {memo.kind: {"line_items": [{"total_amount": str(new_total), "description": "below what is applied"}]}}
        assert not self.ledger.predict_total_change(memo_id, new_total).accepted
        exchange = self.client.request("PATCH", kinds.get(memo.kind).item(memo_id), body=body)
        status_is(self.client, exchange, (400,), "WRITE-002", "a total below the amount applied is refused")
        self._compare(memo_id, [], "WRITE-002")

    @precondition(lambda self: any(m.kind == BCM and m.links for m in self.ledger.memos.values()))
    @rule(data=st.data())
    def revert_bill_credit(self, data: st.DataObject) -> None:
        memo = data.draw(
            st.sampled_from(
                sorted((m for m in self.ledger.memos.values() if m.kind == BCM and m.links), key=lambda m: m.id)
            )
        )
        bill_id = data.draw(st.sampled_from(sorted(memo.links)))
        was_used_up = memo.remaining == 0
        exchange = self.client.request(
            "POST", kinds.revert(BCM).path, body=builders.unapplication(BCM, memo.id, bill_id)
        )
        status_is(self.client, exchange, (200,), "APPLY-003", "the memo has credit applied to that bill")
        self.ledger.revert(memo.id, bill_id)
        self._compare(memo.id, [bill_id], "APPLY-003")
        if was_used_up:
            self.states.reached("bill_credit_memo reverted from used up")
        if not memo.links:
            self.states.reached("bill_credit_memo reverted to open")

    # ------------------------------------------------------- updates, deletes
    @rule(memo_id=memos, data=st.data())
    def update_memo_lines(self, memo_id: str, data: st.DataObject) -> None:
        memo = self.ledger.memos.get(memo_id)
        if memo is None:
            return
        body = data.draw(documents.updates(memo.kind, fixtures=self.fixtures, tag=self.tag, currency=memo.currency))
        lines = body[memo.kind].get("line_items")
        new_total = _lines_total(lines) if lines else memo.total
        body[memo.kind].pop("currency_code", None)
        body[memo.kind].pop("customer_id" if memo.kind == ICM else "vendor_id", None)
        prediction = self.ledger.predict_total_change(memo_id, new_total)
        exchange = self.client.request("PATCH", kinds.get(memo.kind).item(memo_id), body=body)
        if prediction.accepted:
            status_is(self.client, exchange, (200,), "WRITE-002", "the update keeps the total above the amount applied")
            memo.total = new_total
        else:
            status_is(self.client, exchange, (400,), "WRITE-002", f"the update must be refused: {prediction.reason}")
        self._compare(memo_id, [], "WRITE-002")

    @precondition(lambda self: "deletes" not in self.client.settings.unclaimed)
    @rule(memo_id=memos)
    def delete_memo(self, memo_id: str) -> None:
        memo = self.ledger.memos.get(memo_id)
        if memo is None:
            return
        prediction = self.ledger.predict_delete(memo_id)
        exchange = self.client.request("DELETE", kinds.get(memo.kind).item(memo_id))
        if not prediction.accepted:
            status_is(self.client, exchange, (400,), "WRITE-003", f"the delete must be refused: {prediction.reason}")
            self._compare(memo_id, [], "WRITE-003")
            self.states.reached(
                "delete refused while used up" if memo.remaining == 0 else "delete refused while partly applied"
            )
            return
        status_is(self.client, exchange, (200,), "WRITE-003", "a memo without applications can be deleted")
        gone = self.client.request("GET", kinds.get(memo.kind).item(memo_id))
        status_is(self.client, gone, (404, 410), "WRITE-003", "a deleted memo is gone")
        self.ledger.delete(memo_id)
        self.states.reached("open memo deleted")

    # ------------------------------------------------------------- comparison
    def _compare(self, memo_id: str, target_ids: list[str], rule_id: str) -> None:
        if memo_id in self.ledger.memos:
            memo = self.ledger.memos[memo_id]
            memo_matches(self.client, memo, rule_id)
            self.states.memo(memo.kind, memo.total, memo.remaining)
        for target_id in target_ids:
            if target_id not in self.fixtures.bill_ids:
                target = self.ledger.targets[target_id]
                invoice_matches(self.client, target, rule_id)
                self.states.invoice(target.total, target.due)

    @invariant()
    def model_is_consistent(self) -> None:
        for memo in self.ledger.memos.values():
            assert 0 <= memo.remaining <= memo.total, "the model itself broke a money rule"


@pytest.mark.rules("STATE-001", "APPLY-001", "APPLY-002", "APPLY-003", "WRITE-001", "WRITE-002", "WRITE-003")
@stream  # beside the links machine and the fuzzer (conformance/streams.py)
def test_credit_workflows_match_the_model_ledger(
    client: ApiClient, fixtures: Fixtures, tag: str, settings: Settings, states: StateLog, plugin: ConformancePlugin
) -> None:
    require(
        settings.platform,
        "createInvoice",
        "createInvoiceCreditMemo",
        "createBillCreditMemo",
        "createInvoiceCreditApplication",
        "createBillCreditApplication",
        "revertBillCreditApplication",
    )
    # a factory "can be a class or a function" (run_state_machine_as_test's docstring); its annotation says a class
    run_state_machine_as_test(
        lambda: plugin.recorder.begin_example() or LedgerMachine(client, fixtures, tag, states),
        settings=hsettings(  # type: ignore[arg-type]
            max_examples=settings.profile.stateful_examples,
            stateful_step_count=settings.profile.stateful_steps,
            deadline=None,
            database=None,
            derandomize=False,
            phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
            suppress_health_check=list(HealthCheck),
        ),
    )
