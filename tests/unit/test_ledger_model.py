"""The suite's model ledger predicts what the contract says, independently of any server."""

from __future__ import annotations

from decimal import Decimal as D

from accounting_conformance.conformance.ledger import Ledger, Memo, Target


def _ledger() -> Ledger:
    ledger = Ledger()
    ledger.add_memo(Memo("invoice_credit_memo", "m1", D("10"), "USD", "c1"))
    ledger.add_target(Target("i1", D("25"), "USD", "c1", D("25")))
    ledger.add_target(Target("i2", D("3"), "USD", "c1", D("3")))
    ledger.add_target(Target("eur", D("5"), "EUR", "c1", D("5")))
    ledger.add_target(Target("other", D("5"), "USD", "c2", D("5")))
    return ledger


def test_an_accepted_application_moves_money_on_both_sides() -> None:
    ledger = _ledger()
    assert ledger.predict_application("m1", [("i1", D("4.5"))]).accepted
    ledger.apply("m1", [("i1", D("4.5"))])
    memo, invoice = ledger.memos["m1"], ledger.targets["i1"]
    assert (memo.remaining, memo.status, memo.links) == (D("5.5"), "PARTIALLY_APPLIED", {"i1": D("4.5")})
    assert (invoice.due, invoice.status, invoice.payments) == (D("20.5"), "partially_paid", {"m1": D("4.5")})


def test_over_application_and_over_payment_are_predicted_as_refused() -> None:
    ledger = _ledger()
    assert not ledger.predict_application("m1", [("i1", D("10.01"))]).accepted
    assert not ledger.predict_application("m1", [("i2", D("3.01"))]).accepted
    assert ledger.predict_application("m1", [("i1", D("7")), ("i2", D("3"))]).accepted


def test_currency_party_duplicate_and_non_positive_plans_are_predicted_as_refused() -> None:
    ledger = _ledger()
    for plan in ([("eur", D("1"))], [("other", D("1"))], [("i1", D("1")), ("i1", D("1"))], [("i1", D("0"))]):
        assert not ledger.predict_application("m1", plan).accepted, plan


def test_a_fully_applied_memo_is_applied_and_the_invoice_paid() -> None:
    ledger = _ledger()
    ledger.apply("m1", [("i2", D("3")), ("i1", D("7"))])
    assert ledger.memos["m1"].status == "APPLIED" and ledger.targets["i2"].status == "paid"


def test_revert_restores_both_sides_and_deletion_needs_no_applications() -> None:
    ledger = _ledger()
    ledger.add_memo(Memo("bill_credit_memo", "b1", D("8"), "USD", "v1"))
    ledger.add_target(Target("bill", D("100"), "USD", "v1", D("100")))
    assert not ledger.predict_revert("b1", "bill").accepted
    ledger.apply("b1", [("bill", D("2"))])
    assert not ledger.predict_delete("b1").accepted
    assert not ledger.predict_total_change("b1", D("1.99")).accepted
    ledger.revert("b1", "bill")
    assert (ledger.memos["b1"].remaining, ledger.memos["b1"].status, ledger.targets["bill"].due) == (
        D("8"),
        "open",
        D("100"),
    )
    assert ledger.predict_delete("b1").accepted
