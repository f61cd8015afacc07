"""Restarting the server on the same --db changes nothing a client can see."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.unit.server.conftest import (
    BILL,
    PLURAL,
    Server,
    api_client,
    application_body,
    assert_error,
    bill_memo_body,
    create,
    invoice_body,
    memo_body,
    refund_body,
)

pytestmark = pytest.mark.slow
APPLY = "/accounting/invoice_credit_applications"
Request = tuple[str, str, dict[str, Any]]
# Date is written by uvicorn per second, not by the app; the request id is new on every response by design.
VOLATILE = {"x-rutter-request-id", "date"}


def bill_application(memo_id: str, amount: str) -> dict[str, Any]:
    """The body of a bill credit application of `amount` to the seeded BILL."""
    return {
        "bill_credit_application": {
            "bill_credit_memo_id": memo_id,
            "linked_bills": [{"id": BILL, "allocated_amount": amount}],
        }
    }


def ok(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a response that must be 200."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def populate(http: httpx.Client) -> list[Request]:
    """One object of each resource, applications, a revert, an update, a delete, an async job; the reads to compare."""
    memo, invoice = create(http, "invoice_credit_memo", memo_body()), create(http, "invoice", invoice_body())
    key, apply = str(uuid.uuid4()), application_body(memo["id"], invoice["id"], "30.00")
    ok(http.post(APPLY, json=apply, headers={"Idempotency-Key": key}))
    ok(http.patch(f"/accounting/invoice_credit_memos/{memo['id']}", json={"invoice_credit_memo": {"memo": "updated"}}))
    bill_memo, reverted = (
        create(http, "bill_credit_memo", bill_memo_body()),
        create(http, "bill_credit_memo", bill_memo_body()),
    )
    ok(http.post("/accounting/bill_credit_applications", json=bill_application(bill_memo["id"], "40")))
    ok(http.post("/accounting/bill_credit_applications", json=bill_application(reverted["id"], "25")))
    ok(
        http.post(
            "/accounting/bill_credit_applications/unapply",
            json={"bill_credit_unapplication": {"bill_credit_memo_id": reverted["id"], "bill_id": BILL}},
        )
    )
    refund = create(http, "customer_refund", refund_body())
    deleted = create(http, "invoice_credit_memo", memo_body())
    ok(http.delete(f"/accounting/invoice_credit_memos/{deleted['id']}"))
    job = ok(http.post("/accounting/invoices", json={**invoice_body(), "response_mode": "async"}))["async_response"]
    deadline = time.monotonic() + 15
    while ok(http.get(job["response_url"]))["status"] != "success":
        assert time.monotonic() < deadline, "async job did not finish"
        time.sleep(0.05)
    objects = [
        ("invoice_credit_memo", memo["id"]),
        ("invoice", invoice["id"]),
        ("bill_credit_memo", bill_memo["id"]),
        ("bill_credit_memo", reverted["id"]),
        ("customer_refund", refund["id"]),
    ]
    reads: list[Request] = [
        ("GET", f"/accounting/{PLURAL[k]}/{i}", {"params": {"expand": "platform_data"}}) for k, i in objects
    ]
    reads += [("GET", f"/accounting/{PLURAL[k]}", {"params": {"limit": "500"}}) for k in PLURAL]
    reads += [
        ("GET", f"/accounting/invoice_credit_memos/{memo['platform_id']}", {"params": {"id_type": "platform"}}),
        ("GET", f"/accounting/invoice_credit_memos/{deleted['id']}", {}),
        ("GET", job["response_url"], {}),
        ("POST", APPLY, {"json": apply, "headers": {"Idempotency-Key": key}}),
    ]  # a replay: the stored outcome
    return reads


def observe(http: httpx.Client, reads: list[Request]) -> list[tuple[int, dict[str, str], bytes]]:
    """Status, headers (less the volatile ones) and exact body bytes of every read."""
    seen = []
    for method, path, options in reads:
        response = http.request(method, path, **options)
        seen.append(
            (response.status_code, {k: v for k, v in response.headers.items() if k not in VOLATILE}, response.content)
        )
    return seen


def test_a_restarted_server_answers_every_read_byte_for_byte_as_before(
    server_factory: Callable[[Path], Server], tmp_path: Path
) -> None:
    db = tmp_path / "persist.db"
    first = server_factory(db)
    with api_client(first) as http:
        reads = populate(http)
        before = observe(http, reads)
    first.stop()
    assert first.process.returncode is not None
    with api_client(server_factory(db)) as http:
        after = observe(http, reads)
        assert [s for s, _, _ in before] == [200] * 10 + [404, 200, 200]
        for read, old, new in zip(reads, before, after, strict=True):
            assert new == old, read
        memo_id = reads[0][1].rsplit("/", 1)[1]
        invoice_id = reads[1][1].rsplit("/", 1)[1]
        assert_error(http.post(APPLY, json=application_body(memo_id, invoice_id, "70.01")), 400, "OVER_APPLICATION")
