"""Shared fixtures: the real reference server as a subprocess on a free loopback port, and HTTP helpers."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[3]
TOKEN = "00000000-0000-4000-8000-000000000000"
CUSTOMER = "afb85448-ca08-452e-a7f9-fd4383ce25a9"  # Acme Retail Inc, USD
OTHER_CUSTOMER = "959dda7a-bdc2-49d0-91b9-8ee7a24ac3d5"  # Blue Harbor LLC, USD
VENDOR = "6ff9e9f9-ecae-4ce3-9d63-6a76415809c1"  # Northwind Supplies, USD
BILL = "d60698aa-ae1e-4b0a-a32e-778f41dd4570"  # Northwind, USD, 1000000.00 due
BANK_ACCOUNT = "70931313-80a9-438b-8cfc-7e36e6179e45"
ERROR_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
PLURAL = {
    "invoice_credit_memo": "invoice_credit_memos",
    "bill_credit_memo": "bill_credit_memos",
    "invoice": "invoices",
    "customer_refund": "customer_refunds",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One running `python -m reference_server` subprocess."""

    base_url: str
    db_path: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    log_file: Any = field(repr=False)

    def log(self) -> str:
        """What the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Terminate the server and wait for it to exit (kill after 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log_file.close()


def _wait_ready(server: Server, deadline: float) -> bool:
    """Poll until the server answers HTTP (any status); False if the process died first."""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            httpx.get(f"{server.base_url}/jobs/ready", params={"access_token": TOKEN}, timeout=1.0)
            return True
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"reference server did not start within the deadline:\n{server.log()}")


def start_server(db_path: Path, log_path: Path, token: str | None = None) -> Server:
    """Start the reference server on a free loopback port over `db_path`; retry if the port was taken."""
    for _ in range(5):
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "accounting_conformance.reference_server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--db",
            str(db_path),
        ]
        if token:
            command += ["--access-token", token]
        log_file = open(log_path, "ab")
        process = subprocess.Popen(command, cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT)
        server = Server(f"http://127.0.0.1:{port}", db_path, log_path, process, log_file)
        try:
            ready = _wait_ready(server, time.monotonic() + 30)
        except BaseException:
            server.stop()
            raise
        if ready:
            return server
        server.stop()
    raise RuntimeError(f"reference server failed to start:\n{log_path.read_text(errors='replace')}")


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[[Path], Server]]:
    """Start servers on demand (each over the given --db); every one is stopped at teardown."""
    started: list[Server] = []

    def start(db_path: Path) -> Server:
        server = start_server(db_path, tmp_path / f"server-{len(started)}.log")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the session, over a temp file database."""
    root = tmp_path_factory.mktemp("reference-server")
    running = start_server(root / "reference.db", root / "server.log")
    yield running
    running.stop()


def require_request_id(response: httpx.Response) -> None:
    """Event hook: every response of the server carries a non-empty X-Rutter-Request-ID."""
    assert response.headers.get("X-Rutter-Request-ID"), f"{response.request.method} {response.request.url.path}"


def api_client(server: Server, **options: Any) -> httpx.Client:
    """A keep-alive client on `server` with the default token that checks every response's request id."""
    return httpx.Client(
        base_url=server.base_url,
        params={"access_token": TOKEN},
        timeout=30.0,
        event_hooks={"response": [require_request_id]},
        **options,
    )


@pytest.fixture(scope="session")
def client(server: Server) -> Iterator[httpx.Client]:
    """A keep-alive client on the session server."""
    with api_client(server) as http:
        yield http


def unique(prefix: str = "T") -> str:
    """A document number no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex}"


def line(amount: str) -> dict[str, Any]:
    """One request line item of `amount`."""
    return {"description": "test line", "total_amount": amount}


def memo_body(total: str = "100.00", currency: str = "USD", customer: str = CUSTOMER, **extra: Any) -> dict[str, Any]:
    """The body of an invoice credit memo create."""
    return {
        "invoice_credit_memo": {
            "customer_id": customer,
            "currency_code": currency,
            "document_number": unique("ICM"),
            "line_items": [line(total)],
            **extra,
        }
    }


def invoice_body(
    total: str = "1000.00", currency: str = "USD", customer: str = CUSTOMER, **extra: Any
) -> dict[str, Any]:
    """The body of an invoice create."""
    return {
        "invoice": {
            "customer_id": customer,
            "currency_code": currency,
            "document_number": unique("INV"),
            "line_items": [line(total)],
            **extra,
        }
    }


def bill_memo_body(total: str = "100.00", **extra: Any) -> dict[str, Any]:
    """The body of a bill credit memo create."""
    return {
        "bill_credit_memo": {
            "vendor_id": VENDOR,
            "currency_code": "USD",
            "document_number": unique("BCM"),
            "line_items": [line(total)],
            **extra,
        }
    }


def refund_body(total: str = "25.50") -> dict[str, Any]:
    """The body of a customer refund create."""
    return {
        "customer_refund": {
            "account_id": BANK_ACCOUNT,
            "customer_id": CUSTOMER,
            "document_number": unique("RFD"),
            "transaction_date": "2024-03-01",
            "line_items": [line(total)],
        }
    }


def application_body(memo_id: str, invoice_id: str, amount: Any, **extra: Any) -> dict[str, Any]:
    """The body of an invoice credit application of `amount` from one memo to one invoice."""
    return {
        "invoice_credit_application": {
            "invoice_credit_memo_id": memo_id,
            "linked_invoices": [{"id": invoice_id, "allocated_amount": amount}],
            **extra,
        }
    }


def create(http: httpx.Client, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST a create that must succeed; the created object."""
    response = http.post(f"/accounting/{PLURAL[kind]}", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()[kind]
    return created


def fetch(http: httpx.Client, kind: str, object_id: str) -> dict[str, Any]:
    """GET one object that must exist."""
    response = http.get(f"/accounting/{PLURAL[kind]}/{object_id}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()[kind]
    return found


def assert_error(response: httpx.Response, status: int, code: str | None = None, *mentions: str) -> dict[str, Any]:
    """The response is `status` with the documented Error body, `code`, and a message naming `mentions`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"error_type", "error_code", "error_message"}, body
    assert ERROR_NAME.fullmatch(body["error_type"]) and ERROR_NAME.fullmatch(body["error_code"]), body
    assert isinstance(body["error_message"], str) and body["error_message"], body
    if code is not None:
        assert body["error_code"] == code, body
    for text in mentions:
        assert text in body["error_message"], body
    return body


def count(http: httpx.Client, kind: str, flt: str | None = None) -> int:
    """How many objects of `kind` a full paging of the list returns (optionally filtered)."""
    params: dict[str, str] = {"limit": "500"} | ({"filter": flt} if flt else {})
    total = 0
    while True:
        response = http.get(f"/accounting/{PLURAL[kind]}", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        total += len(page[PLURAL[kind]])
        if not page.get("next_cursor"):
            return total
        params["cursor"] = page["next_cursor"]


def counts(http: httpx.Client) -> dict[str, int]:
    """The size of every list."""
    return {kind: count(http, kind) for kind in PLURAL}
