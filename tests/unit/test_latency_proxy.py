"""The latency proxy (conformance/latency_proxy.py) and the benchmark's bookkeeping (conformance/bench_remote.py)."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounting_conformance.conformance import bench_remote
from accounting_conformance.conformance.latency_proxy import LatencyProxy

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
Answer = Callable[[bytes], bytes | None]  # a request's bytes -> the answer's bytes, or None: close without one


class Serve(Protocol):
    def __call__(self, answer: Answer, close_after: bool = False) -> RawTarget: ...


class RawTarget(socketserver.ThreadingTCPServer):
    """A target on loopback that keeps the exact bytes of each request and answers as `answer` says."""

    daemon_threads = allow_reuse_address = True

    def __init__(self, answer: Answer, close_after: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Connection)
        self.answer, self.close_after, self.received, self.connections = answer, close_after, list[bytes](), 0
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _Connection(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        target: RawTarget = self.server  # type: ignore[assignment]
        target.connections += 1
        buffer = b""
        while True:
            while b"\r\n\r\n" not in buffer:
                if not (data := self.request.recv(65536)):
                    return
                buffer += data
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            fields = {line.split(b":")[0].lower(): line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")[1:]}
            chunked = fields.get(b"transfer-encoding") == b"chunked"
            while (cut := _end(buffer, chunked, int(fields.get(b"content-length", b"0")))) is None:
                if not (data := self.request.recv(65536)):
                    return
                buffer += data
            request, buffer = head + b"\r\n\r\n" + buffer[:cut], buffer[cut:]
            target.received.append(request)
            reply = target.answer(request)
            if reply is None:
                return
            self.request.sendall(reply)
            if target.close_after:
                return


def _end(buffer: bytes, chunked: bool, length: int) -> int | None:
    """Where the body at the start of `buffer` ends, if it has all come (chunked: after the last chunk's trailers)."""
    if not chunked:
        return length if len(buffer) >= length else None
    zero = (b"\r\n" + buffer).find(b"\r\n0\r\n")
    end = buffer.find(b"\r\n\r\n", zero + 1) if zero >= 0 else -1
    return end + 4 if end >= 0 else None


@contextlib.contextmanager
def running(answer: Answer, close_after: bool = False) -> Iterator[RawTarget]:
    """A RawTarget serving from a thread while in the block."""
    target = RawTarget(answer, close_after)
    threading.Thread(target=target.serve_forever, args=(0.02,), daemon=True).start()
    try:
        yield target
    finally:
        target.shutdown()
        target.server_close()


@pytest.fixture
def serve() -> Iterator[Serve]:
    with contextlib.ExitStack() as stack:
        yield lambda answer, close_after=False: stack.enter_context(running(answer, close_after))


def exchange(url: str, data: bytes, *, wait_for: bytes = b"", done: bool = False) -> bytes:
    """Send raw bytes to the proxy (`done`: and nothing more); all it sends back until it closes (or until
    `wait_for` has come)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(data)
        if done:
            sock.shutdown(socket.SHUT_WR)
        got = b""
        while not (wait_for and wait_for in got) and (piece := sock.recv(65536)):
            got += piece
        return got


def test_each_answer_comes_the_delay_later_than_without_it(serve: Serve) -> None:
    target = serve(lambda request: OK)
    took: dict[int, list[float]] = {0: [], 80: []}
    for delay, times in took.items():
        with LatencyProxy(target.url, delay) as url, httpx.Client() as client:
            client.get(url)  # the connections are open before the clock starts
            for _ in range(5):
                started = time.monotonic()
                assert client.get(url + "/x").text == "ok"
                times.append(time.monotonic() - started)
    assert min(took[80]) >= 0.0795 and sum(took[80]) / 5 - sum(took[0]) / 5 < 0.2, took


def test_method_path_query_fields_and_body_reach_the_target_unchanged_but_for_hop_by_hop_fields(
    serve: Serve,
) -> None:
    target = serve(lambda request: OK)
    sent = (
        b"PATCH /accounting/invoices/a%2Fb?access_token=t&x=1&x=%20 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n"
        b"X-Odd-CASE:   spaced value \r\nConnection: keep-alive, X-Hop\r\nX-Hop: gone\r\nKeep-Alive: timeout=5\r\n"
        b'TE: trailers\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"a":"\xc3\xa9"}'
    )
    with LatencyProxy(target.url + "/base/", 0) as url:
        assert exchange(url, sent, wait_for=b"ok").endswith(OK.split(b"\r\n\r\n")[1])
    assert target.received == [
        b"PATCH /base/accounting/invoices/a%2Fb?access_token=t&x=1&x=%20 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n"
        b"X-Odd-CASE:   spaced value \r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"
        b'{"a":"\xc3\xa9"}'
    ]


def test_a_chunked_body_goes_on_in_its_chunks_without_a_content_length_beside_them(
    serve: Serve,
) -> None:
    target = serve(lambda request: OK)
    body = b"3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n"
    sent = b"POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 99\r\n\r\n" + body
    with LatencyProxy(target.url, 0) as url:
        exchange(url, sent, wait_for=b"ok")
    assert target.received == [b"POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body]


def test_status_fields_and_body_come_back_unchanged_in_their_framing(serve: Serve) -> None:
    answer = (
        b"HTTP/1.1 418 I'm a teapot\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Odd:  v \r\nKeep-Alive: timeout=5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n4\r\n\x00\xff\r\n\r\n0\r\n\r\n"
    )
    target = serve(lambda request: answer)
    with LatencyProxy(target.url, 0) as url:
        got = exchange(url, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", wait_for=b"0\r\n\r\n")
    assert got == answer.replace(b"Keep-Alive: timeout=5\r\n", b"")


def test_requests_are_counted_with_when_they_came_and_one_connection_each_way_serves_them_all(
    serve: Serve,
) -> None:
    target = serve(lambda request: OK)
    proxy = LatencyProxy(target.url, 0)
    before = time.time()
    with proxy as url, httpx.Client() as client:
        for path in ("/a", "/b?q=1"):
            client.get(url + path)
        client.post(url + "/c", content=b"x")
    assert proxy.requests == 3 and target.connections == 1 and proxy.connections == 1
    assert [request for _, request in proxy.arrivals] == ["GET /a", "GET /b", "POST /c"]
    assert before <= proxy.arrivals[0][0] <= proxy.arrivals[1][0] <= proxy.arrivals[2][0] <= time.time()
    with proxy as url:
        for path in ("/d", "/e"):
            httpx.get(url + path)  # a client each: a connection each
    assert proxy.connections == 3


def test_a_target_that_closes_without_answering_has_the_clients_connection_closed_and_the_proxy_serves_on(
    serve: Serve,
) -> None:
    target = serve(lambda request: None if b" /close " in request else OK)
    proxy = LatencyProxy(target.url, 0)
    with proxy as url:
        assert exchange(url, b"POST /close HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx") == b""
        assert exchange(url, b"GET /fine HTTP/1.1\r\nHost: h\r\n\r\n", wait_for=b"ok").endswith(b"ok")
    assert proxy.broken == 1


def test_a_target_that_closes_mid_body_has_the_client_get_what_came_then_the_close(
    serve: Serve,
) -> None:
    target = serve(lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", close_after=True)
    with LatencyProxy(target.url, 0) as url:
        assert exchange(url, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n").endswith(b"\r\n\r\nabc")


def test_a_get_on_a_kept_connection_the_target_let_go_is_sent_again_on_a_new_one(
    serve: Serve,
) -> None:
    target = serve(
        lambda request: OK if len(target.received) % 2 else None
    )  # a second request on a connection: closed on
    with LatencyProxy(target.url, 0) as url, httpx.Client() as client:
        assert client.get(url + "/1").text == "ok"
        time.sleep(0.05)
        assert client.get(url + "/2").text == "ok"
    assert target.connections == 2


@pytest.mark.parametrize(
    ("sent", "status"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nX: " + b"y" * 70000 + b"\r\n\r\n", b"431"),
        (b"CONNECT example.com:443 HTTP/1.1\r\n\r\n", b"501"),
    ],
)
def test_a_request_that_cannot_be_framed_is_refused_and_its_connection_closed(
    serve: Serve, sent: bytes, status: bytes
) -> None:
    target = serve(lambda request: OK)
    proxy = LatencyProxy(target.url, 0)
    with proxy as url:
        assert exchange(url, sent).startswith(b"HTTP/1.1 " + status + b" ")
    assert (proxy.requests, proxy.refused, target.received) == (0, 1, [])


def test_an_answer_that_cannot_be_framed_closes_the_clients_connection(serve: Serve) -> None:
    target = serve(lambda request: b"SPDY/3 hello\r\n\r\n" if b" /odd " in request else OK)
    proxy = LatencyProxy(target.url, 0)
    with proxy as url:
        assert exchange(url, b"GET /odd HTTP/1.1\r\nHost: h\r\n\r\n") == b""
        assert exchange(url, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", wait_for=b"ok").endswith(b"ok")
    assert proxy.broken == 1


ODD = st.binary(max_size=300) | st.builds(
    bytes.__add__,
    st.sampled_from(
        [b"GET / HTTP/1.1\r\n", b"HTTP/1.1 200 OK\r\n", b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"]
    ),
    st.binary(max_size=300),
)


@hsettings(max_examples=60, deadline=None)
@given(odd=ODD, from_client=st.booleans())
def test_whatever_bytes_either_side_sends_the_proxy_answers_or_closes_and_serves_on(
    odd: bytes, from_client: bool
) -> None:
    with (
        running(lambda request: odd if b" /odd " in request else OK, close_after=True) as target,
        LatencyProxy(target.url, 0) as url,
    ):
        exchange(url, odd if from_client else b"GET /odd HTTP/1.1\r\nHost: h\r\n\r\n", done=True)  # no timeout
        assert exchange(url, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", wait_for=b"ok").endswith(b"ok")


def test_stop_cuts_open_connections_ends_the_thread_and_stops_listening(serve: Serve) -> None:
    target = serve(lambda request: OK)
    proxy = LatencyProxy(target.url, 0)
    url = proxy.start()
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        time.sleep(0.1)
        proxy.stop()
        assert sock.recv(65536).endswith(b"ok") and sock.recv(65536) == b""
    assert not any(thread.name == "latency-proxy" for thread in threading.enumerate())
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


def test_a_target_that_is_not_an_http_base_url_is_refused() -> None:
    with pytest.raises(ValueError, match="http://"):
        LatencyProxy("https://example.com", 10)


def test_each_request_counts_for_the_test_whose_span_holds_it_and_the_rest_for_none() -> None:
    row = bench_remote.Row("quick", 50, requests=4, seconds=10.0)
    spans = [
        {"test": "b.py::t", "phase": "links", "start": 5.0, "end": 7.0},
        {"test": "a.py::t", "phase": "writes", "start": 1.0, "end": 2.0},
    ]
    owners = bench_remote.attribute(row, spans, [(0.5, "GET /"), (1.5, "GET /"), (3.0, "GET /"), (6.0, "POST /")])
    assert owners == [bench_remote.OUTSIDE, "a.py::t", bench_remote.OUTSIDE, "b.py::t"]
    assert row.phases == {
        "writes": {"tests": 1, "requests": 1, "seconds": 1.0},
        "links": {"tests": 1, "requests": 1, "seconds": 2.0},
        bench_remote.OUTSIDE: {"tests": 0, "requests": 2, "seconds": 7.0},
    }


def test_with_the_suites_own_counts_tests_overlap_and_a_phases_seconds_run_from_its_first_request_to_its_last() -> None:
    row = bench_remote.Row("default", 50, requests=10, seconds=20.0)
    spans = [
        {"test": "m.py::t", "phase": "model", "start": 5.0, "end": 9.0},  # pytest waited 4 s for it
        {"test": "f.py::t", "phase": "fuzz", "start": 9.0, "end": 9.5},  # and hardly at all for the fuzzer
    ]
    sent = [
        {"sent": "m.py::t", "requests": 3, "first": 5.0, "last": 9.0},
        {"sent": "f.py::t", "requests": 6, "first": 5.1, "last": 9.4},  # side by side with the model
    ]
    owners = bench_remote.attribute(row, spans, [(float(i), "GET /") for i in range(10)], sent)
    assert len(owners) == 10
    assert row.phases == {
        "model": {"tests": 1, "requests": 3, "seconds": 4.0},
        "fuzz": {"tests": 1, "requests": 6, "seconds": 4.3},
        bench_remote.OUTSIDE: {"tests": 0, "requests": 1, "seconds": 0.0},
    }
    assert [t["requests"] for t in row.tests] == [3, 6]


def test_the_table_gives_the_ratio_to_the_profiles_0_ms_run_and_shows_a_run_that_did_not_exit_0() -> None:
    rows = [
        bench_remote.Row("quick", 0, 8, requests=100, connections=3, seconds=10.0, exit_code=0),
        bench_remote.Row(
            "quick", 50, 8, requests=100, connections=3, seconds=25.0, exit_code=1, note="exit 1: see log"
        ),
        bench_remote.Row("quick", 50, 1, requests=100, connections=90, seconds=40.0, exit_code=0),  # no 0 ms run at 1
    ]
    lines = bench_remote.table(rows)
    assert lines[1].split() == ["quick", "8", "0", "100", "3", "10.0", "10.0", "1.00", "0"]
    assert lines[2].split()[:9] == ["quick", "8", "50", "100", "3", "25.0", "4.0", "2.50", "1"]
    assert "exit 1: see log" in lines[2]
    assert lines[3].split() == ["quick", "1", "50", "100", "90", "40.0", "2.5", "-", "0"]
