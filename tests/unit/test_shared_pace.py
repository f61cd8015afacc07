"""The suite's client and schemathesis' transport keep to one pace: RATE_LIMIT and a 429 hold for both together."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from accounting_conformance.conformance.client import ApiClient
from accounting_conformance.conformance.pacing import Pacer
from accounting_conformance.conformance.resources import contract_path
from accounting_conformance.conformance.settings import DEFAULT_FIXTURES, resolve
from accounting_conformance.conformance.transport import honour_retry_after


class Target(ThreadingHTTPServer):
    """Answers 404; the first request that carries `throttle` in its path is answered 429 with Retry-After: 1."""

    arrivals: list[tuple[float, str]]
    throttled: bool


class _Handler(BaseHTTPRequestHandler):
    server: Target

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.arrivals.append((time.monotonic(), self.path))
        throttle = "throttle" in self.path and not self.server.throttled
        self.server.throttled |= throttle
        body = b'{"error_type":"X","error_code":"Y","error_message":"z"}'
        self.send_response(429 if throttle else 404)
        if throttle:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def target() -> Iterator[Target]:
    server = Target(("127.0.0.1", 0), _Handler)
    server.arrivals, server.throttled = [], False
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def both(target: Target, pacer: Pacer) -> tuple[ApiClient, schemathesis.Case]:  # type: ignore[type-arg]
    url = f"http://127.0.0.1:{target.server_address[1]}"
    settings = resolve({"target": url, "access_token": "tok", "fixtures": str(DEFAULT_FIXTURES)}, env={})
    client = ApiClient(settings, pacer=pacer)
    config = SchemathesisConfig()
    config.projects.default.update(base_url=url)
    schema = honour_retry_after(schemathesis.openapi.from_path(contract_path(), config=config), pacer)
    case = schema["/accounting/invoices/{id}"]["GET"].Case(path_parameters={"id": "x"}, query={"access_token": "tok"})
    return client, case


def side_by_side(*senders: object) -> None:
    threads = [threading.Thread(target=sender) for sender in senders]  # type: ignore[arg-type]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


def test_the_rate_limit_holds_for_the_client_and_schemathesis_together(target: Target) -> None:
    client, case = both(target, Pacer(rate_limit=20))

    def from_client() -> None:
        for _ in range(6):
            client.request("GET", "/accounting/invoices/a")

    def from_schemathesis() -> None:
        for _ in range(6):
            case.call()

    side_by_side(from_client, from_schemathesis)
    times = sorted(at for at, _ in target.arrivals)
    assert len(times) == 12
    # 12 requests at 20 per second between them: 11 gaps of 50 ms at least (each alone would take half as long)
    assert times[-1] - times[0] >= 11 * 0.05 - 0.02, times[-1] - times[0]


def test_a_429_to_the_client_holds_schemathesis_requests_too(target: Target) -> None:
    client, case = both(target, Pacer())
    answered = threading.Event()

    def from_client() -> None:
        client.request("GET", "/accounting/invoices/throttle")  # 429, Retry-After: 1, then sent again
        answered.set()

    def from_schemathesis() -> None:
        time.sleep(0.2)  # after the 429 came
        case.call()

    side_by_side(from_client, from_schemathesis)
    first = next(at for at, path in target.arrivals if "throttle" in path)
    theirs = [at for at, path in target.arrivals if "throttle" not in path]
    assert answered.is_set() and len(theirs) == 1
    assert theirs[0] - first >= 0.95, "schemathesis sent while the target had asked every client to wait"
