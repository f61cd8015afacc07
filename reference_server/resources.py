"""The server's resource table: per kind, every fact the reference server states about it, in one place.

A kind is spelled once, `invoice_credit_memo`: the envelope key of one object and of a create or update
body. Its plural (`invoice_credit_memos`: the URL segment, the list envelope key and the SQLite table), its
path, its operationIds (`listInvoiceCreditMemos`, `getInvoiceCreditMemo`, ...) and the word messages use
(`invoice credit memo`) follow from that spelling. The suite keeps a table of its own; the two share no code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Literal, Protocol

from accounting_conformance.reference_server import ledger
from accounting_conformance.reference_server.faults import Faults

Verb = Literal["list", "create", "get", "update", "delete", "revert"]
STAMPS = ("created_at", "updated_at", "last_synced_at")


class StatusRule(Protocol):
    """A document's status from its total and its open amount (a rule of `ledger`)."""

    def __call__(self, total: Decimal, open_amount: Decimal, /, *, faults: Faults = ...) -> str: ...


def camel(snake: str) -> str:
    """`invoice_credit_memos` as the contract's operationIds spell it: `InvoiceCreditMemos`."""
    return "".join(part.capitalize() for part in snake.split("_"))


@dataclass(frozen=True)
class Field:
    """A filterable and sortable field: its indexed column and how values compare."""

    column: str
    kind: Literal["text", "instant"]


@dataclass(frozen=True)
class Balance:
    """How a document's open amount moves: the list of links that settle it, and the status they give it."""

    links: str  # the link list on the document (and the shares of an application request): `linked_invoices`
    amount: str  # the amount of each link: `allocated_amount`
    open_field: str  # the open amount: `remaining_amount` on memos, `amount_due` on invoices
    status: StatusRule


@dataclass(frozen=True, kw_only=True)
class Resource:
    """A kind the server names: its one spelling and the spellings that follow from it."""

    kind: str
    root: str = "/accounting"
    verbs: tuple[Verb, ...] = ()

    @property
    def plural(self) -> str:
        """The URL segment, the list envelope key and the SQLite table: `invoice_credit_memos`."""
        return self.kind + "s"

    @property
    def table(self) -> str:
        """The SQLite table that stores it."""
        return self.plural

    @property
    def path(self) -> str:
        """Its collection's URL path: `/accounting/invoice_credit_memos`."""
        return f"{self.root}/{self.plural}"

    @property
    def word(self) -> str:
        """How messages name one: `invoice credit memo`."""
        return self.kind.replace("_", " ")

    def operation_id(self, verb: Verb) -> str:
        """The contract's name of `verb` on this kind: `listInvoiceCreditMemos`, `getInvoiceCreditMemo`, ..."""
        return verb + camel(self.plural if verb == "list" else self.kind)


@dataclass(frozen=True, kw_only=True)
class Document(Resource):
    """A document kind of the API: stored whole, listed, filtered, sorted and rendered."""

    side: ledger.Side  # whose document it is: its counterparty field is `<side>_id`
    amounts: tuple[str, ...]  # its top-level amount fields
    numeric: bool  # amounts on the wire as JSON numbers (True) or decimal strings (False)
    text_fields: tuple[str, ...]  # filterable and sortable text fields
    instant_fields: tuple[str, ...] = STAMPS  # filterable and sortable instants
    balance: Balance | None = None  # None: nothing is ever applied to it
    platform_path: str | None = None  # the segment of its platform_url on the source platform

    @property
    def party(self) -> str:
        """The counterparty field: `customer_id` or `vendor_id`."""
        return f"{self.side}_id"

    @cached_property
    def fields(self) -> Mapping[str, Field]:
        """Filterable (and sortable) fields: text fields in same-named columns, instants in `<name>_ms` columns."""
        return {
            **{name: Field(name, "text") for name in self.text_fields},
            **{name: Field(f"{name}_ms", "instant") for name in self.instant_fields},
        }

    def settled(self) -> Balance:
        """Its balance; a document without one is a bug of the caller."""
        if self.balance is None:
            raise ValueError(f"nothing is applied to a {self.word}")
        return self.balance


@dataclass(frozen=True, kw_only=True)
class Application(Resource):
    """A credit application: shares of a memo applied to targets, both sides moving in one write."""

    memo: Document
    target: Resource  # what the shares go to: an invoice, or a seeded bill
    revert: str | None = None  # the envelope of its revert request and answer, if it has one

    @property
    def memo_id(self) -> str:
        """The request field naming the memo: `invoice_credit_memo_id`."""
        return f"{self.memo.kind}_id"


INVOICE_CREDIT_MEMO = Document(
    kind="invoice_credit_memo",
    verbs=("list", "create", "get", "update", "delete"),
    side="customer",
    amounts=("remaining_amount", "total_amount"),
    numeric=False,
    text_fields=("customer_id", "document_number"),
    balance=Balance("linked_invoices", "allocated_amount", "remaining_amount", ledger.invoice_credit_memo_status),
    platform_path="credit_memos",
)
BILL_CREDIT_MEMO = Document(
    kind="bill_credit_memo",
    verbs=("list", "create", "get", "update", "delete"),
    side="vendor",
    amounts=("remaining_amount", "total_amount"),
    numeric=True,
    text_fields=("vendor_id", "document_number"),
    balance=Balance("linked_bills", "allocated_amount", "remaining_amount", ledger.bill_credit_memo_status),
    platform_path="vendor_credits",
)
INVOICE = Document(
    kind="invoice",
    verbs=("list", "create", "get", "update"),
    side="customer",
    amounts=("amount_due", "sub_total", "tax_amount", "total_amount", "total_discount"),
    numeric=False,
    text_fields=("customer_id", "document_number", "status"),
    instant_fields=("due_date", *STAMPS),
    balance=Balance("linked_payments", "amount", "amount_due", ledger.invoice_status),
)
CUSTOMER_REFUND = Document(
    kind="customer_refund",
    verbs=("list", "create", "get"),
    side="customer",
    amounts=("total_amount", "discount_amount", "tax_amount"),
    numeric=True,
    text_fields=(),
    platform_path="customer_refunds",
)
DOCUMENTS = (INVOICE_CREDIT_MEMO, BILL_CREDIT_MEMO, INVOICE, CUSTOMER_REFUND)

BILL = Resource(kind="bill")  # seeded reference data, not an API resource: the target of bill credit applications
INVOICE_CREDIT = Application(
    kind="invoice_credit_application", verbs=("create",), memo=INVOICE_CREDIT_MEMO, target=INVOICE
)
BILL_CREDIT = Application(
    kind="bill_credit_application",
    verbs=("create", "revert"),
    memo=BILL_CREDIT_MEMO,
    target=BILL,
    revert="bill_credit_unapplication",
)
APPLICATIONS = (INVOICE_CREDIT, BILL_CREDIT)
JOB = Resource(kind="job", root="", verbs=("get",))


@dataclass(frozen=True)
class Endpoint:
    """One operation of the contract as the server answers it: a verb on a kind."""

    resource: Resource
    verb: Verb


ENDPOINTS: Mapping[str, Endpoint] = {
    resource.operation_id(verb): Endpoint(resource, verb)
    for resource in (*DOCUMENTS, *APPLICATIONS, JOB)
    for verb in resource.verbs
}
