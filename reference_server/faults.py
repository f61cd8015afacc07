"""Deliberate faults of the reference server, to prove that the conformance suite catches real bugs.

Each `Fault` member names one realistic server bug; its value is the name `--fault` takes. It is implemented
where such a bug would really live (the service, the ledger, the wire form, the list queries, the HTTP
pipeline, ...) as a small `if Fault.NAME in faults` branch. The faults of a server are a `Faults` value,
made once at start (`Settings.faults`, from `python -m reference_server --fault NAME ...`) and handed down
by the app to the service and to each function whose branch reads it; there is no process-wide state, and
with `NO_FAULTS` (the default everywhere) the server behaves exactly as without this module.

`conformance/selftest.py` runs the suite against the server once per fault and reports which faults it
caught, by which rule, and how fast.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CATEGORIES", "NO_FAULTS", "Fault", "Faults", "UnknownFault"]

#: shape: the wire form; money: amount rules; state: writes and reads; queries: lists; security: auth and robustness;
#: subtle: bugs a careful implementation still ships (near misses, one method or one field of many).
CATEGORIES = ("shape", "money", "state", "queries", "security", "subtle")


class UnknownFault(ValueError):
    """A fault name that is not a `Fault`; the message lists the names that are."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown fault {name!r}; known faults: {', '.join(fault.value for fault in Fault)}")
        self.name = name


@enum.unique
class Fault(enum.Enum):
    """One deliberate server bug: its value is the name for --fault; it says what goes wrong and its category."""

    _value_: str
    description: str
    category: str

    def __new__(cls, name: str, description: str, category: str) -> Fault:
        member = object.__new__(cls)
        member._value_ = name
        member.description = description
        member.category = category
        return member

    @classmethod
    def named(cls, name: str) -> Fault:
        """The fault whose --fault name this is; UnknownFault if there is none."""
        for fault in cls:
            if fault.value == name:
                return fault
        raise UnknownFault(name)

    # ------------------------------------------------------------------ shape
    ICM_AMOUNTS_AS_NUMBERS = (
        "icm-amounts-as-numbers",
        "invoice credit memo amounts are written as JSON numbers instead of decimal strings",
        "shape",
    )
    BCM_AMOUNTS_AS_STRINGS = (
        "bcm-amounts-as-strings",
        "bill credit memo amounts are written as decimal strings instead of JSON numbers",
        "shape",
    )
    ICM_STATUS_LOWERCASE = (
        "icm-status-lowercase",
        "invoice credit memo status is spelled in lower case (open/partially_applied/applied), outside its enum",
        "shape",
    )
    BCM_REMAINING_NULL = (
        "bcm-remaining-null",
        "a new bill credit memo's remaining_amount is null until its first application",
        "shape",
    )
    INVOICE_DUE_DATE_OMITTED = (
        "invoice-due-date-omitted",
        "an invoice created without due_date leaves the required due_date key out instead of null",
        "shape",
    )
    LIST_ENVELOPE_DATA = (
        "list-envelope-data",
        "list pages put their objects under a generic `data` key instead of the plural resource name",
        "shape",
    )
    ERROR_CONTENT_TYPE_TEXT = (
        "error-content-type-text",
        "error responses are sent as text/plain instead of application/json",
        "shape",
    )
    ERROR_BODY_FLAT = (
        "error-body-flat",
        "error bodies are {error, code} instead of {error_type, error_code, error_message}",
        "shape",
    )
    TIMESTAMPS_NAIVE = (
        "timestamps-naive",
        "timestamps are written as naive local text `YYYY-MM-DD HH:MM:SS`, without T or zone",
        "shape",
    )
    CURRENCY_LOWERCASE = "currency-lowercase", "currency codes are stored and answered in lower case (usd)", "shape"
    CREATE_ANSWERS_201 = "create-answers-201", "creates answer 201 Created where the contract documents 200", "shape"
    REQUEST_ID_HEADER_MISSING = (
        "request-id-header-missing",
        "error responses lack the required X-Rutter-Request-ID header",
        "shape",
    )
    JOB_STATUS_DONE = "job-status-done", "a finished async job reports status `done`, which is not a JobStatus", "shape"

    # ------------------------------------------------------------------ money
    OVER_APPLICATION_ACCEPTED = (
        "over-application-accepted",
        "an application whose allocations sum above the memo's remaining_amount is accepted",
        "money",
    )
    OVER_PAYMENT_ACCEPTED = (
        "over-payment-accepted",
        "an allocation above the invoice's amount_due is accepted (amount_due goes negative)",
        "money",
    )
    REMAINING_NOT_LOWERED = (
        "remaining-not-lowered",
        "an invoice credit application adds the link but leaves the memo's remaining_amount and status as they were",
        "money",
    )
    AMOUNT_DUE_NOT_LOWERED = (
        "amount-due-not-lowered",
        "an invoice credit application adds the payment link but leaves the invoice's amount_due and status as they were",
        "money",
    )
    APPLICATION_ONE_SIDE = (
        "application-one-side",
        "an invoice credit application updates the memo but never saves the invoice side",
        "money",
    )
    TOTAL_SKIPS_LAST_LINE = (
        "total-skips-last-line",
        "document totals sum every line but the last (off by one) when there are several lines",
        "money",
    )
    REFUND_TOTAL_FIRST_LINE = (
        "refund-total-first-line",
        "a customer refund's total_amount is its first line's amount only",
        "money",
    )
    STATUS_STALE = "status-stale", "status is computed from the open amount before the application changed it", "money"
    FLOAT_REMAINING = (
        "float-remaining",
        "open amounts (remaining_amount, amount_due) are computed in binary floating point",
        "money",
    )
    QUANTISE_2DP = (
        "quantise-2dp",
        "amounts are formatted on the wire with two decimals, rounding away finer amounts",
        "money",
    )
    REVERT_KEEPS_REMAINING = (
        "revert-keeps-remaining",
        "reverting a bill credit application removes the link but does not restore remaining_amount",
        "money",
    )
    REVERT_DOES_NOTHING = (
        "revert-does-nothing",
        "reverting a bill credit application answers success but changes nothing",
        "money",
    )
    UPDATE_TOTAL_BELOW_ALLOCATED = (
        "update-total-below-allocated",
        "an update may lower a memo's total below the amount already applied",
        "money",
    )
    UPDATE_REMAINING_RESET = (
        "update-remaining-reset",
        "an update with new line_items resets remaining_amount to the new total, forgetting applications",
        "money",
    )
    REAPPLY_OVERWRITES_LINK = (
        "reapply-overwrites-link",
        "a second application to the same invoice or bill overwrites the earlier allocation instead of adding to it",
        "money",
    )
    LINKED_PAYMENT_WRONG_TYPE = (
        "linked-payment-wrong-type",
        "an invoice credit application is recorded on the invoice as an INVOICE_PAYMENT, not INVOICE_CREDIT_MEMO",
        "money",
    )

    # ------------------------------------------------------------------ state
    UPDATE_NOT_PERSISTED = "update-not-persisted", "an update answers the changed object but never saves it", "state"
    UPDATE_DROPS_UNSENT_FIELDS = (
        "update-drops-unsent-fields",
        "an update replaces the object: fields not sent become null (PUT semantics)",
        "state",
    )
    UPDATED_AT_NOT_MOVED = "updated-at-not-moved", "an update keeps the old updated_at", "state"
    DELETE_NOT_DELETING = "delete-not-deleting", "a delete answers success but leaves the object in place", "state"
    DELETED_STILL_LISTED = (
        "deleted-still-listed",
        "a delete hides the object from fetches but lists still show it (soft delete not filtered)",
        "state",
    )
    DELETE_WITH_APPLICATIONS = (
        "delete-with-applications",
        "a memo with applications can be deleted, losing the applied money",
        "state",
    )
    FETCH_CACHED_BY_ROUTE = (
        "fetch-cached-by-route",
        "fetches are cached by route template, so a fetch can answer another object",
        "state",
    )
    UNKNOWN_ID_PLACEHOLDER = (
        "unknown-id-placeholder",
        "a fetch of an unknown id answers 200 with a placeholder object instead of 404/410",
        "state",
    )
    IDEMPOTENCY_KEY_IGNORED = (
        "idempotency-key-ignored",
        "the Idempotency-Key header is ignored: a replay creates a second object",
        "state",
    )
    IDEMPOTENCY_CONFLICT_UNDETECTED = (
        "idempotency-conflict-undetected",
        "a reused Idempotency-Key with a different body replays the first outcome instead of 409",
        "state",
    )
    ASYNC_JOB_NEVER_FINISHES = (
        "async-job-never-finishes",
        "an async write runs but its job is never marked finished",
        "state",
    )

    # ----------------------------------------------------------------- queries
    LIMIT_IGNORED = "limit-ignored", "limit is ignored: every page holds up to 50 objects", "queries"
    CURSOR_FROM_FIRST_ROW = (
        "cursor-from-first-row",
        "next_cursor is built from the page's first row, so paging repeats and loops",
        "queries",
    )
    PAGES_OVERLAP = (
        "pages-overlap",
        "the keyset comparison is inclusive: each page repeats the previous page's last object",
        "queries",
    )
    FILTER_IGNORED = "filter-ignored", "filter is parsed but never applied to the query", "queries"
    FILTER_INVALID_DATE_ACCEPTED = (
        "filter-invalid-date-accepted",
        "a filter date that does not exist (2024-02-30) is rolled over to a real one instead of answered 400",
        "queries",
    )
    FILTER_GT_INCLUSIVE = (
        "filter-gt-inclusive",
        "the > and < filter operators include the boundary (act as >= and <=)",
        "queries",
    )
    SORT_DIRECTION_INVERTED = "sort-direction-inverted", "sort ASC sorts descending and DESC ascending", "queries"
    EXPAND_IGNORED = "expand-ignored", "expand=platform_data is ignored: platform_data is never included", "queries"
    ID_TYPE_IGNORED = (
        "id-type-ignored",
        "id_type=platform is ignored: the path id is always read as the Rutter id",
        "queries",
    )
    UPDATED_AT_MIN_IGNORED = (
        "updated-at-min-ignored",
        "the deprecated updated_at_min / updated_at_max / last_synced_at_min are ignored",
        "queries",
    )

    # ---------------------------------------------------------------- security
    ACCESS_TOKEN_NOT_CHECKED = (
        "access-token-not-checked",
        "a missing or unknown access_token falls back to the default connection instead of 401",
        "security",
    )
    UNICODE_MEMO_500 = (
        "unicode-memo-500",
        "a memo outside Latin-1 (e.g. emoji, CJK) crashes the write with a 500",
        "security",
    )
    LONG_DOCUMENT_NUMBER_500 = (
        "long-document-number-500",
        "a document_number longer than 21 characters crashes the write with a 500",
        "security",
    )
    BAD_INTEGER_PARAM_500 = (
        "bad-integer-param-500",
        "a non-integer integer query parameter (limit=abc) crashes with a 500 instead of 400",
        "security",
    )
    BAD_CURSOR_500 = "bad-cursor-500", "a cursor that is not valid base64 crashes with a 500 instead of 400", "security"
    NONEXISTENT_DATE_500 = (
        "nonexistent-date-500",
        "a well-formed date that does not exist (2024-02-30) crashes with a 500 instead of 400",
        "security",
    )
    METHOD_NOT_ALLOWED_WITHOUT_ALLOW = (
        "method-not-allowed-without-allow",
        "a 405 to a method the path does not have carries no Allow header (RFC 9110 §15.5.6 requires it)",
        "security",
    )
    MALFORMED_JSON_500 = (
        "malformed-json-500",
        "a request body that is not JSON crashes with a 500 instead of 400",
        "security",
    )

    # ------------------------------------------------------------------ subtle
    TOKEN_WHITESPACE_TRIMMED = (
        "token-whitespace-trimmed",
        "the access_token is stripped of surrounding whitespace before it is looked up",
        "subtle",
    )
    TOKEN_PREFIX_ACCEPTED = (
        "token-prefix-accepted",
        "a token matches any stored token it is a prefix of (a LIKE 'token%' lookup)",
        "subtle",
    )
    TOKEN_TRUNCATED = (
        "token-truncated",
        "tokens are compared on their first 32 characters only (a fixed-width column)",
        "subtle",
    )
    UPDATED_AT_WHOLE_SECONDS = (
        "updated-at-whole-seconds",
        "an update stamps updated_at to the whole second, so two updates within one second share it",
        "subtle",
    )
    BCM_UPDATE_KEEPS_UPDATED_AT = (
        "bcm-update-keeps-updated-at",
        "an update of a bill credit memo keeps its old updated_at (invoice credit memos move it)",
        "subtle",
    )
    NUMBER_AMOUNTS_TO_CENTS = (
        "number-amounts-to-cents",
        "an amount sent as a JSON number is rounded to cents (decimal strings are kept exact)",
        "subtle",
    )
    AMOUNTS_INT32_CENTS = (
        "amounts-int32-cents",
        "amounts are held as 32-bit cents: any amount above 21474836.47 is refused as out of range",
        "subtle",
    )
    EXACTLY_USED_UP_STAYS_PARTIAL = (
        "exactly-used-up-stays-partial",
        "status becomes APPLIED / paid only below zero (a strict < where <= was meant): a memo used up exactly, or an invoice paid off exactly, keeps its partial status",
        "subtle",
    )
    SEVERAL_TARGETS_FIRST_SAVED = (
        "several-targets-first-saved",
        "an application to several invoices saves the first invoice only; the others keep their amount_due",
        "subtle",
    )
    REVERT_KEEPS_PAID_STATUS = (
        "revert-keeps-paid-status",
        "reverting an application of a used-up bill credit memo restores remaining_amount but keeps status paid",
        "subtle",
    )
    USED_UP_MEMO_DELETABLE = (
        "used-up-memo-deletable",
        "the delete guard refuses only partly applied memos: a used-up memo can be deleted",
        "subtle",
    )
    IDEMPOTENCY_IGNORED_ON_REFUNDS = (
        "idempotency-ignored-on-refunds",
        "customer refund creates ignore the Idempotency-Key (the refunds handler was written apart)",
        "subtle",
    )
    IDEMPOTENCY_IGNORED_ON_APPLICATIONS = (
        "idempotency-ignored-on-applications",
        "the Idempotency-Key is honoured on document creates only: an application replayed with its key moves the money twice",
        "subtle",
    )
    EXPAND_IGNORED_ON_LISTS = (
        "expand-ignored-on-lists",
        "expand=platform_data is honoured on fetches but not on lists",
        "subtle",
    )
    UPDATE_IGNORES_ISSUE_DATE = (
        "update-ignores-issue-date",
        "an update silently leaves issue_date as it was (the field is missing from the update's column list)",
        "subtle",
    )
    INVOICE_UPDATE_IGNORES_ACCOUNT = (
        "invoice-update-ignores-account",
        "an invoice update ignores account_id (credit memo updates honour it)",
        "subtle",
    )
    TIES_SKIPPED_WHEN_PAGING = (
        "ties-skipped-when-paging",
        "the keyset cursor compares the sort field only, so a page skips the rows that tie with its last one",
        "subtle",
    )
    IDEMPOTENCY_IGNORED_ON_PATCH = (
        "idempotency-ignored-on-patch",
        "the Idempotency-Key is honoured on POST only: a PATCH replay or a reused key with another body applies again",
        "subtle",
    )


@dataclass(frozen=True)
class Faults:
    """The faults one server instance runs with: an immutable set, made once at start (empty by default)."""

    on: frozenset[Fault] = frozenset()

    @classmethod
    def of(cls, *faults: Fault) -> Faults:
        """These faults on, every other off."""
        return cls(frozenset(faults))

    @classmethod
    def named(cls, names: Iterable[str]) -> Faults:
        """The faults of these --fault names; UnknownFault for the first name that is not one."""
        return cls(frozenset(Fault.named(name) for name in names))

    def __contains__(self, fault: Fault) -> bool:
        """Whether this fault is on; anything but a `Fault` (a name string, say) is a TypeError."""
        if not isinstance(fault, Fault):
            raise TypeError(f"faults are looked up by Fault member, not by {fault!r}")
        return fault in self.on


#: A server without deliberate bugs.
NO_FAULTS = Faults()
