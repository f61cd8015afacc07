"""The states a run must drive documents through, and which of them it reached.

A state counts as reached only once the target has answered the write that leads there and a re-read of
every document the write touches agreed with the model ledger. A clean run that leaves a state unreached has
not tested what the contract says about it; `make selftest` fails such a run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

#: Each state, and the sentence of the contract that makes it one (openapi/openapi.yaml).
STATES: dict[str, str] = {
    "invoice_credit_memo open": "InvoiceCreditMemo x-amount-rules: status OPEN when nothing is applied",
    "invoice_credit_memo partly applied": "InvoiceCreditMemo x-amount-rules: PARTIALLY_APPLIED when 0 < remaining < total",
    "invoice_credit_memo used up exactly": "InvoiceCreditMemo x-amount-rules: APPLIED when remaining_amount = 0",
    "bill_credit_memo open": "BillCreditMemo x-amount-rules: status open when nothing is applied",
    "bill_credit_memo partly applied": "BillCreditMemo x-amount-rules: partially_paid when 0 < remaining < total",
    "bill_credit_memo used up exactly": "BillCreditMemo x-amount-rules: paid when remaining_amount = 0",
    "bill_credit_memo reverted from used up": "revertBillCreditApplication: the memo's remaining amount and status follow",
    "bill_credit_memo reverted to open": "revertBillCreditApplication: the link is removed, remaining restored",
    "invoice open": "Invoice x-amount-rules: status open with nothing paid",
    "invoice partly paid": "Invoice x-amount-rules: partially_paid when 0 < amount_due < total",
    "invoice paid": "Invoice x-amount-rules: paid when amount_due = 0",
    "application to one target": "createInvoiceCreditApplication: linked_invoices[] of one",
    "application to several targets, equal shares": "createInvoiceCreditApplication: linked_invoices[] of several",
    "application to several targets, unequal shares": "createInvoiceCreditApplication: linked_invoices[] of several",
    "application with a share above its target refused": "Adopted rule: application rejections (a share above amount_due)",
    "open memo deleted": "deleteInvoiceCreditMemo: afterwards answered 404 or 410 and no longer listed",
    "delete refused while partly applied": "Adopted rule: a credit memo with applications cannot be deleted",
    "delete refused while used up": "Adopted rule: a credit memo with applications cannot be deleted",
}


@dataclass
class StateLog:
    """How often a run reached each state; unknown names are a bug of the suite (KeyError at once)."""

    counts: Counter[str] = field(default_factory=Counter)

    def reached(self, name: str) -> None:
        """Record that the target is, by re-reading, in state `name`."""
        if name not in STATES:
            raise KeyError(f"unknown state {name!r}; known: {', '.join(STATES)}")
        self.counts[name] += 1

    def memo(self, kind: str, total: object, remaining: object) -> None:
        """Record a memo's state from its (model-confirmed) total and remaining amount."""
        self.reached(
            f"{kind} " + ("open" if remaining == total else "used up exactly" if not remaining else "partly applied")
        )

    def invoice(self, total: object, due: object) -> None:
        """Record an invoice's state from its (model-confirmed) total and amount due."""
        self.reached("invoice " + ("open" if due == total else "paid" if not due else "partly paid"))

    def unreached(self) -> list[str]:
        """The states never reached, in STATES order."""
        return [name for name in STATES if not self.counts[name]]

    def asdict(self) -> dict[str, object]:
        """JSON-ready form for summary.json."""
        return {"reached": {name: self.counts[name] for name in STATES}, "unreached": self.unreached()}
