"""Write semantics: echo, persist, delete, refuse over-applications, idempotency, async jobs, auth."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any

import pytest

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.client import ApiClient
from accounting_conformance.conformance.contract import component
from accounting_conformance.conformance.expect import amount, create, envelope, fetch, instant, listing, same, status_is
from accounting_conformance.conformance.failures import violation
from accounting_conformance.conformance.fixtures import Fixtures
from accounting_conformance.conformance.instants import instant_ns
from accounting_conformance.conformance.platforms import marked_operations, operation_id, require

from . import builders

pytestmark = pytest.mark.phase("writes")


ICM, BCM = kinds.MEMOS
ICM_APPLICATION, BCM_APPLICATION = kinds.application(ICM), kinds.application(BCM)
#: The kinds the contract lets a PATCH update.
UPDATABLE = tuple(kind.name for kind in kinds.KINDS if kind.update_schema)

#: How long a job may stay prequeued or pending before it is judged (the contract's adopted rule on AsynchronousJob).
JOB_PATIENCE = int(component("AsynchronousJob")["x-finishes-within-seconds"])


@pytest.fixture(autouse=True)
def _documented_for_the_platform(request: pytest.FixtureRequest, settings: Any) -> None:
    """Skip a test whose operations (its kind's create, those its `operations` marker names) the contract does not
    document for the target's platform."""
    kind = request.node.callspec.params.get("kind") if hasattr(request.node, "callspec") else None
    needed = [operation_id("create", kind)] if kind else []
    require(settings.platform, *needed, *marked_operations(request.node))


@pytest.mark.rules("WRITE-001")
@pytest.mark.parametrize("kind", kinds.NAMES)
def test_create_echoes_its_input_and_can_be_fetched(client: ApiClient, fixtures: Fixtures, tag: str, kind: str) -> None:
    body = getattr(builders, kind)(fixtures, tag, amounts=("10.25", "4.75"))
    created = create(client, kind, body)
    exchange, fetched = fetch(client, kind, created["id"], "WRITE-001")
    for field, sent in body[kind].items():
        if field != "line_items":
            same(client, exchange, "WRITE-001", f"{kind}.{field}", sent, fetched.get(field))
    same(client, exchange, "WRITE-001", f"{kind}.total_amount", Decimal("15.00"), amount(fetched.get("total_amount")))
    lines = fetched.get("line_items")
    same(client, exchange, "WRITE-001", f"{kind} line count", 2, len(lines) if isinstance(lines, list) else lines)


@pytest.mark.rules("WRITE-002")
@pytest.mark.parametrize("kind", UPDATABLE)
def test_update_persists_sent_fields_keeps_others_and_moves_updated_at(
    client: ApiClient, fixtures: Fixtures, tag: str, settings: Any, kind: str
) -> None:
    # "fields sent replace, fields left out persist, `updated_at` moves strictly forward" (info.description), on every
    # update of every kind; two updates in a row, so that a clock of whole seconds shows too
    require(settings.platform, operation_id("update", kind))
    body = getattr(builders, kind)(fixtures, tag)
    created = create(client, kind, body)
    before = instant(client, *fetch(client, kind, created["id"], "WRITE-002"), "updated_at", "WRITE-002")
    for turn in ("first", "second"):
        exchange = client.request("PATCH", kinds.get(kind).item(created["id"]), body={kind: {"memo": f"{turn} {tag}"}})
        status_is(client, exchange, (200,), "WRITE-002", "a valid update is accepted")
        exchange, fetched = fetch(client, kind, created["id"], "WRITE-002")
        same(client, exchange, "WRITE-002", f"{kind}.memo", f"{turn} {tag}", fetched.get("memo"))
        same(
            client,
            exchange,
            "WRITE-002",
            f"{kind}.document_number (not sent)",
            body[kind]["document_number"],
            fetched.get("document_number"),
        )
        after = instant(client, exchange, fetched, "updated_at", "WRITE-002")
        if not after > before:
            raise violation(
                "WRITE-002",
                expected=f"{kind}.updated_at strictly after {before} ns (before the {turn} update)",
                received=f"updated_at = {fetched.get('updated_at')} ({after} ns)",
                reproduction=exchange.reproduction(client.redactor),
            )
        before = after


#: The contract's bounds for a request amount ("Adopted rule: amount bounds", #/components/schemas/AmountInput).
LARGEST, SMALLEST = Decimal("999999999.9999"), Decimal("0.0001")


@pytest.mark.rules("MONEY-010")
@pytest.mark.parametrize(
    ("kind", "spelling"),
    [
        ("invoice_credit_memo", str),
        ("invoice_credit_memo", float),
        ("bill_credit_memo", float),
        ("bill_credit_memo", str),
    ],
)
def test_amounts_at_the_contracts_bounds_are_kept_exactly(
    client: ApiClient, fixtures: Fixtures, tag: str, kind: str, spelling: type
) -> None:
    # "Requests accept either spelling for every amount" and "amounts are exact decimals" (info.description)
    body = getattr(builders, kind)(fixtures, tag, amounts=(spelling(LARGEST), spelling(SMALLEST)))
    created = create(client, kind, body)
    exchange, fetched = fetch(client, kind, created["id"], "MONEY-010")
    for field in ("total_amount", "remaining_amount"):
        same(
            client,
            exchange,
            "MONEY-010",
            f"{kind}.{field} of lines {LARGEST} + {SMALLEST} sent as {spelling.__name__}",
            LARGEST + SMALLEST,
            amount(fetched.get(field)),
        )


@pytest.mark.rules("WRITE-003")
@pytest.mark.parametrize("kind", kinds.MEMOS)
def test_deleted_memo_is_unreachable_and_unlisted(client: ApiClient, fixtures: Fixtures, tag: str, kind: str) -> None:
    number = f"{tag}-del-{kind}"
    body = getattr(builders, kind)(fixtures, tag)
    body[kind]["document_number"] = number
    created = create(client, kind, body)
    status_is(
        client, client.request("DELETE", kinds.get(kind).item(created["id"])), (200,), "WRITE-003", "delete succeeds"
    )
    gone = client.request("GET", kinds.get(kind).item(created["id"]))
    status_is(client, gone, (404, 410), "WRITE-003", "a deleted object is gone")
    listed = client.request("GET", kinds.get(kind).path, params={"filter": f'document_number="{number}"'})
    page = listing(
        client,
        listed,
        status_is(client, listed, (200,), "WRITE-003", "the list answers"),
        kinds.get(kind).plural,
        "WRITE-003",
    )
    same(client, listed, "WRITE-003", "deleted object listed", [], [o["id"] for o in page])


def _unchanged(client: ApiClient, memo: dict[str, Any], inv: dict[str, Any]) -> None:
    exchange, after = fetch(client, "invoice_credit_memo", memo["id"], "APPLY-002")
    same(
        client,
        exchange,
        "APPLY-002",
        "remaining_amount after a refused application",
        amount(memo.get("remaining_amount")),
        amount(after.get("remaining_amount")),
    )
    exchange, after = fetch(client, "invoice", inv["id"], "APPLY-002")
    same(
        client,
        exchange,
        "APPLY-002",
        "amount_due after a refused application",
        amount(inv.get("amount_due")),
        amount(after.get("amount_due")),
    )


@pytest.mark.operations("createInvoice")
@pytest.mark.rules("APPLY-002")
@pytest.mark.parametrize("allocated", ["10.01", "0", "-1.00", 0])
def test_over_or_non_positive_application_is_rejected_and_changes_nothing(
    client: ApiClient, fixtures: Fixtures, tag: str, allocated: Any
) -> None:
    memo, inv = builders.memo_and_invoice(client, fixtures, tag, "10.00", "50.00")
    exchange = client.request(
        "POST", ICM_APPLICATION.path, body=builders.application(ICM, memo["id"], (inv["id"], allocated))
    )
    status_is(client, exchange, (400,), "APPLY-002", f"allocating {allocated} of a 10.00 memo is refused")
    _unchanged(client, memo, inv)


@pytest.mark.operations("createInvoice")
@pytest.mark.rules("APPLY-002")
def test_application_across_currencies_is_rejected(client: ApiClient, fixtures: Fixtures, tag: str) -> None:
    memo = create(client, "invoice_credit_memo", builders.invoice_credit_memo(fixtures, tag, currency="EUR"))
    inv = create(client, "invoice", builders.invoice(fixtures, tag))
    exchange = client.request(
        "POST", ICM_APPLICATION.path, body=builders.application(ICM, memo["id"], (inv["id"], "1.00"))
    )
    status_is(client, exchange, (400,), "APPLY-002", "an EUR memo cannot pay a USD invoice")
    _unchanged(client, memo, inv)


@pytest.mark.operations("createInvoice")
@pytest.mark.rules("APPLY-001")
def test_application_moves_money_on_both_sides(client: ApiClient, fixtures: Fixtures, tag: str) -> None:
    memo, inv = builders.memo_and_invoice(client, fixtures, tag, "10.00", "25.00")
    exchange = client.request(
        "POST", ICM_APPLICATION.path, body=builders.application(ICM, memo["id"], (inv["id"], 4.5))
    )
    status_is(client, exchange, (200,), "APPLY-001", "4.50 of a 10.00 memo fits a 25.00 invoice")
    exchange, after = fetch(client, "invoice_credit_memo", memo["id"], "APPLY-001")
    same(client, exchange, "APPLY-001", "memo remaining_amount", Decimal("5.5"), amount(after.get("remaining_amount")))
    same(client, exchange, "APPLY-001", "memo status", "PARTIALLY_APPLIED", after.get("status"))
    exchange, after = fetch(client, "invoice", inv["id"], "APPLY-001")
    same(client, exchange, "APPLY-001", "invoice amount_due", Decimal("20.5"), amount(after.get("amount_due")))
    same(client, exchange, "APPLY-001", "invoice status", "partially_paid", after.get("status"))


@pytest.mark.rules("APPLY-003")
def test_revert_restores_the_bill_credit_memo(client: ApiClient, fixtures: Fixtures, tag: str) -> None:
    body = builders.bill_credit_memo(fixtures, tag)
    memo = create(client, "bill_credit_memo", body)
    bill = fixtures.bills_for(body["bill_credit_memo"]["vendor_id"])[0]  # the vendor sent (the echo is WRITE-001's)
    exchange = client.request(
        "POST", BCM_APPLICATION.path, body=builders.application(BCM, memo["id"], (bill.id, "3.00"))
    )
    status_is(client, exchange, (200,), "APPLY-001", "3.00 of a 10.00 memo fits the bill")
    exchange = client.request("POST", kinds.revert(BCM).path, body=builders.unapplication(BCM, memo["id"], bill.id))
    status_is(client, exchange, (200,), "APPLY-003", "the application can be reverted")
    exchange, after = fetch(client, "bill_credit_memo", memo["id"], "APPLY-003")
    same(client, exchange, "APPLY-003", "remaining_amount", Decimal("10"), amount(after.get("remaining_amount")))
    same(client, exchange, "APPLY-003", "linked_bills", [], after.get("linked_bills"))
    same(client, exchange, "APPLY-003", "status", "open", after.get("status"))


@pytest.mark.rules("IDEM-001")
@pytest.mark.parametrize("kind", kinds.NAMES)
def test_idempotent_replay_returns_the_first_result_and_reuse_is_409(
    client: ApiClient, fixtures: Fixtures, tag: str, kind: str
) -> None:
    # "Idempotency-Key on POST and PATCH" (info.description): on the create of every kind
    key = {"Idempotency-Key": f"{tag}-{uuid.uuid4()}"}
    build = getattr(builders, kind)
    body = build(fixtures, tag)
    first = client.request("POST", kinds.get(kind).path, body=body, headers=key)
    created = envelope(
        client, first, status_is(client, first, (200,), "IDEM-001", "the first request is accepted"), kind, "IDEM-001"
    )
    again = client.request("POST", kinds.get(kind).path, body=body, headers=key)
    replayed = envelope(
        client,
        again,
        status_is(client, again, (200,), "IDEM-001", "the replay answers the first outcome"),
        kind,
        "IDEM-001",
    )
    same(client, again, "IDEM-001", f"replayed {kind} id", created["id"], replayed.get("id"))
    other = build(fixtures, tag, amounts=("99.00",))
    conflict = client.request("POST", kinds.get(kind).path, body=other, headers=key)
    status_is(client, conflict, (409,), "IDEM-001", "the same key with another body is refused")


@pytest.mark.rules("ASYNC-001")
def test_async_write_yields_a_job_whose_result_matches_the_sync_one(
    client: ApiClient, fixtures: Fixtures, tag: str
) -> None:
    body = {**builders.invoice_credit_memo(fixtures, tag, amounts=("7.00",)), "response_mode": "async"}
    exchange = client.request("POST", kinds.get(ICM).path, body=body)
    handle = envelope(
        client,
        exchange,
        status_is(client, exchange, (200,), "ASYNC-001", "an async write is accepted"),
        "async_response",
        "ASYNC-001",
    )
    deadline, polls = time.monotonic() + JOB_PATIENCE, 0
    while True:
        polled = client.request("GET", f"/jobs/{handle['id']}")
        job = status_is(client, polled, (200,), "ASYNC-001", "the job can be fetched")
        if not isinstance(job, dict):
            raise violation(
                "ASYNC-001",
                expected="a job object",
                received=repr(job)[:300],
                reproduction=polled.reproduction(client.redactor),
            )
        if job.get("status") in ("success", "partial_success", "failure") or time.monotonic() > deadline:
            break
        time.sleep(min(0.05 * 2**polls, 1.0))  # soon at first, then once a second
        polls += 1
    same(client, polled, "ASYNC-001", f"job status (within {JOB_PATIENCE} s)", "success", job.get("status"))
    response = job.get("response")
    result = response.get("body") if isinstance(response, dict) else None
    memo = envelope(client, polled, result, "invoice_credit_memo", "ASYNC-001")
    same(client, polled, "ASYNC-001", "job result total_amount", Decimal("7"), amount(memo.get("total_amount")))
    fetch(client, "invoice_credit_memo", memo["id"], "ASYNC-001")


@pytest.mark.rules("AUTH-001")
@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_missing_or_unknown_access_token_is_401(client: ApiClient, token: str | None) -> None:
    # where the run's token goes (the query, or the Authorization header with TOKEN_IN=bearer): none, or a wrong one
    exchange = client.request("GET", kinds.get("invoice").path, token=token)
    status_is(client, exchange, (401,), "AUTH-001", "the token is missing or unknown")


#: Tokens one edit away from the run's own: none of them is the token, so each is unknown ("A missing or unknown
#: access_token is answered 401", #/components/parameters/AccessToken).
NEAR_MISSES = {
    "prefix": lambda t: t[:-1],
    "suffix": lambda t: t + "0",
    "case": lambda t: t.swapcase(),
    "trailing whitespace": lambda t: t + " ",
    "leading whitespace": lambda t: " " + t,
    "inner tab": lambda t: t[:1] + "\t" + t[1:],
}
#: In a header, whitespace around a value is not part of it (RFC 9110 §5.5) and `Bearer` may be followed by several
#: spaces (RFC 6750 §2.1): these near misses are the token itself there.
NOT_MISSES_IN_A_HEADER = ("trailing whitespace", "leading whitespace")


@pytest.mark.rules("AUTH-001")
@pytest.mark.parametrize("miss", list(NEAR_MISSES))
def test_a_token_one_edit_away_from_the_real_one_is_401(client: ApiClient, miss: str) -> None:
    if client.bearer and miss in NOT_MISSES_IN_A_HEADER:
        pytest.skip(f"in an Authorization header (TOKEN_IN=bearer) the {miss} variant is the token itself")
    token = NEAR_MISSES[miss](client.token)
    if not token or token == client.token:
        pytest.skip(f"the run's token has no {miss} variant that differs from it")
    exchange = client.request("GET", kinds.get("invoice").path, token=token)
    status_is(client, exchange, (401,), "AUTH-001", f"the token's {miss} near miss is not the token")


@pytest.mark.rules("IDEM-001")
def test_idempotent_patch_replays_and_reuse_with_another_body_is_409(
    client: ApiClient, fixtures: Fixtures, tag: str, settings: Any
) -> None:
    require(settings.platform, "createInvoiceCreditMemo", "updateInvoiceCreditMemo")
    created = create(client, "invoice_credit_memo", builders.invoice_credit_memo(fixtures, tag))
    path, key = kinds.get(ICM).item(created["id"]), {"Idempotency-Key": f"{tag}-{uuid.uuid4()}"}
    body = {"invoice_credit_memo": {"memo": f"first {tag}"}}
    status_is(
        client,
        client.request("PATCH", path, body=body, headers=key),
        (200,),
        "IDEM-001",
        "the first update is accepted",
    )
    again = client.request("PATCH", path, body=body, headers=key)
    replayed = envelope(
        client,
        again,
        status_is(client, again, (200,), "IDEM-001", "the replay answers the first outcome"),
        "invoice_credit_memo",
        "IDEM-001",
    )
    same(client, again, "IDEM-001", "replayed memo", f"first {tag}", replayed.get("memo"))
    other = client.request("PATCH", path, body={"invoice_credit_memo": {"memo": f"second {tag}"}}, headers=key)
    status_is(
        client,
        other,
        (409,),
        "IDEM-001",
        "the same key with another body is refused (Idempotency-Key on POST and PATCH)",
    )
    exchange, after = fetch(client, "invoice_credit_memo", created["id"], "IDEM-001")
    same(client, exchange, "IDEM-001", "memo after a refused reuse of the key", f"first {tag}", after.get("memo"))


@pytest.mark.operations("createInvoice")
@pytest.mark.rules("WRITE-003")
def test_memo_with_applications_cannot_be_deleted(client: ApiClient, fixtures: Fixtures, tag: str) -> None:
    memo, inv = builders.memo_and_invoice(client, fixtures, tag, "10.00", "25.00")
    exchange = client.request(
        "POST", ICM_APPLICATION.path, body=builders.application(ICM, memo["id"], (inv["id"], "2.00"))
    )
    status_is(client, exchange, (200,), "APPLY-001", "2.00 of a 10.00 memo fits a 25.00 invoice")
    refused = client.request("DELETE", kinds.get(ICM).item(memo["id"]))
    status_is(client, refused, (400,), "WRITE-003", "a memo with applications is not deleted")
    exchange, after = fetch(client, "invoice_credit_memo", memo["id"], "WRITE-003")
    same(
        client,
        exchange,
        "WRITE-003",
        "remaining_amount after a refused delete",
        Decimal("8"),
        amount(after.get("remaining_amount")),
    )


_INSTANTS = ("issue_date", "due_date")


def _new_values(kind: str, fixtures: Fixtures, tag: str, current: dict[str, Any]) -> dict[str, Any]:
    """A new, valid value for every field of the kind's update schema: another party and account, in another currency."""
    party = "vendor_id" if kind == "bill_credit_memo" else "customer_id"
    parties = fixtures.vendors("EUR") if party == "vendor_id" else fixtures.customers("EUR")
    usual = "accounts_payable" if kind == "bill_credit_memo" else "accounts_receivable"
    accounts = [a.id for a in (*fixtures.accounts_of(usual), *fixtures.accounts) if a.id != current.get("account_id")]
    known = {
        party: parties[0].id if parties else None,
        "currency_code": "EUR",
        "account_id": accounts[0] if accounts else None,
        "issue_date": "2024-05-06T07:08:09.000Z",
        "due_date": "2024-06-07T00:00:00.000Z",
        "document_number": f"{tag}-patched",
        "memo": f"patched {tag}",
        "line_items": [{"total_amount": "7.25", "description": f"patched {tag}"}],
    }
    fields = component(str(kinds.get(kind).update_schema)).get("properties", {})
    return {f: known[f] if f in known else f"patched {tag}" for f in fields if known.get(f, "") is not None}


@pytest.mark.rules("WRITE-002")
@pytest.mark.parametrize("kind", UPDATABLE)
def test_every_field_an_update_may_send_is_persisted(
    client: ApiClient, fixtures: Fixtures, tag: str, settings: Any, kind: str
) -> None:
    # "update is PATCH, every field optional: fields sent replace" (info.description), for each field of the update schema
    require(settings.platform, operation_id("update", kind))
    created = create(client, kind, getattr(builders, kind)(fixtures, tag))
    sent = _new_values(kind, fixtures, tag, created)
    exchange = client.request("PATCH", kinds.get(kind).item(created["id"]), body={kind: sent})
    status_is(client, exchange, (200,), "WRITE-002", "an update of every field, to valid values, is accepted")
    exchange, fetched = fetch(client, kind, created["id"], "WRITE-002")
    for field, value in sent.items():
        if field == "line_items":
            lines = fetched.get("line_items")
            same(
                client,
                exchange,
                "WRITE-002",
                f"{kind}.line_items count",
                1,
                len(lines) if isinstance(lines, list) else lines,
            )
            same(
                client,
                exchange,
                "WRITE-002",
                f"{kind}.total_amount",
                Decimal("7.25"),
                amount(fetched.get("total_amount")),
            )
        elif field in _INSTANTS:
            same(
                client,
                exchange,
                "WRITE-002",
                f"{kind}.{field} as ns since the epoch (sent {value})",
                instant_ns(value),
                instant(client, exchange, fetched, field, "WRITE-002"),
            )
        else:
            same(client, exchange, "WRITE-002", f"{kind}.{field}", value, fetched.get(field))
