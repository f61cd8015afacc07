"""schemathesis' requests honour 429 + Retry-After like the suite's own client (conformance/transport.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from accounting_conformance.conformance.client import MAX_RETRY_AFTER, retry_after_seconds
from accounting_conformance.conformance.resources import contract_path
from accounting_conformance.conformance.transport import honour_retry_after

SEEN: list[str] = []


class _Throttling(BaseHTTPRequestHandler):
    """Answers every other request 429 with Retry-After: 0, the rest 401."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        SEEN.append(self.path)
        throttled = len(SEEN) % 2 == 1
        body = b'{"error_type":"X","error_code":"Y","error_message":"z"}'
        self.send_response(429 if throttled else 401)
        if throttled:
            self.send_header("Retry-After", "0")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def target() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_429_is_sent_again_after_its_retry_after_and_the_next_answer_judged(target: str) -> None:
    SEEN.clear()
    config = SchemathesisConfig()
    config.projects.default.update(base_url=target)
    schema = honour_retry_after(schemathesis.openapi.from_path(contract_path(), config=config))
    operation = schema["/accounting/invoices/{id}"]["GET"]
    case = operation.Case(path_parameters={"id": "x"}, query={"access_token": "t"})
    response = case.call()
    response.request  # noqa: B018 - the exchange is complete
    assert response.status_code == 401
    assert len(SEEN) == 2 and schema.transport.serialize_case is not None  # the rest of the transport is schemathesis'


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 1.0), ("0", 0.0), ("2.5", 2.5), ("soon", 1.0), ("-3", 0.0), ("99999", MAX_RETRY_AFTER)],
)
def test_retry_after_is_read_as_seconds_within_bounds(value: str | None, expected: float) -> None:
    assert retry_after_seconds(value) == expected


def test_retry_after_may_be_an_http_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    assert 3 <= retry_after_seconds(later) <= 5
