"""The suite against broken targets: it says what failed, reports garbage as violations, and never crashes."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from accounting_conformance.conformance.embedded import free_port
from accounting_conformance.conformance.settings import DEFAULT_FIXTURES, REPO

TOKEN = "hostile-token-7f3a9c1e5b"
# The broken test servers below drop connections on purpose; their sockets' warnings are theirs, not the suite's.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning", "ignore::ResourceWarning")


def _handler(mode: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self) -> None:
            preflight = "limit=1" in self.path and "invoice_credit_memos" in self.path and self.command == "GET"
            if mode == "hang" and not preflight:
                time.sleep(3)
            if mode == "redirect":
                self.send_response(302)
                self.send_header("Location", "http://198.51.100.7/stolen")
                self.end_headers()
                return
            if mode == "ratelimit" and not preflight:
                self.send_response(429)
                self.send_header("Retry-After", "0")
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"error_type":"RATE_LIMIT_ERROR","error_code":"RATED","error_message":"slow down"}')
                return
            body = {
                "nonjson": b"<html>not json</html>",
                "truncated": b'{"invoice_credit_memos": [{"id": "x", "total_amount": "1',
                "huge": b'{"pad": "' + b"x" * (10 * 1024 * 1024) + b'"}',
            }.get(
                mode,
                json.dumps(
                    {
                        "invoice_credit_memos": [],
                        "next_cursor": None,
                        "connection": {"id": "c", "orgId": "o", "platform": "NETSUITE"},
                    }
                ).encode(),
            )
            self.send_response(200)
            self.send_header("Content-Type", "text/html" if mode == "nonjson" else "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_OPTIONS = _answer

    return Handler


@pytest.fixture
def target(request: pytest.FixtureRequest) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _handler(request.param))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _run(target: str, tmp_path: Path, *extra: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "accounting_conformance.conformance",
            "--target",
            target,
            "--access-token",
            TOKEN,
            "--fixtures",
            str(DEFAULT_FIXTURES),
            "--profile",
            "quick",
            "--seed",
            "3",
            "--report-dir",
            str(tmp_path / "reports"),
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
@pytest.mark.parametrize("address", ["http://127.0.0.1:{port}", "http://no-such-host.invalid"])
def test_unreachable_target_exits_2_within_10_s_with_one_clear_line(address: str, tmp_path: Path) -> None:
    started = time.monotonic()
    done = _run(address.format(port=free_port()), tmp_path)
    assert done.returncode == 2
    assert time.monotonic() - started < 10
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("conformance: could not judge: target unreachable")


@pytest.mark.slow
@pytest.mark.parametrize("target", ["hang"], indirect=True)
def test_target_that_hangs_is_reported_not_waited_for(target: str, tmp_path: Path) -> None:
    started = time.monotonic()
    done = _run(target, tmp_path, "--request-timeout", "1", "--", "-k", "test_writes and token")
    assert done.returncode == 1, done.stdout[-2000:]
    assert "no response within 1 s" in done.stdout
    assert time.monotonic() - started < 60


@pytest.mark.slow
@pytest.mark.parametrize("target", ["nonjson", "truncated", "huge", "redirect", "ratelimit"], indirect=True)
def test_garbage_answers_are_violations_never_a_crash(target: str, tmp_path: Path) -> None:
    done = _run(target, tmp_path, "--", "-k", "test_writes")
    assert done.returncode == 1, (done.stdout[-3000:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert summary["failures"], "garbage must be reported as failures"
    for path in (tmp_path / "reports").rglob("*"):
        assert path.is_dir() or TOKEN not in path.read_text(errors="replace")
    assert TOKEN not in done.stdout + done.stderr
