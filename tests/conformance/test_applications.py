"""Application rules beyond one call: shares above a target's due, repeated applications, links, updates after one."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.client import ApiClient
from accounting_conformance.conformance.expect import amount, create, fetch, links_of, payments_of, same, status_is
from accounting_conformance.conformance.fixtures import Fixtures
from accounting_conformance.conformance.platforms import marked_operations, operation_id, require

from . import builders

pytestmark = pytest.mark.phase("applications")

MEMOS = kinds.MEMOS
ICM, BCM = MEMOS


def _updating(memos: tuple[str, ...]) -> list[Any]:
    """The memo kinds as parameters, each marked as needing its kind's update."""
    return [pytest.param(kind, marks=pytest.mark.operations(operation_id("update", kind))) for kind in memos]


@pytest.fixture(autouse=True)
def _documented_for_the_platform(request: pytest.FixtureRequest, settings: Any) -> None:
    """Skip a test whose memo kind, what it applies to, or the operations its `operations` marker names, the contract
    does not document for the target's platform."""
    kind = request.node.callspec.params.get("kind", MEMOS[0]) if hasattr(request.node, "callspec") else MEMOS[0]
    applied = kinds.application(kind)
    needed = [
        operation_id("create", kind),
        *([operation_id("create", applied.target)] if applied.target else []),
        applied.operation,
    ]
    require(settings.platform, *needed, *marked_operations(request.node))


def _memo_and_target(
    client: ApiClient, fixtures: Fixtures, tag: str, kind: str, memo: str
) -> tuple[dict[str, Any], str]:
    """A memo of one line `memo` and what it can pay: a new 25.00 invoice, or the vendor's first fixture bill."""
    if kind == "invoice_credit_memo":
        created, invoice = builders.memo_and_invoice(client, fixtures, tag, memo, "25.00")
        return created, invoice["id"]
    body = builders.bill_credit_memo(fixtures, tag, amounts=(memo,))
    created = create(client, kind, body)
    return created, fixtures.bills_for(body[kind]["vendor_id"])[0].id  # the vendor sent (the echo is WRITE-001's)


def _apply(client: ApiClient, kind: str, memo: dict[str, Any], target: str, value: str, rule: str, why: str) -> None:
    exchange = client.request(
        "POST", kinds.application(kind).path, body=builders.application(kind, memo["id"], (target, value))
    )
    status_is(client, exchange, (200,), rule, why)


@pytest.mark.rules("APPLY-002")
def test_share_above_the_invoices_amount_due_is_rejected_and_changes_nothing(
    client: ApiClient, fixtures: Fixtures, tag: str
) -> None:
    memo, inv = builders.memo_and_invoice(client, fixtures, tag, "50.00", "20.00")
    exchange = client.request(
        "POST", kinds.application(ICM).path, body=builders.application(ICM, memo["id"], (inv["id"], "20.01"))
    )
    status_is(client, exchange, (400,), "APPLY-002", "20.01 is more than the invoice's amount_due of 20.00")
    exchange, after = fetch(client, "invoice", inv["id"], "APPLY-002")
    same(
        client,
        exchange,
        "APPLY-002",
        "amount_due after a refused application",
        Decimal("20"),
        amount(after.get("amount_due")),
    )
    exchange, after = fetch(client, "invoice_credit_memo", memo["id"], "APPLY-002")
    same(
        client,
        exchange,
        "APPLY-002",
        "remaining_amount after a refused application",
        Decimal("50"),
        amount(after.get("remaining_amount")),
    )


@pytest.mark.rules("APPLY-002")
@pytest.mark.parametrize("allocated", ["10.01", "0", "-1.00"])
def test_bill_credit_over_or_non_positive_application_is_rejected_and_changes_nothing(
    client: ApiClient, fixtures: Fixtures, tag: str, allocated: str
) -> None:
    memo, bill = _memo_and_target(client, fixtures, tag, "bill_credit_memo", "10.00")
    exchange = client.request(
        "POST", kinds.application(BCM).path, body=builders.application(BCM, memo["id"], (bill, allocated))
    )
    status_is(client, exchange, (400,), "APPLY-002", f"allocating {allocated} of a 10.00 bill credit memo is refused")
    exchange, after = fetch(client, "bill_credit_memo", memo["id"], "APPLY-002")
    same(
        client,
        exchange,
        "APPLY-002",
        "remaining_amount after a refused application",
        Decimal("10"),
        amount(after.get("remaining_amount")),
    )
    same(
        client,
        exchange,
        "APPLY-002",
        "linked_bills after a refused application",
        {},
        links_of(after, "bill_credit_memo"),
    )


@pytest.mark.rules("APPLY-001")
@pytest.mark.parametrize("kind", MEMOS)
def test_second_application_to_the_same_target_adds_to_the_first(
    client: ApiClient, fixtures: Fixtures, tag: str, kind: str
) -> None:
    memo, target = _memo_and_target(client, fixtures, tag, kind, "10.00")
    _apply(client, kind, memo, target, "2.00", "APPLY-001", "2.00 of a 10.00 memo fits its target")
    _apply(client, kind, memo, target, "3.00", "APPLY-001", "3.00 more of the memo fits the same target")
    exchange, after = fetch(client, kind, memo["id"], "APPLY-001")
    same(client, exchange, "APPLY-001", "memo remaining_amount", Decimal("5"), amount(after.get("remaining_amount")))
    same(client, exchange, "APPLY-001", "memo links, summed per target", {target: Decimal("5")}, links_of(after, kind))
    if kind == "invoice_credit_memo":
        exchange, invoice = fetch(client, "invoice", target, "APPLY-001")
        same(client, exchange, "APPLY-001", "invoice amount_due", Decimal("20"), amount(invoice.get("amount_due")))
        same(
            client,
            exchange,
            "APPLY-001",
            "invoice linked_payments of type INVOICE_CREDIT_MEMO, summed per memo",
            {memo["id"]: Decimal("5")},
            payments_of(invoice),
        )


def _applied_then_relined(
    client: ApiClient, fixtures: Fixtures, tag: str, kind: str, applied: str, new_total: str, status: int, why: str
) -> tuple[Any, dict[str, Any]]:
    """A 10.00 memo with `applied` of it applied, then PATCHed to one line of `new_total`; the memo as fetched after."""
    memo, target = _memo_and_target(client, fixtures, tag, kind, "10.00")
    _apply(client, kind, memo, target, applied, "APPLY-001", f"{applied} of a 10.00 memo fits its target")
    exchange = client.request(
        "PATCH",
        kinds.get(kind).item(memo["id"]),
        body={kind: {"line_items": [{"total_amount": new_total, "description": "new"}]}},
    )
    status_is(client, exchange, (status,), "APPLY-004", why)
    return fetch(client, kind, memo["id"], "APPLY-004")


@pytest.mark.rules("APPLY-004")
@pytest.mark.parametrize("kind", _updating(MEMOS))
def test_new_lines_keep_the_applied_money(client: ApiClient, fixtures: Fixtures, tag: str, kind: str) -> None:
    exchange, after = _applied_then_relined(
        client, fixtures, tag, kind, "4.00", "8.00", 200, "a total of 8.00 is above the 4.00 applied"
    )
    same(client, exchange, "APPLY-004", "total_amount", Decimal("8"), amount(after.get("total_amount")))
    same(
        client,
        exchange,
        "APPLY-004",
        "remaining_amount (8.00 total - 4.00 applied)",
        Decimal("4"),
        amount(after.get("remaining_amount")),
    )
    same(client, exchange, "APPLY-004", "status", kinds.statuses(kind)[1], after.get("status"))


@pytest.mark.rules("APPLY-004")
@pytest.mark.parametrize("kind", _updating(MEMOS))
def test_total_below_the_applied_amount_is_rejected_and_changes_nothing(
    client: ApiClient, fixtures: Fixtures, tag: str, kind: str
) -> None:
    exchange, after = _applied_then_relined(
        client, fixtures, tag, kind, "6.00", "5.00", 400, "a total of 5.00 is below the 6.00 already applied"
    )
    same(
        client,
        exchange,
        "APPLY-004",
        "total_amount after a refused update",
        Decimal("10"),
        amount(after.get("total_amount")),
    )
    same(
        client,
        exchange,
        "APPLY-004",
        "remaining_amount after a refused update",
        Decimal("4"),
        amount(after.get("remaining_amount")),
    )


@pytest.mark.rules("IDEM-001")
def test_an_application_replayed_with_its_idempotency_key_moves_the_money_once(
    client: ApiClient, fixtures: Fixtures, tag: str
) -> None:
    # "Idempotency-Key on POST and PATCH: the first accepted request's outcome is stored and replayed" (info.description)
    memo, invoice = builders.memo_and_invoice(client, fixtures, tag, "10.00", "25.00")
    key = {"Idempotency-Key": f"{tag}-{uuid.uuid4()}"}
    body = builders.application(ICM, memo["id"], (invoice["id"], "3.00"))
    for turn in ("first", "replayed"):
        exchange = client.request("POST", kinds.application(ICM).path, body=body, headers=key)
        status_is(client, exchange, (200,), "IDEM-001", f"the {turn} application answers the first outcome")
    other = client.request(
        "POST",
        kinds.application(ICM).path,
        headers=key,
        body=builders.application(ICM, memo["id"], (invoice["id"], "4.00")),
    )
    status_is(client, other, (409,), "IDEM-001", "the same key with another body is refused")
    exchange, after = fetch(client, "invoice_credit_memo", memo["id"], "IDEM-001")
    same(
        client,
        exchange,
        "IDEM-001",
        "memo remaining_amount after one application sent twice with one key",
        Decimal("7"),
        amount(after.get("remaining_amount")),
    )
    exchange, after = fetch(client, "invoice", invoice["id"], "IDEM-001")
    same(
        client,
        exchange,
        "IDEM-001",
        "invoice amount_due after one application sent twice with one key",
        Decimal("22"),
        amount(after.get("amount_due")),
    )
