"""SIGKILL in the middle of a write stream: after a restart every acknowledged write is there, none is half-applied."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.unit.server.conftest import PLURAL, Server, api_client, application_body, create, invoice_body, memo_body

pytestmark = pytest.mark.slow
APPLY = "/accounting/invoice_credit_applications"
WRITERS, MEMOS, INVOICES = 6, 4, 3
FIGURES_ENV = (
    "RELIABILITY_FIGURES"  # when set: a file each run appends its figures to, one JSON line (for make reliability)
)
Pair = tuple[str, str]


@dataclass
class Sent:
    """One write of the stream and what the client knows of its outcome."""

    kind: str  # "apply" | "invoice_credit_memo" | "invoice"
    body: dict[str, Any]
    key: str
    outcome: str = "unknown"  # "ok" (200) | "rejected" (4xx) | "server_error" | "unknown" (no answer: cut by the kill)
    response: httpx.Response | None = None


@dataclass
class Stream:
    """Everything the writer threads sent."""

    sent: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: threading.Event = field(default_factory=threading.Event)  # set on the first 200


def cents(rng: random.Random) -> str:
    """A small amount between 0.01 and 2.50."""
    value = rng.randint(1, 250)
    return f"{value // 100}.{value % 100:02d}"


def writer(server: Server, stream: Stream, pairs: list[Pair], seed: int, stop: threading.Event) -> None:
    """Send applications (mostly) and creates until stopped or the connection dies; at most one write in flight."""
    rng, deadline = random.Random(seed), time.monotonic() + 30
    with api_client(server) as http:
        while not stop.is_set() and time.monotonic() < deadline:
            roll = rng.random()
            if roll < 0.8:
                memo_id, invoice_id = rng.choice(pairs)
                item = Sent("apply", application_body(memo_id, invoice_id, cents(rng)), str(uuid.uuid4()))
            else:
                kind = "invoice_credit_memo" if roll < 0.9 else "invoice"
                item = Sent(
                    kind,
                    memo_body("50.00") if kind == "invoice_credit_memo" else invoice_body("500.00"),
                    str(uuid.uuid4()),
                )
            with stream.lock:
                stream.sent.append(item)
            path = APPLY if item.kind == "apply" else f"/accounting/{PLURAL[item.kind]}"
            try:
                item.response = http.post(path, json=item.body, headers={"Idempotency-Key": item.key})
            except httpx.TransportError:
                return
            status = item.response.status_code
            item.outcome = "ok" if status == 200 else "rejected" if status < 500 else "server_error"
            if status == 200:
                stream.acknowledged.set()


def list_all(http: httpx.Client, kind: str) -> list[dict[str, Any]]:
    """Every object of `kind`, all pages."""
    params: dict[str, str] = {"limit": "500"}
    found: list[dict[str, Any]] = []
    for _ in range(1000):
        page = http.get(f"/accounting/{PLURAL[kind]}", params=params)
        assert page.status_code == 200, page.text
        found += page.json()[PLURAL[kind]]
        if not page.json().get("next_cursor"):
            return found
        params["cursor"] = page.json()["next_cursor"]
    raise AssertionError(f"more than 1000 pages of {kind}")


def ledger(http: httpx.Client) -> tuple[dict[Pair, Decimal], dict[Pair, Decimal], set[str]]:
    """Memo-side links, invoice-side credit-memo payments, and the ids of objects whose own balance is wrong."""
    memo_side: dict[Pair, Decimal] = {}
    invoice_side: dict[Pair, Decimal] = {}
    wrong: set[str] = set()
    for memo in list_all(http, "invoice_credit_memo"):
        links = {(memo["id"], link["id"]): Decimal(link["allocated_amount"]) for link in memo["linked_invoices"]}
        if Decimal(memo["remaining_amount"]) != Decimal(memo["total_amount"]) - sum(links.values(), Decimal(0)):
            wrong.add(memo["id"])
        memo_side.update(links)
    for invoice in list_all(http, "invoice"):
        payments = [(p["id"], p.get("type"), Decimal(p["amount"])) for p in invoice["linked_payments"]]
        if Decimal(invoice["amount_due"]) != Decimal(invoice["total_amount"]) - sum(
            (a for _, _, a in payments), Decimal(0)
        ):
            wrong.add(invoice["id"])
        invoice_side.update({(m, invoice["id"]): a for m, kind, a in payments if kind == "INVOICE_CREDIT_MEMO"})
    return memo_side, invoice_side, wrong


def subset_sums(amounts: list[Decimal]) -> set[Decimal]:
    """Every sum of a subset of `amounts` (at most one in-flight write per writer, so few)."""
    sums = {Decimal(0)}
    for amount in amounts:
        sums |= {s + amount for s in sums}
    return sums


def pair_of(item: Sent) -> Pair:
    """The (memo, invoice) an application moves money between."""
    body = item.body["invoice_credit_application"]
    return body["invoice_credit_memo_id"], body["linked_invoices"][0]["id"]


def amount_of(item: Sent) -> Decimal:
    """The amount an application moves."""
    return Decimal(item.body["invoice_credit_application"]["linked_invoices"][0]["allocated_amount"])


def lost_writes(http: httpx.Client, stream: Stream, memo_side: dict[Pair, Decimal]) -> set[int]:
    """Acknowledged writes not all there after the restart (by `id()` of their `Sent`).

    An application is there when its pair's link is the acknowledged sum plus some of the in-flight ones; a create
    when its object is found; both when a replay under the same Idempotency-Key answers the very same response.
    """
    lost: set[int] = set()
    applications = [s for s in stream.sent if s.kind == "apply"]
    for pair in {pair_of(s) for s in applications}:
        mine = [s for s in applications if pair_of(s) == pair]
        acked = sum((amount_of(s) for s in mine if s.outcome == "ok"), Decimal(0))
        if memo_side.get(pair, Decimal(0)) - acked not in subset_sums(
            [amount_of(s) for s in mine if s.outcome == "unknown"]
        ):
            lost |= {id(s) for s in mine if s.outcome == "ok"}
    for item in (s for s in stream.sent if s.outcome == "ok"):
        assert item.response is not None
        if item.kind != "apply":
            created = item.response.json()[item.kind]
            found = http.get(f"/accounting/{PLURAL[item.kind]}/{created['id']}")
            if found.status_code != 200 or found.json()[item.kind]["document_number"] != created["document_number"]:
                lost.add(id(item))
        path = APPLY if item.kind == "apply" else f"/accounting/{PLURAL[item.kind]}"
        again = http.post(path, json=item.body, headers={"Idempotency-Key": item.key})
        if (again.status_code, again.content) != (200, item.response.content):
            lost.add(id(item))
    return lost


def stream_then_kill(server: Server, pairs: list[Pair], kill_after: float) -> Stream:
    """Run the writers, SIGKILL the server `kill_after` seconds after the first 200, wait for every writer to notice."""
    stream, stop = Stream(), threading.Event()
    threads = [
        threading.Thread(target=writer, args=(server, stream, pairs, n, stop), daemon=True) for n in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    stream.acknowledged.wait(timeout=30)
    time.sleep(kill_after)
    os.kill(server.process.pid, signal.SIGKILL)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a writer did not stop after the kill"
    assert server.process.wait(timeout=10) == -signal.SIGKILL
    return stream


def record(figures: dict[str, Any]) -> None:
    """Append this run's figures to the file named by RELIABILITY_FIGURES, if any."""
    target = os.environ.get(FIGURES_ENV)
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps(figures) + "\n")


@pytest.mark.parametrize("kill_after", [0.5, 0.75, 1.0])
def test_a_server_killed_mid_stream_restarts_with_every_acknowledged_write_and_no_half_applied_application(
    server_factory: Callable[[Path], Server], tmp_path: Path, kill_after: float
) -> None:
    db = tmp_path / "crash.db"
    first = server_factory(db)
    with api_client(first) as http:
        memos = [create(http, "invoice_credit_memo", memo_body("100.00"))["id"] for _ in range(MEMOS)]
        invoices = [create(http, "invoice", invoice_body("1000.00"))["id"] for _ in range(INVOICES)]
    stream = stream_then_kill(first, [(m, i) for m in memos for i in invoices], kill_after)
    with api_client(server_factory(db)) as http:
        memo_side, invoice_side, wrong = ledger(http)
        lost = lost_writes(http, stream, memo_side)  # replays acknowledged writes: they must move nothing
        replayed = ledger(http)[0]
    half_applied = {p for p in memo_side.keys() | invoice_side.keys() if memo_side.get(p) != invoice_side.get(p)}
    inconsistent = wrong | {object_id for pair in half_applied for object_id in pair}
    acked = [s for s in stream.sent if s.outcome == "ok"]
    figures = {
        "kill_after": kill_after,
        "sent": len(stream.sent),
        "acknowledged": len(acked),
        "acknowledged_applications": sum(s.kind == "apply" for s in acked),
        "rejected": sum(s.outcome == "rejected" for s in stream.sent),
        "in_flight": sum(s.outcome == "unknown" for s in stream.sent),
        "lost": len(lost),
        "inconsistent": len(inconsistent),
    }
    record(figures)
    assert figures["acknowledged_applications"] > 0, figures
    assert not [s.response.text for s in stream.sent if s.outcome == "server_error" and s.response is not None]
    assert not inconsistent, (figures, sorted(wrong), sorted(half_applied))
    assert len(lost) == 0, figures
    assert replayed == memo_side, "a replay of an acknowledged application moved money again"
