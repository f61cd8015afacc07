"""The variation proxy (reference_server/variations*.py) and its runner (conformance/variations.py)."""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from accounting_conformance.conformance import selftest, selftest_runs
from accounting_conformance.conformance import variations as runner
from accounting_conformance.conformance.embedded import EmbeddedServer
from accounting_conformance.conformance.settings import DEFAULT_TOKEN
from accounting_conformance.conformance.states import STATES
from accounting_conformance.reference_server import variations, variations_rewrite
from accounting_conformance.reference_server.variations_http import Routes, accepts
from accounting_conformance.reference_server.variations_json import Style, dumps, js_number, loads
from accounting_conformance.reference_server.variations_proxy import Proxy

NUMBERS = '{"a":1.10,"b":12345678901234567890.123456789,"c":-0,"d":1E+2,"e":"1.10","f":[0.000001,7]}'
MEMO = {
    "id": "m1",
    "total_amount": "3",
    "remaining_amount": "14.5",
    "created_at": "2024-01-31T20:00:00.123Z",
    "platform_data": {"id": 7, "data": {"raw": True}},
}


class Upstream:
    """A tiny fake of the reference server, answering just enough of the contract for each variation."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []
        self.jobs: dict[str, Any] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path, query = request.url.path, dict(request.url.params)
        if path == "/accounting/invoices/missing" or path == "/jobs/missing":
            return self.json(
                404, {"error_type": "NOT_FOUND", "error_code": "OBJECT_NOT_FOUND", "error_message": "No invoice."}
            )
        if path == "/accounting/bill_credit_memos" and request.method == "GET":
            pages = {None: "UP-1", "UP-1": None}
            if query.get("cursor") not in pages:
                return self.json(
                    400, {"error_type": "INVALID_REQUEST", "error_code": "INVALID_CURSOR", "error_message": "no"}
                )
            return self.json(
                200, {"bill_credit_memos": [], "next_cursor": pages[query.get("cursor")], "connection": {"id": "c"}}
            )
        if path == "/accounting/invoice_credit_memos" and request.method == "POST":
            body = json.loads(request.content)
            if body.get("response_mode") == "async":
                self.jobs["j1"] = body
                return self.json(200, {"async_response": {"id": "j1", "response_url": "/jobs/j1", "status": "pending"}})
            return self.json(200, {"invoice_credit_memo": MEMO, "connection": {"id": "c"}}, **{"X-Rutter-Job-ID": "j0"})
        if path == "/jobs/j1":
            return self.json(
                200,
                {
                    "id": "j1",
                    "status": "success",
                    "request": {"method": "POST", "url": "/x", "body": self.jobs["j1"]},
                    "response": {"http_status": 200, "body": {"invoice_credit_memo": MEMO}},
                },
            )
        if path.startswith("/accounting/invoices"):
            return httpx.Response(
                200, content=NUMBERS.encode(), headers={"Content-Type": "application/json", "X-Rutter-Request-ID": "r"}
            )
        return self.json(
            404, {"error_type": "NOT_FOUND", "error_code": "ENDPOINT_NOT_FOUND", "error_message": "No endpoint."}
        )

    @staticmethod
    def json(status: int, body: Any, **headers: str) -> httpx.Response:
        return httpx.Response(status, json=body, headers={"X-Rutter-Request-ID": "r", **headers})


def proxy_with(*names: str, **options: Any) -> tuple[Proxy, Upstream]:
    upstream = Upstream()
    return Proxy("http://upstream", names, transport=httpx.MockTransport(upstream), **options), upstream


def send(proxy: Proxy, *calls: tuple[str, str] | tuple[str, str, dict[str, Any]]) -> list[httpx.Response]:
    """Send requests through the proxy (in-process), in order, and read every answer."""

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=proxy), base_url="http://proxy") as client:
            answers = [await client.request(c[0], c[1], **(c[2] if len(c) > 2 else {})) for c in calls]  # type: ignore[misc]
        await proxy.aclose()
        return answers

    return asyncio.run(go())


def test_every_variation_has_a_unique_name_a_description_and_a_citation() -> None:
    assert len(set(variations.names())) == len(variations.CATALOGUE) >= 16
    for v in variations.CATALOGUE:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", v.name)
        assert len(v.description) > 20 and len(v.citation) > 15
        assert "openapi.yaml" in v.citation or "RFC" in v.citation
    with pytest.raises(variations.UnknownVariation, match="known variations: identity, gone-410"):
        variations.by_name("nope")


def test_exact_json_keeps_every_number_textually_and_writes_keys_in_either_order() -> None:
    tree = loads(NUMBERS)
    assert dumps(tree) == NUMBERS
    assert (
        dumps(tree, Style(reverse_keys=True))
        == '{"f":[0.000001,7],"e":"1.10","d":1E+2,"c":-0,"b":12345678901234567890.123456789,"a":1.10}'
    )
    assert json.loads(dumps(tree, Style(indent=2, raw_unicode=True))) == json.loads(NUMBERS)
    assert dumps({"s": "é/"}, Style(raw_unicode=True)) == '{"s":"é\\/"}'


def test_javascript_numbers_are_shortest_doubles_with_javascripts_exponent_rules() -> None:
    cases = {
        5.0: "5",
        0.1: "0.1",
        1e21: "1e+21",
        1e-7: "1e-7",
        0.000001: "0.000001",
        -2.5: "-2.5",
        123456789012.123456: "123456789012.12346",
        1e20: "100000000000000000000",
        0.0: "0",
    }
    assert {value: js_number(value) for value in cases} == cases
    assert dumps(loads('{"a":3.10,"b":10}'), Style(floats=True)) == '{"a":3.1,"b":10}'


def test_reordered_keys_reverses_every_object_and_keeps_numbers_byte_for_byte() -> None:
    proxy, _ = proxy_with("reordered-keys")
    (answer,) = send(proxy, ("GET", "/accounting/invoices"))
    assert answer.text == dumps(loads(NUMBERS), Style(reverse_keys=True))
    assert proxy.applied["reordered-keys"] == 1


def test_gone_410_answers_an_unknown_object_410_with_the_same_error_body() -> None:
    proxy, _ = proxy_with("gone-410")
    obj, job, endpoint = send(
        proxy, ("GET", "/accounting/invoices/missing"), ("GET", "/jobs/missing"), ("GET", "/nowhere/x")
    )
    assert (obj.status_code, job.status_code) == (410, 410)
    assert obj.json() == {"error_type": "NOT_FOUND", "error_code": "OBJECT_NOT_FOUND", "error_message": "No invoice."}
    assert endpoint.status_code == 404  # an unknown endpoint is not a gone object


def test_opaque_cursors_map_back_to_the_upstreams_and_an_unissued_cursor_is_refused() -> None:
    proxy, upstream = proxy_with("opaque-cursors")
    (first,) = send(proxy, ("GET", "/accounting/bill_credit_memos"))
    token = first.json()["next_cursor"]
    assert re.fullmatch(r"[0-9a-f]{24}", token)
    second, foreign, raw = send(
        proxy,
        ("GET", "/accounting/bill_credit_memos", {"params": {"cursor": token}}),
        ("GET", "/accounting/bill_credit_memos", {"params": {"cursor": "deadbeef"}}),
        ("GET", "/accounting/bill_credit_memos", {"params": {"cursor": "UP-1"}}),
    )
    assert second.status_code == 200 and second.json()["next_cursor"] is None
    assert upstream.seen[1].url.params["cursor"] == "UP-1"
    assert (foreign.status_code, raw.status_code) == (400, 400)  # the upstream's own cursor was never issued here


def test_undeclared_501_answers_methods_declared_nowhere_501_and_others_405_with_allow() -> None:
    proxy, upstream = proxy_with("undeclared-501")
    trace, query, put, get = send(
        proxy,
        ("TRACE", "/accounting/invoices/x"),
        ("QUERY", "/jobs/x"),
        ("PUT", "/accounting/invoices"),
        ("GET", "/accounting/invoice_credit_applications"),
    )
    assert (trace.status_code, query.status_code, put.status_code) == (501, 501, 501)
    assert trace.json()["error_code"] == "NOT_IMPLEMENTED" and trace.headers["x-rutter-request-id"]
    assert get.status_code == 405 and get.headers["allow"] == "POST"
    assert upstream.seen == []  # none of them was forwarded


def test_undeclared_405_answers_any_undeclared_method_405_with_the_declared_methods_in_allow() -> None:
    proxy, upstream = proxy_with("undeclared-405")
    answers = send(proxy, ("TRACE", "/accounting/invoices/x"), ("FOO", "/accounting/invoices"), ("DELETE", "/jobs/x"))
    assert [a.status_code for a in answers] == [405, 405, 405]
    assert [a.headers["allow"] for a in answers] == ["GET, PATCH", "GET, POST", "GET"]
    assert upstream.seen == []


def test_auth_before_dispatch_answers_an_undeclared_method_without_a_token_401() -> None:
    proxy, upstream = proxy_with("auth-before-dispatch")
    bare, with_token = send(
        proxy, ("TRACE", "/accounting/invoices"), ("TRACE", "/accounting/invoices", {"params": {"access_token": "t"}})
    )
    assert bare.status_code == 401 and bare.json()["error_code"] == "INVALID_CREDENTIALS"
    assert with_token.status_code == 200 and [r.method for r in upstream.seen] == ["TRACE"]  # forwarded to the upstream


def test_rate_limited_answers_every_seventh_request_429_with_retry_after_and_the_contracts_body() -> None:
    proxy, upstream = proxy_with("rate-limited", rate_limit_every=7)
    answers = send(proxy, *[("GET", "/accounting/invoices")] * 14)
    assert [i for i, a in enumerate(answers, 1) if a.status_code == 429] == [7, 14]
    assert answers[6].headers["retry-after"] == "1" and answers[6].json()["error_type"] == "RATE_LIMIT_ERROR"
    assert len(upstream.seen) == 12


def test_rate_limited_per_org_limits_only_tokens_the_upstream_accepted() -> None:
    proxy, upstream = proxy_with("rate-limited-per-org", rate_limit_every=7)
    answers = send(
        proxy,
        *[("GET", "/accounting/invoices", {"params": {"access_token": "t"}})] * 8,
        *[("GET", "/accounting/invoices")] * 8,
    )
    assert [i for i, a in enumerate(answers, 1) if a.status_code == 429] == [
        8
    ]  # the 7th request after the first was taken
    assert proxy.applied["rate-limited-per-org"] == 1 and len(upstream.seen) == 15


def test_timestamp_offsets_write_the_same_instant_and_leave_what_has_no_offset_form() -> None:
    tree = {
        "a": [
            {"created_at": "0332-04-27T02:05:14.000Z", "updated_at": "9999-12-31T23:00:00Z", "due_date": "2024-01-01"}
        ],
        "request": {"body": {"issue_date": "2024-01-01T00:00:00Z"}},
    }
    assert variations_rewrite.offset_timestamps(tree) == 1
    assert tree["a"][0] == {
        "created_at": "0332-04-27T07:35:14.000+05:30",
        "updated_at": "9999-12-31T23:00:00Z",
        "due_date": "2024-01-01",
    }
    assert tree["request"] == {
        "body": {"issue_date": "2024-01-01T00:00:00Z"}
    }  # a job's echo of the request is left alone


def test_prefer_sync_is_sent_on_as_async_and_the_jobs_echo_keeps_what_the_client_sent() -> None:
    proxy, upstream = proxy_with("prefer-sync-async")
    write, job = send(
        proxy,
        ("POST", "/accounting/invoice_credit_memos", {"content": '{"response_mode":"prefer_sync","x":1.10}'}),
        ("GET", "/jobs/j1"),
    )
    assert write.json()["async_response"]["id"] == "j1"
    assert upstream.seen[0].content == b'{"response_mode":"async","x":1.10}'
    assert job.json()["request"]["body"] == {"response_mode": "prefer_sync", "x": 1.1}


def test_slow_jobs_read_pending_without_a_response_at_first_then_their_real_status() -> None:
    proxy, _ = proxy_with("slow-jobs")
    proxy.memory.slow_job_seconds = 0.3
    _, early = send(
        proxy, ("POST", "/accounting/invoice_credit_memos", {"json": {"response_mode": "async"}}), ("GET", "/jobs/j1")
    )
    assert early.json()["status"] == "prequeued" and "response" not in early.json() and early.json()["request"]
    time.sleep(0.15)
    (middle,) = send(proxy, ("GET", "/jobs/j1"))
    assert middle.json()["status"] == "pending" and "response" not in middle.json()
    time.sleep(0.25)
    (late,) = send(proxy, ("GET", "/jobs/j1"))
    assert late.json()["status"] == "success"


def test_extra_platform_data_adds_keys_inside_platform_data_and_its_data_everywhere() -> None:
    proxy, _ = proxy_with("extra-platform-data")
    _, job = send(
        proxy, ("POST", "/accounting/invoice_credit_memos", {"json": {"response_mode": "async"}}), ("GET", "/jobs/j1")
    )
    platform = job.json()["response"]["body"]["invoice_credit_memo"]["platform_data"]
    assert platform["id"] == 7 and platform["x_variation_sync_token"] and platform["data"]["x_variation_extra"]
    assert platform["data"]["raw"] is True


def test_gzip_compresses_when_accept_encoding_allows_it_and_httpx_decodes_it() -> None:
    proxy, _ = proxy_with("gzip")
    allowed, refused = send(
        proxy,
        ("GET", "/accounting/invoices", {"headers": {"Accept-Encoding": "gzip"}}),
        ("GET", "/accounting/invoices", {"headers": {"Accept-Encoding": "gzip;q=0, identity"}}),
    )
    assert allowed.headers["content-encoding"] == "gzip" and allowed.text == NUMBERS
    assert int(allowed.headers["content-length"]) == len(gzip.compress(NUMBERS.encode(), mtime=0))
    assert "content-encoding" not in refused.headers and refused.headers["vary"] == "Accept-Encoding"
    assert accepts("br, *;q=0.1", "gzip") and not accepts("x-gzip;q=0", "gzip") and not accepts(None, "gzip")


def test_chunked_sends_the_body_in_several_chunks_without_content_length() -> None:
    proxy, _ = proxy_with("chunked", "connection-close")
    sent: list[dict[str, Any]] = []

    async def go() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def record(message: Any) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/accounting/invoices",
            "query_string": b"",
            "headers": [(b"host", b"proxy")],
        }
        await proxy(scope, receive, record)  # type: ignore[arg-type]
        await proxy.aclose()

    asyncio.run(go())
    headers = dict(sent[0]["headers"])
    assert b"content-length" not in headers and headers[b"connection"] == b"close"
    assert (
        len([m for m in sent if m.get("more_body")]) >= 2
        and b"".join(m.get("body", b"") for m in sent[1:]) == NUMBERS.encode()
    )


def test_value_rewrites_keep_every_value_the_contract_cares_about() -> None:
    proxy, _ = proxy_with(
        "padded-decimals",
        "timestamp-offsets",
        "envelope-without-connection",
        "next-cursor-absent",
        "absolute-response-url",
        "async-errors-empty",
        "reworded-errors",
    )
    sync, page, handle, missing = send(
        proxy,
        ("POST", "/accounting/invoice_credit_memos", {"json": {}}),
        ("GET", "/accounting/bill_credit_memos", {"params": {"cursor": "UP-1"}}),
        ("POST", "/accounting/invoice_credit_memos", {"json": {"response_mode": "async"}}),
        ("GET", "/jobs/missing"),
    )
    memo = sync.json()["invoice_credit_memo"]
    assert (memo["total_amount"], memo["remaining_amount"], memo["created_at"]) == (
        "3.00",
        "14.50",
        "2024-02-01T01:30:00.123+05:30",
    )
    assert "connection" not in sync.json() and page.json() == {"bill_credit_memos": [], "connection": {"id": "c"}}
    assert handle.json() == {
        "async_response": {"id": "j1", "response_url": "http://proxy/jobs/j1", "status": "pending"},
        "errors": [],
    }
    assert (
        missing.json()["error_code"] == "OBJECT_NOT_FOUND"
        and "No invoice." in missing.json()["error_message"] != "No invoice."
    )


def test_header_variations_change_only_headers_the_contract_leaves_open() -> None:
    proxy, _ = proxy_with("request-id-forms", "no-job-id-header", "extra-headers", "json-charset")
    answers = send(proxy, *[("POST", "/accounting/invoice_credit_memos", {"json": {}})] * 4)
    assert len({a.headers["x-rutter-request-id"] for a in answers}) == 4 and all(
        a.headers["x-rutter-request-id"] for a in answers
    )
    assert all("x-rutter-job-id" not in a.headers for a in answers)
    assert answers[0].headers["content-type"] == "application/json; charset=utf-8"
    assert answers[0].headers["cache-control"] == "no-store" and 'rel="help"' in answers[0].headers["link"]


def test_options_head_and_the_smaller_body_limit_are_answered_by_the_proxy_where_the_contract_allows() -> None:
    proxy, upstream = proxy_with("options-204", "head-as-get", "small-body-limit")
    big = {"content": b"{" + b" " * (300 * 1024) + b"}"}
    options, head, create, unapply = send(
        proxy,
        ("OPTIONS", "/accounting/invoices/x"),
        ("HEAD", "/accounting/invoices"),
        ("POST", "/accounting/invoices", big),
        ("POST", "/accounting/bill_credit_applications/unapply", big),
    )
    assert options.status_code == 204 and options.headers["allow"] == "GET, PATCH, HEAD, OPTIONS"
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(len(NUMBERS))
    assert create.status_code == 413 and create.json()["error_code"] == "PAYLOAD_TOO_LARGE"
    assert unapply.status_code == 404  # unapply documents no 413: forwarded
    assert [r.method for r in upstream.seen] == ["GET", "POST"]


def test_routes_come_from_the_contract() -> None:
    routes = Routes()
    assert (
        routes.match("/accounting/bill_credit_applications/unapply").template
        == "/accounting/bill_credit_applications/unapply"
    )  # type: ignore[union-attr]
    assert routes.match("/jobs/abc").methods == ("GET",)  # type: ignore[union-attr]
    assert routes.match("/elsewhere") is None and "PUT" not in routes.everywhere


def test_a_variation_passes_only_with_exit_0_and_the_table_ends_with_the_totals() -> None:
    runs = [
        runner.VariationRun("gzip", 1, exit_code=2, note="crashed", applied=3),
        runner.VariationRun("gone-410", 1, exit_code=0, applied=0),
        runner.VariationRun(
            "latency",
            1,
            exit_code=1,
            found=["SCHEMA-001"],
            applied=9,
            failures=[{"test": "t::x", "rule": "SCHEMA-001", "expected": "E", "received": "R", "detail": ""}],
        ),
    ]
    assert [r.verdict for r in runs] == [runner.FALSE_ALARM, runner.CLEAN, runner.FALSE_ALARM]
    assert runner.VariationRun("gzip", 1).verdict == runner.ERROR
    lines = runner.table(runs)
    assert "    Expected: E" in lines and "  SCHEMA-001  t::x" in lines
    assert lines[-2] == "variations run 3, false alarms 2 (gzip, latency)" and "gone-410" in lines[-1]


def test_variations_are_chosen_by_all_none_or_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert variations.select(None) == variations.select("all") == variations.names()
    assert variations.select("none") == [] and variations.select("gzip, gone-410,gzip") == ["gzip", "gone-410"]
    assert runner.main(["--variations", "gzip,nope"]) == 2
    assert selftest.main(["--variations", "nope", "--faults", "limit-ignored", "--report-dir", "unused"]) == 2
    assert "unknown variation 'nope'" in capsys.readouterr().err


def test_the_proxy_reports_how_often_it_applied_each_variation(tmp_path: Path) -> None:
    log = tmp_path / "proxy.log"
    log.write_text('start\nvariations applied: {"gzip": 4}\n')
    assert runner.applied(log) == {"gzip": 4}
    assert runner.applied(tmp_path / "missing.log") == {}
    proxy, _ = proxy_with("gzip", "latency")
    send(
        proxy,
        ("GET", "/accounting/invoices"),
        ("GET", "/accounting/invoices", {"headers": {"Accept-Encoding": "identity"}}),
    )
    assert proxy.applied == {"gzip": 1, "latency": 2}


def test_a_request_the_proxy_fails_on_is_answered_502_and_counted_against_the_proxy_not_the_suite() -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("proxy bug")

    proxy = Proxy("http://upstream", ["gzip"], transport=httpx.MockTransport(broken))
    sent: list[Any] = []

    async def go() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def record(message: Any) -> None:
            sent.append(message)

        await proxy(
            {"type": "http", "method": "GET", "path": "/jobs/x", "query_string": b"", "headers": []}, receive, record
        )  # type: ignore[arg-type]
        await proxy.aclose()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("traceback.print_exc", lambda: None)
        asyncio.run(go())
    assert sent[0]["status"] == 502 and json.loads(sent[1]["body"])["error_code"] == "PROXY_ERROR"
    assert proxy.applied["proxy-errors"] == 1
    assert runner.VariationRun("gzip", 1, exit_code=1, proxy_errors=1).verdict == runner.ERROR


def test_headers_that_are_not_ascii_are_forwarded_as_the_bytes_that_came() -> None:
    proxy, upstream = proxy_with("head-as-get")
    sent: list[Any] = []

    async def go() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def record(message: Any) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/accounting/invoices",
            "query_string": b"",
            "headers": [(b"host", b"proxy"), (b"x-rutter-version", b"\xc3\xa9\xff")],
        }
        await proxy(scope, receive, record)  # type: ignore[arg-type]
        await proxy.aclose()

    asyncio.run(go())
    assert sent[0]["status"] == 200 and upstream.seen[0].headers.raw[-2] == (b"x-rutter-version", b"\xc3\xa9\xff")


def test_gone_410_applies_to_the_object_paths_only() -> None:
    body = {"error_code": "OBJECT_NOT_FOUND", "error_message": "m"}
    assert variations_rewrite.gone(404, "/accounting/customer_refunds/x", body) == 410
    assert (
        variations_rewrite.gone(404, "/accounting/invoice_credit_applications", body) == 404
    )  # a missing memo named in a body
    assert variations_rewrite.gone(404, "/accounting/bill_credit_applications/unapply", body) == 404


@pytest.mark.slow
def test_the_real_proxy_chunks_closes_and_compresses_in_front_of_the_reference_server(tmp_path: Path) -> None:
    with EmbeddedServer(DEFAULT_TOKEN) as server:
        proc, url = runner.start_proxy(server.url, ["chunked", "connection-close", "gzip"], tmp_path, 1)
        try:
            port = int(url.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(
                    f"GET /accounting/invoices?access_token={DEFAULT_TOKEN} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                )
                raw = b""
                while chunk := sock.recv(65536):  # the server closes the connection: Connection: close
                    raw += chunk
            head = raw.split(b"\r\n\r\n", 1)[0].lower()
            assert (
                b"transfer-encoding: chunked" in head and b"connection: close" in head and b"content-length" not in head
            )
            answer = httpx.get(f"{url}/accounting/invoices", params={"access_token": DEFAULT_TOKEN})
            assert answer.headers["content-encoding"] == "gzip" and "invoices" in answer.json()
        finally:
            selftest_runs.reap(proc)
    assert runner.applied(tmp_path / "proxy.log")["chunked"] >= 2


def test_selftest_runs_the_variations_prints_their_totals_and_exits_1_on_a_false_alarm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def suite(
        fault: str | None, seed: int, profile: str, workdir: Path, timeout: float, *, stop_first: bool = False
    ) -> selftest.Run:
        return selftest.Run(
            "suite",
            fault,
            seed,
            exit_code=1 if fault else 0,
            found=["X-001"] if fault else [],
            states=dict.fromkeys(STATES, 1),
        )

    def varied(name: str, seed: int, profile: str, workdir: Path, timeout: float) -> runner.VariationRun:
        assert profile == "quick"
        return runner.VariationRun(
            name, seed, exit_code=1 if name == "gzip" else 0, found=["SCHEMA-001"] if name == "gzip" else []
        )

    monkeypatch.setattr(selftest, "run_suite", suite)
    monkeypatch.setattr(runner, "run_variation", varied)
    common = [
        "--profile",
        "quick",
        "--seed",
        "3",
        "--clean-runs",
        "1",
        "--faults",
        "limit-ignored",
        "--report-dir",
        str(tmp_path),
    ]
    assert selftest.main([*common, "--variations", "gone-410,gzip"]) == 1
    out = capsys.readouterr()
    assert "variations run 2, false alarms 1 (gzip)" in out.out and "FALSE ALARM" in out.err
    assert json.loads((tmp_path / "selftest.json").read_text())["variations"][1]["verdict"] == runner.FALSE_ALARM
    assert selftest.main([*common, "--variations", "gone-410"]) == 0
    assert "variations run 1, false alarms 0" in capsys.readouterr().out
    assert selftest.main([*common, "--variations", "none"]) == 0
    assert "variations run" not in capsys.readouterr().out
