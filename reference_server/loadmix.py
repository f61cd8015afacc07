"""`python -m reference_server.loadmix`: a bounded mixed workload against the reference server, on loopback only.

Starts the server as a subprocess on a free 127.0.0.1 port over a temporary database, seeds memos and
invoices of one customer, then runs `--clients` keep-alive client threads for `--seconds`, each picking
list, fetch, create invoice, create memo or apply credit at random, and prints requests/s, p50/p99
latency, expected rejections (400 OVER_APPLICATION / OVER_PAYMENT) and errors (5xx or transport
error) per operation and in total. Exit 1 on any error or any other unexpected status.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from accounting_conformance.reference_server.bench import CUSTOMER, client, percentile, start_server, stop_server
from accounting_conformance.reference_server.resources import INVOICE, INVOICE_CREDIT, INVOICE_CREDIT_MEMO, Document

EXPECTED_REJECTIONS = {"OVER_APPLICATION", "OVER_PAYMENT"}
WEIGHTS = {"list": 20, "fetch": 25, "create_invoice": 15, "create_memo": 15, "apply": 25}
SEED_DOCUMENTS = 20


@dataclass
class Tally:
    """What one operation (or the total) saw."""

    requests: int = 0
    ok: int = 0
    rejected: int = 0  # expected 400s: over-application / over-payment
    errors: int = 0  # 5xx or transport error
    unexpected: int = 0  # any other status
    latencies: list[float] = field(default_factory=list)  # seconds

    def add(self, other: Tally) -> None:
        """Fold another tally into this one."""
        for name in ("requests", "ok", "rejected", "errors", "unexpected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.latencies += other.latencies


@dataclass
class Pools:
    """Ids of the memos and invoices that exist, shared by all client threads."""

    memos: list[str]
    invoices: list[str]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pick(self, rng: random.Random) -> tuple[str, str]:
        """A random (memo, invoice) pair."""
        with self.lock:
            return rng.choice(self.memos), rng.choice(self.invoices)


def document(resource: Document, total: str) -> dict[str, Any]:
    """The body of an invoice or invoice credit memo create of `total` for the seeded customer, in USD."""
    return {
        resource.kind: {
            "customer_id": CUSTOMER,
            "currency_code": "USD",
            "document_number": f"MIX-{uuid.uuid4().hex}",
            "line_items": [{"description": "loadmix line", "total_amount": total}],
        }
    }


def cents(rng: random.Random, high: int) -> str:
    """A random amount from 0.01 to high/100."""
    value = rng.randint(1, high)
    return f"{value // 100}.{value % 100:02d}"


def request(http: httpx.Client, operation: str, pools: Pools, rng: random.Random) -> httpx.Response:
    """Send one request of `operation`; a created document joins its pool."""
    if operation == "list":
        return http.get(rng.choice([INVOICE.path, INVOICE_CREDIT_MEMO.path]), params={"limit": "50"})
    if operation == "fetch":
        memo_id, invoice_id = pools.pick(rng)
        return http.get(
            f"{INVOICE.path}/{invoice_id}" if rng.random() < 0.5 else f"{INVOICE_CREDIT_MEMO.path}/{memo_id}"
        )
    if operation == "apply":
        memo_id, invoice_id = pools.pick(rng)
        shares = INVOICE_CREDIT_MEMO.settled()
        return http.post(
            INVOICE_CREDIT.path,
            json={
                INVOICE_CREDIT.kind: {
                    INVOICE_CREDIT.memo_id: memo_id,
                    shares.links: [{"id": invoice_id, shares.amount: cents(rng, 1000)}],
                }
            },
        )
    resource, pool, total = (
        (INVOICE, pools.invoices, "500.00")
        if operation == "create_invoice"
        else (INVOICE_CREDIT_MEMO, pools.memos, "20.00")
    )
    response = http.post(resource.path, json=document(resource, total))
    if response.status_code == 200:
        with pools.lock:
            pool.append(response.json()[resource.kind]["id"])
    return response


def error_code(response: httpx.Response) -> str | None:
    """The error_code of an Error body, or None when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error_code") if isinstance(body, dict) else None


def classify(response: httpx.Response | None, tally: Tally) -> None:
    """Count one outcome: ok, expected rejection, error (5xx / no response) or unexpected."""
    if response is None or response.status_code >= 500:
        tally.errors += 1
    elif response.status_code == 200:
        tally.ok += 1
    elif response.status_code == 400 and error_code(response) in EXPECTED_REJECTIONS:
        tally.rejected += 1
    else:
        tally.unexpected += 1


def run_mix(base_url: str, pools: Pools, seconds: float, clients: int, seed: int) -> tuple[dict[str, Tally], float]:
    """Run the mix from `clients` threads for `seconds`; the tallies per operation and the elapsed time."""
    tallies = [{name: Tally() for name in WEIGHTS} for _ in range(clients)]
    start, deadline = threading.Barrier(clients + 1), [0.0]

    def worker(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        names, weights = list(WEIGHTS), list(WEIGHTS.values())
        with client(base_url) as http:
            start.wait(timeout=60)
            while time.perf_counter() < deadline[0]:
                operation = rng.choices(names, weights)[0]
                began = time.perf_counter()
                try:
                    response: httpx.Response | None = request(http, operation, pools, rng)
                except (httpx.HTTPError, ValueError, KeyError):  # no answer, or a 200 that is not the object
                    response = None
                tallies[index][operation].latencies.append(time.perf_counter() - began)
                tallies[index][operation].requests += 1
                classify(response, tallies[index][operation])

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait(timeout=60)
    for thread in threads:
        thread.join(timeout=seconds + 30)  # a request times out after 10 s, so this is never reached in practice
    merged = {name: Tally() for name in WEIGHTS}
    for per_thread in tallies:
        for name, tally in per_thread.items():
            merged[name].add(tally)
    return merged, time.perf_counter() - began


def summary(tallies: dict[str, Tally], elapsed: float) -> dict[str, dict[str, float]]:
    """Per operation and in total: requests, req/s, p50/p99 ms, ok, rejected, errors, unexpected, error rate."""
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    rows: dict[str, dict[str, float]] = {}
    for name, tally in [*tallies.items(), ("total", total)]:
        ordered = sorted(tally.latencies)
        figures = {k: v for k, v in asdict(tally).items() if k != "latencies"}
        rows[name] = {
            **figures,
            "req_per_s": tally.requests / elapsed if elapsed > 0 else 0.0,
            "p50_ms": percentile(ordered, 50) * 1000,
            "p99_ms": percentile(ordered, 99) * 1000,
            "error_rate": tally.errors / tally.requests if tally.requests else 0.0,
        }
    return rows


def table(rows: dict[str, dict[str, float]]) -> str:
    """The summary as a fixed-width table."""
    lines = [
        f"{'operation':<15} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ok':>6} {'rejected':>8} "
        f"{'errors':>6} {'error %':>7} {'other':>5}"
    ]
    for name, r in rows.items():
        lines.append(
            f"{name:<15} {r['requests']:>8} {r['req_per_s']:>8.1f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['ok']:>6} {r['rejected']:>8} {r['errors']:>6} {r['error_rate'] * 100:>7.2f} {r['unexpected']:>5}"
        )
    return "\n".join(lines)


def seed_pools(base_url: str) -> Pools:
    """Create the first memos and invoices."""
    with client(base_url) as http:

        def create(resource: Document, total: str) -> str:
            response = http.post(resource.path, json=document(resource, total))
            response.raise_for_status()
            return str(response.json()[resource.kind]["id"])

        return Pools(
            [create(INVOICE_CREDIT_MEMO, "20.00") for _ in range(SEED_DOCUMENTS)],
            [create(INVOICE, "500.00") for _ in range(SEED_DOCUMENTS)],
        )


def positive(kind: Callable[[str], float], upper: float) -> Callable[[str], float]:
    """An argparse type: a number greater than 0 and at most `upper`."""

    def parse(text: str) -> float:
        value = kind(text)
        if not 0 < value <= upper:
            raise argparse.ArgumentTypeError(f"must be greater than 0 and at most {upper:g}")
        return value

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, start the server, seed it, run the mix, print the table (and write JSON with --json)."""
    parser = argparse.ArgumentParser(prog="reference_server.loadmix", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=positive(float, 600), default=10.0, help="duration (default 10)")
    parser.add_argument("--clients", type=positive(int, 256), default=4, help="client threads (default 4)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the mix (default 1)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="reference-loadmix-") as tmp:
        process, base_url = start_server(Path(tmp) / "loadmix.db", Path(tmp) / "server.log")
        try:
            pools = seed_pools(base_url)
            print(
                f"reference server loadmix: {options.clients} clients, {options.seconds:g} s, mix "
                + ", ".join(f"{k} {v}%" for k, v in WEIGHTS.items())
                + f", server {base_url}",
                flush=True,
            )
            rows = summary(*run_mix(base_url, pools, options.seconds, options.clients, options.seed))
        finally:
            stop_server(process)
    print(table(rows))
    if options.json is not None:
        options.json.write_text(
            json.dumps({"seconds": options.seconds, "clients": options.clients, "rows": rows}, indent=1)
        )
    return 1 if rows["total"]["errors"] or rows["total"]["unexpected"] else 0


if __name__ == "__main__":
    sys.exit(main())
