"""Deliberate faults of the reference server, to prove that the conformance suite catches real bugs.

Each `Fault` names one realistic server bug. It is implemented where such a bug would really live (the
service, the ledger, the wire form, the list queries, the HTTP pipeline, ...) as a small
`if faults.active("name")` branch; with no fault active the server behaves exactly as without this
module. Faults are process-wide: `python -m reference_server --fault NAME` (repeatable) turns them on at
start, `activate()` does it in-process (tests), `reset()` turns them all off.

`conformance/selftest.py` runs the suite against the server once per fault and reports which faults it
caught, by which rule, and how fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["CATALOGUE", "CATEGORIES", "Fault", "UnknownFault", "activate", "active", "by_name", "current",
           "injected", "names", "reset"]

#: shape: the wire form; money: amount rules; state: writes and reads; queries: lists; security: auth and robustness;
#: subtle: bugs a careful implementation still ships (near misses, one method or one field of many).
CATEGORIES = ("shape", "money", "state", "queries", "security", "subtle")


@dataclass(frozen=True)
class Fault:
    """One deliberate server bug: a name for --fault, what goes wrong, and its category."""

    name: str
    description: str
    category: str


CATALOGUE: tuple[Fault, ...] = (
    # ------------------------------------------------------------------ shape
    Fault("icm-amounts-as-numbers", "invoice credit memo amounts are written as JSON numbers instead of decimal strings", "shape"),
    Fault("bcm-amounts-as-strings", "bill credit memo amounts are written as decimal strings instead of JSON numbers", "shape"),
    Fault("icm-status-lowercase", "invoice credit memo status is spelled in lower case (open/partially_applied/applied), outside its enum", "shape"),
    Fault("bcm-remaining-null", "a new bill credit memo's remaining_amount is null until its first application", "shape"),
    Fault("invoice-due-date-omitted", "an invoice created without due_date leaves the required due_date key out instead of null", "shape"),
    Fault("list-envelope-data", "list pages put their objects under a generic `data` key instead of the plural resource name", "shape"),
    Fault("error-content-type-text", "error responses are sent as text/plain instead of application/json", "shape"),
    Fault("error-body-flat", "error bodies are {error, code} instead of {error_type, error_code, error_message}", "shape"),
    Fault("timestamps-naive", "timestamps are written as naive local text `YYYY-MM-DD HH:MM:SS`, without T or zone", "shape"),
    Fault("currency-lowercase", "currency codes are stored and answered in lower case (usd)", "shape"),
    Fault("create-answers-201", "creates answer 201 Created where the contract documents 200", "shape"),
    Fault("request-id-header-missing", "error responses lack the required X-Rutter-Request-ID header", "shape"),
    Fault("job-status-done", "a finished async job reports status `done`, which is not a JobStatus", "shape"),
    # ------------------------------------------------------------------ money
    Fault("over-application-accepted", "an application whose allocations sum above the memo's remaining_amount is accepted", "money"),
    Fault("over-payment-accepted", "an allocation above the invoice's amount_due is accepted (amount_due goes negative)", "money"),
    Fault("remaining-not-lowered", "an invoice credit application adds the link but leaves the memo's remaining_amount and status as they were", "money"),
    Fault("amount-due-not-lowered", "an invoice credit application adds the payment link but leaves the invoice's amount_due and status as they were", "money"),
    Fault("application-one-side", "an invoice credit application updates the memo but never saves the invoice side", "money"),
    Fault("total-skips-last-line", "document totals sum every line but the last (off by one) when there are several lines", "money"),
    Fault("refund-total-first-line", "a customer refund's total_amount is its first line's amount only", "money"),
    Fault("status-stale", "status is computed from the open amount before the application changed it", "money"),
    Fault("float-remaining", "open amounts (remaining_amount, amount_due) are computed in binary floating point", "money"),
    Fault("quantise-2dp", "amounts are formatted on the wire with two decimals, rounding away finer amounts", "money"),
    Fault("revert-keeps-remaining", "reverting a bill credit application removes the link but does not restore remaining_amount", "money"),
    Fault("revert-does-nothing", "reverting a bill credit application answers success but changes nothing", "money"),
    Fault("update-total-below-allocated", "an update may lower a memo's total below the amount already applied", "money"),
    Fault("update-remaining-reset", "an update with new line_items resets remaining_amount to the new total, forgetting applications", "money"),
    Fault("reapply-overwrites-link", "a second application to the same invoice or bill overwrites the earlier allocation instead of adding to it", "money"),
    Fault("linked-payment-wrong-type", "an invoice credit application is recorded on the invoice as an INVOICE_PAYMENT, not INVOICE_CREDIT_MEMO", "money"),
    # ------------------------------------------------------------------ state
    Fault("update-not-persisted", "an update answers the changed object but never saves it", "state"),
    Fault("update-drops-unsent-fields", "an update replaces the object: fields not sent become null (PUT semantics)", "state"),
    Fault("updated-at-not-moved", "an update keeps the old updated_at", "state"),
    Fault("delete-not-deleting", "a delete answers success but leaves the object in place", "state"),
    Fault("deleted-still-listed", "a delete hides the object from fetches but lists still show it (soft delete not filtered)", "state"),
    Fault("delete-with-applications", "a memo with applications can be deleted, losing the applied money", "state"),
    Fault("fetch-cached-by-route", "fetches are cached by route template, so a fetch can answer another object", "state"),
    Fault("unknown-id-placeholder", "a fetch of an unknown id answers 200 with a placeholder object instead of 404/410", "state"),
    Fault("idempotency-key-ignored", "the Idempotency-Key header is ignored: a replay creates a second object", "state"),
    Fault("idempotency-conflict-undetected", "a reused Idempotency-Key with a different body replays the first outcome instead of 409", "state"),
    Fault("async-job-never-finishes", "an async write runs but its job is never marked finished", "state"),
    # ----------------------------------------------------------------- queries
    Fault("limit-ignored", "limit is ignored: every page holds up to 50 objects", "queries"),
    Fault("cursor-from-first-row", "next_cursor is built from the page's first row, so paging repeats and loops", "queries"),
    Fault("pages-overlap", "the keyset comparison is inclusive: each page repeats the previous page's last object", "queries"),
    Fault("filter-ignored", "filter is parsed but never applied to the query", "queries"),
    Fault("filter-invalid-date-accepted", "a filter date that does not exist (2024-02-30) is rolled over to a real one instead of answered 400", "queries"),
    Fault("filter-gt-inclusive", "the > and < filter operators include the boundary (act as >= and <=)", "queries"),
    Fault("sort-direction-inverted", "sort ASC sorts descending and DESC ascending", "queries"),
    Fault("expand-ignored", "expand=platform_data is ignored: platform_data is never included", "queries"),
    Fault("id-type-ignored", "id_type=platform is ignored: the path id is always read as the Rutter id", "queries"),
    Fault("updated-at-min-ignored", "the deprecated updated_at_min / updated_at_max / last_synced_at_min are ignored", "queries"),
    # ---------------------------------------------------------------- security
    Fault("access-token-not-checked", "a missing or unknown access_token falls back to the default connection instead of 401", "security"),
    Fault("unicode-memo-500", "a memo outside Latin-1 (e.g. emoji, CJK) crashes the write with a 500", "security"),
    Fault("long-document-number-500", "a document_number longer than 21 characters crashes the write with a 500", "security"),
    Fault("bad-integer-param-500", "a non-integer integer query parameter (limit=abc) crashes with a 500 instead of 400", "security"),
    Fault("bad-cursor-500", "a cursor that is not valid base64 crashes with a 500 instead of 400", "security"),
    Fault("nonexistent-date-500", "a well-formed date that does not exist (2024-02-30) crashes with a 500 instead of 400", "security"),
    Fault("method-not-allowed-without-allow", "a 405 to a method the path does not have carries no Allow header (RFC 9110 §15.5.6 requires it)", "security"),
    Fault("malformed-json-500", "a request body that is not JSON crashes with a 500 instead of 400", "security"),
    # ------------------------------------------------------------------ subtle
    Fault("token-whitespace-trimmed", "the access_token is stripped of surrounding whitespace before it is looked up", "subtle"),
    Fault("token-prefix-accepted", "a token matches any stored token it is a prefix of (a LIKE 'token%' lookup)", "subtle"),
    Fault("token-truncated", "tokens are compared on their first 32 characters only (a fixed-width column)", "subtle"),
    Fault("updated-at-whole-seconds", "an update stamps updated_at to the whole second, so two updates within one second share it", "subtle"),
    Fault("bcm-update-keeps-updated-at", "an update of a bill credit memo keeps its old updated_at (invoice credit memos move it)", "subtle"),
    Fault("number-amounts-to-cents", "an amount sent as a JSON number is rounded to cents (decimal strings are kept exact)", "subtle"),
    Fault("amounts-int32-cents", "amounts are held as 32-bit cents: any amount above 21474836.47 is refused as out of range", "subtle"),
    Fault("exactly-used-up-stays-partial", "status becomes APPLIED / paid only below zero (a strict < where <= was meant): a memo used up exactly, or an invoice paid off exactly, keeps its partial status", "subtle"),
    Fault("several-targets-first-saved", "an application to several invoices saves the first invoice only; the others keep their amount_due", "subtle"),
    Fault("revert-keeps-paid-status", "reverting an application of a used-up bill credit memo restores remaining_amount but keeps status paid", "subtle"),
    Fault("used-up-memo-deletable", "the delete guard refuses only partly applied memos: a used-up memo can be deleted", "subtle"),
    Fault("idempotency-ignored-on-refunds", "customer refund creates ignore the Idempotency-Key (the refunds handler was written apart)", "subtle"),
    Fault("idempotency-ignored-on-applications", "the Idempotency-Key is honoured on document creates only: an application replayed with its key moves the money twice", "subtle"),
    Fault("expand-ignored-on-lists", "expand=platform_data is honoured on fetches but not on lists", "subtle"),
    Fault("update-ignores-issue-date", "an update silently leaves issue_date as it was (the field is missing from the update's column list)", "subtle"),
    Fault("invoice-update-ignores-account", "an invoice update ignores account_id (credit memo updates honour it)", "subtle"),
    Fault("ties-skipped-when-paging", "the keyset cursor compares the sort field only, so a page skips the rows that tie with its last one", "subtle"),
    Fault("idempotency-ignored-on-patch", "the Idempotency-Key is honoured on POST only: a PATCH replay or a reused key with another body applies again", "subtle"),
)

_BY_NAME: dict[str, Fault] = {fault.name: fault for fault in CATALOGUE}
_active: frozenset[str] = frozenset()


class UnknownFault(ValueError):
    """A fault name that is not in the catalogue; the message lists the names that are."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown fault {name!r}; known faults: {', '.join(names())}")
        self.name = name


def names() -> list[str]:
    """Every fault name, in catalogue order."""
    return [fault.name for fault in CATALOGUE]


def by_name(name: str) -> Fault:
    """The fault of this name; UnknownFault if there is none."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownFault(name) from None


def active(name: str) -> bool:
    """Whether the named fault is on in this process (a name outside the catalogue is a bug: KeyError)."""
    if name not in _BY_NAME:
        raise KeyError(f"fault {name!r} is not in the catalogue")
    return name in _active


def current() -> frozenset[str]:
    """The faults that are on."""
    return _active


def activate(chosen: Iterable[str]) -> None:
    """Turn on exactly these faults (validated first; nothing changes if one is unknown)."""
    global _active
    wanted = frozenset(chosen)
    for name in sorted(wanted):
        by_name(name)
    _active = wanted


def reset() -> None:
    """Turn every fault off."""
    activate(())


@contextmanager
def injected(*chosen: str) -> Iterator[None]:
    """Turn on these faults for the duration of a block (tests), then restore the previous set."""
    previous = _active
    activate(chosen)
    try:
        yield
    finally:
        activate(previous)
