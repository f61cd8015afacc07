"""Concurrent writes against the real server over a file database: the amount rules hold under races."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.unit.server.conftest import Server, api_client, application_body, create, fetch, invoice_body, memo_body

pytestmark = pytest.mark.slow
APPLY = "/accounting/invoice_credit_applications"


@pytest.fixture
def http(server_factory: Callable[[Path], Server], tmp_path: Path) -> Iterator[httpx.Client]:
    """A client with room for 50 parallel connections on a fresh server over a file database."""
    server = server_factory(tmp_path / "concurrency.db")
    with api_client(server, limits=httpx.Limits(max_connections=64, max_keepalive_connections=64)) as client:
        yield client


def fire(
    http: httpx.Client, body: dict[str, object], times: int, headers: dict[str, str] | None = None
) -> list[httpx.Response]:
    """POST the same application `times` times at once (all threads released together)."""
    barrier = threading.Barrier(times)

    def one(_: int) -> httpx.Response:
        barrier.wait(timeout=30)
        return http.post(APPLY, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(one, range(times)))


def test_fifty_parallel_applications_of_30_on_a_memo_of_100_succeed_exactly_three_times(http: httpx.Client) -> None:
    memo = create(http, "invoice_credit_memo", memo_body("100.00"))
    invoice = create(http, "invoice", invoice_body("1000.00"))
    responses = fire(http, application_body(memo["id"], invoice["id"], "30.00"), 50)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 3 + [400] * 47, [r.text for r in responses if r.status_code not in (200, 400)]
    assert {r.json()["error_code"] for r in responses if r.status_code == 400} == {"OVER_APPLICATION"}
    memo_after, invoice_after = fetch(http, "invoice_credit_memo", memo["id"]), fetch(http, "invoice", invoice["id"])
    assert Decimal(memo_after["remaining_amount"]) == 10
    assert sum(Decimal(link["allocated_amount"]) for link in memo_after["linked_invoices"]) == 90
    assert Decimal(invoice_after["amount_due"]) == 910
    assert sum(Decimal(p["amount"]) for p in invoice_after["linked_payments"]) == 90
    assert (memo_after["status"], invoice_after["status"]) == ("PARTIALLY_APPLIED", "partially_paid")


def test_twenty_parallel_requests_with_one_idempotency_key_move_money_once(http: httpx.Client) -> None:
    memo = create(http, "invoice_credit_memo", memo_body("100.00"))
    invoice = create(http, "invoice", invoice_body("1000.00"))
    body = application_body(memo["id"], invoice["id"], "30.00")
    responses = fire(http, body, 20, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1
    assert Decimal(fetch(http, "invoice_credit_memo", memo["id"])["remaining_amount"]) == 70
    assert Decimal(fetch(http, "invoice", invoice["id"])["amount_due"]) == 970
