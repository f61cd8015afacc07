"""`python -m reference_server.bench`: a bounded load test of the reference server, on loopback only.

Starts the server as a subprocess on a free 127.0.0.1 port over a temporary database, seeds invoices,
then runs fetch, list and create, each for a fixed time with a fixed number of keep-alive client
threads, and prints requests, throughput, latency percentiles and errors per operation.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from accounting_conformance.reference_server.resources import INVOICE, JOB

HOST = "127.0.0.1"
TOKEN = "00000000-0000-4000-8000-000000000000"
CUSTOMER = "afb85448-ca08-452e-a7f9-fd4383ce25a9"  # seeded in fixtures.json
REPO = Path(__file__).resolve().parent.parent
Operation = Callable[[httpx.Client, random.Random], httpx.Response]


@dataclass(frozen=True)
class Result:
    """What one operation's load run measured."""

    operation: str
    requests: int
    errors: int
    elapsed: float
    latencies: list[float]  # seconds, one per request, sorted


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def invoice_body() -> dict[str, Any]:
    """A small valid invoice create."""
    return {
        INVOICE.kind: {
            "customer_id": CUSTOMER,
            "currency_code": "USD",
            "document_number": f"BENCH-{uuid.uuid4().hex}",
            "line_items": [{"description": "bench line", "total_amount": "125.50"}],
        }
    }


def start_server(db: Path, log: Path, deadline_s: float = 30.0) -> tuple[subprocess.Popen[bytes], str]:
    """Start `python -m reference_server` on a free loopback port; return it once it answers HTTP."""
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "accounting_conformance.reference_server",
                "--host",
                HOST,
                "--port",
                str(port),
                "--db",
                str(db),
            ],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            httpx.get(f"{base_url}{JOB.path}/ready", params={"access_token": TOKEN}, timeout=1.0)
            return process, base_url
        except httpx.TransportError:
            time.sleep(0.05)
    stop_server(process)
    raise RuntimeError(f"the server did not answer within {deadline_s} s:\n{log.read_text(errors='replace')}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server and wait for it (kill after 10 s)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def client(base_url: str) -> httpx.Client:
    """A keep-alive client with the default token."""
    return httpx.Client(base_url=base_url, params={"access_token": TOKEN}, timeout=10.0)


def seed(base_url: str, count: int, workers: int) -> list[str]:
    """Create `count` invoices; their ids."""

    def create(_: int) -> str:
        response = http.post(INVOICE.path, json=invoice_body())
        response.raise_for_status()
        return str(response.json()[INVOICE.kind]["id"])

    with client(base_url) as http, ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(create, range(count)))


def run_load(base_url: str, name: str, operation: Operation, seconds: float, clients: int) -> Result:
    """Run `operation` from `clients` threads, each with its own keep-alive client, for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def worker(index: int) -> None:
        rng = random.Random(index)
        with client(base_url) as http:
            start.wait()
            while time.perf_counter() < deadline[0]:
                began = time.perf_counter()
                try:
                    ok = operation(http, rng).status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies[index].append(time.perf_counter() - began)
                errors[index] += not ok

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    merged = sorted(value for values in latencies for value in values)
    return Result(name, len(merged), sum(errors), elapsed, merged)


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank q-th percentile of sorted values (0 for none)."""
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, math.ceil(q / 100 * len(values)) - 1))]


def table(results: Sequence[Result]) -> str:
    """The results as a fixed-width table."""
    lines = [f"{'operation':<10} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"]
    for r in results:
        rate = r.requests / r.elapsed if r.elapsed > 0 else 0.0
        lines.append(
            f"{r.operation:<10} {r.requests:>9} {rate:>9.1f} {percentile(r.latencies, 50) * 1000:>8.2f} "
            f"{percentile(r.latencies, 99) * 1000:>8.2f} {r.errors:>7}"
        )
    return "\n".join(lines)


def _positive(kind: type[int] | type[float], upper: float) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = kind(text)
        if not 0 < value <= upper:
            raise argparse.ArgumentTypeError(f"must be greater than 0 and at most {upper}")
        return value

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options, start the server, seed it, run the three loads and print the table."""
    parser = argparse.ArgumentParser(prog="reference_server.bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=_positive(float, 600), default=5.0, help="duration of each operation (default 5)"
    )
    parser.add_argument("--clients", type=_positive(int, 256), default=4, help="client threads (default 4)")
    parser.add_argument("--invoices", type=_positive(int, 10_000), default=200, help="invoices to seed (default 200)")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="reference-bench-") as tmp:
        process, base_url = start_server(Path(tmp) / "bench.db", Path(tmp) / "server.log")
        try:
            ids = seed(base_url, options.invoices, options.clients)
            operations: list[tuple[str, Operation]] = [
                ("fetch", lambda http, rng: http.get(f"{INVOICE.path}/{rng.choice(ids)}")),
                ("list", lambda http, rng: http.get(INVOICE.path, params={"limit": "50"})),
                ("create", lambda http, rng: http.post(INVOICE.path, json=invoice_body())),
            ]
            print(
                f"reference server bench: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                f"{options.clients} clients, {options.seconds:g} s per operation, {len(ids)} invoices seeded, "
                f"server {base_url} (SQLite file, WAL)",
                flush=True,
            )
            results = [run_load(base_url, name, op, options.seconds, options.clients) for name, op in operations]
        finally:
            stop_server(process)
    print(table(results))
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
