"""The rules the suite enforces: an ID, a one-line statement, where the contract says it, and its family."""

from __future__ import annotations

from dataclasses import dataclass

from accounting_conformance.conformance.contract import operation_pointer as _op

SPEC = "openapi/openapi.yaml"


#: The families of rules: what kind of promise of the contract a rule is about.
FAMILIES: dict[str, str] = {
    "contract": "generic contract conformance (schemathesis' own checks, grouped under our IDs)",
    "money": "amounts add up, exactly",
    "status": "statuses follow the amounts",
    "shape": "shapes a schema check cannot see: timestamps, currencies, ids",
    "state": "writes and the state they leave",
    "query": "lists: paging, filters, sorts, expand, id types",
}


@dataclass(frozen=True)
class Rule:
    """One enforced rule of the contract."""

    id: str
    statement: str
    reference: str  # a JSON pointer into openapi/openapi.yaml
    family: str  # one of FAMILIES

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"rule {self.id}: unknown family {self.family!r}; known: {', '.join(FAMILIES)}")

    @property
    def citation(self) -> str:
        """Where the contract states this rule, as `file#pointer`."""
        return f"{SPEC}{self.reference}"


_ICM = "#/components/schemas/InvoiceCreditMemo"
_BCM = "#/components/schemas/BillCreditMemo"
_INV = "#/components/schemas/Invoice"
_CR = "#/components/schemas/CustomerRefund"
_PATHS = "#/paths"


def _family(family: str, *rules: tuple[str, str, str]) -> tuple[Rule, ...]:
    """The rules (id, statement, reference) of one family, in order."""
    return tuple(Rule(rule_id, statement, reference, family) for rule_id, statement, reference in rules)


RULES: tuple[Rule, ...] = (
    *_family(
        "contract",
        ("SCHEMA-001", "Responses match the documented status codes, content types, headers and schemas", _PATHS),
        ("SCHEMA-002", "The server never answers 5xx, to valid or invalid input", "#/components/responses/ServerError"),
        ("SCHEMA-003", "Requests that break the schema are rejected with 4xx", "#/components/responses/BadRequest"),
        ("SCHEMA-004", "Requests that satisfy the schema are not rejected as invalid", _PATHS),
        ("AUTH-001", "A missing or unknown access_token is answered 401", "#/components/parameters/AccessToken"),
        (
            "METHOD-001",
            "A method the contract does not declare on a path is answered 405 with Allow, or 501",
            "#/info/description",
        ),
    ),
    *_family(
        "money",
        ("MONEY-001", "Every allocated amount of a credit memo is positive", f"{_ICM}/x-amount-rules/0"),
        ("MONEY-002", "A credit memo's allocations sum to at most its total_amount", f"{_ICM}/x-amount-rules/1"),
        ("MONEY-003", "remaining_amount = total_amount - sum of allocations", f"{_ICM}/x-amount-rules/2"),
        ("MONEY-004", "A credit memo's total_amount is the sum of its line amounts", f"{_ICM}/x-amount-rules/3"),
        (
            "MONEY-005",
            "An invoice's amount_due = total_amount - sum of linked payments, never below 0",
            f"{_INV}/x-amount-rules/0",
        ),
        (
            "MONEY-006",
            "An invoice's total_amount = sub_total + tax_amount - total_discount",
            f"{_INV}/x-amount-rules/1",
        ),
        ("MONEY-007", "An invoice's sub_total and tax_amount are the sums of its lines'", f"{_INV}/x-amount-rules/2"),
        ("MONEY-008", "A line's amount = sub_total + tax_amount", "#/components/schemas/InvoiceLineItem/description"),
        (
            "MONEY-009",
            "A refund's total_amount = sum of lines - discount_amount + tax_amount",
            f"{_CR}/x-amount-rules/0",
        ),
        ("MONEY-010", "Amounts are exact: arithmetic on them loses nothing", "#/info/description"),
    ),
    *_family(
        "status",
        ("STATUS-001", "A credit memo's status follows its amounts", f"{_ICM}/x-amount-rules/4"),
        ("STATUS-002", "An invoice's status follows amount_due", f"{_INV}/x-amount-rules/3"),
    ),
    *_family(
        "shape",
        (
            "TIME-001",
            "Timestamps are ISO 8601 with a zone, and created_at <= updated_at",
            f"{_ICM}/properties/created_at",
        ),
        ("CUR-001", "Currency codes are ISO 4217", "#/components/schemas/CurrencyCodeEnum"),
        ("FETCH-001", "A fetch answers the object whose id was asked for", _op("getInvoice")),
    ),
    *_family(
        "state",
        ("WRITE-001", "A create echoes its input and the object can then be fetched", _PATHS),
        (
            "WRITE-002",
            "An update persists the fields sent, keeps the others and moves updated_at forward",
            _op("updateInvoice", "description"),
        ),
        (
            "WRITE-003",
            "A deleted object answers 404/410 and is no longer listed",
            _op("deleteInvoiceCreditMemo", "description"),
        ),
        (
            "APPLY-001",
            "An application moves money on both sides: memo remaining, links, invoice amount_due",
            _op("createInvoiceCreditApplication", "description"),
        ),
        (
            "APPLY-002",
            "An application above the memo's remaining or an invoice's amount_due, a zero amount or a currency "
            "mismatch is answered 400 and changes nothing",
            _op("createInvoiceCreditApplication", "description"),
        ),
        (
            "APPLY-003",
            "Reverting a bill credit application restores the memo and removes the link",
            _op("revertBillCreditApplication", "description"),
        ),
        (
            "APPLY-004",
            "New lines keep the applied money: remaining = new total - applied; a total below it is answered 400",
            _op("updateInvoiceCreditMemo", "description"),
        ),
        ("STATE-001", "Every amount, status and link matches an independent model of the ledger", _PATHS),
        (
            "IDEM-001",
            "An Idempotency-Key replays the first outcome; reuse with another body is answered 409",
            "#/components/parameters/IdempotencyKey",
        ),
        (
            "ASYNC-001",
            "An async write yields a job whose result matches the synchronous one",
            "#/components/schemas/AsynchronousJob",
        ),
    ),
    *_family(
        "query",
        (
            "PAGE-001",
            "Paging reaches every object once: no duplicates, no loops, limit respected",
            "#/components/parameters/Cursor",
        ),
        (
            "FILTER-001",
            "Each filter operator selects exactly the matching objects",
            "#/components/parameters/FilterInvoiceCreditMemos",
        ),
        (
            "FILTER-002",
            "A malformed filter or a non-filterable field is answered 400",
            "#/components/parameters/FilterInvoiceCreditMemos",
        ),
        (
            "SORT-001",
            "sort orders the objects in the direction asked, ties broken by id",
            "#/components/parameters/SortInvoiceCreditMemos",
        ),
        (
            "EXPAND-001",
            "expand=platform_data includes platform_data; without it the key is left out",
            "#/components/parameters/Expand",
        ),
        ("IDTYPE-001", "id_type=platform fetches by platform_id", "#/components/parameters/IdType"),
        (
            "DEPRECATED-001",
            "The deprecated millisecond parameters are still honoured",
            "#/components/parameters/UpdatedAtMin",
        ),
    ),
)

BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


def of_family(family: str) -> frozenset[str]:
    """The IDs of the rules of one family."""
    if family not in FAMILIES:
        raise KeyError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
    return frozenset(rule.id for rule in RULES if rule.family == family)


def get(rule_id: str) -> Rule:
    """Return the rule with this ID, failing loudly on an unknown one."""
    try:
        return BY_ID[rule_id]
    except KeyError:
        raise KeyError(f"unknown rule id {rule_id!r}; known: {', '.join(sorted(BY_ID))}") from None
