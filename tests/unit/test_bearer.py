"""TOKEN_IN=bearer: every request that carries the token, the suite's own and schemathesis', carries it in an
`Authorization: Bearer` header instead of the `access_token` parameter; probes with no token or a wrong one send it in
the same place; a 401 to the run's token fetches a new one (ACCESS_TOKEN_COMMAND) for schemathesis too."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import ignored_auth

from accounting_conformance.conformance.client import ApiClient
from accounting_conformance.conformance.embedded import EmbeddedServer
from accounting_conformance.conformance.resources import contract_path
from accounting_conformance.conformance.settings import DEFAULT_FIXTURES, REPO, SETTINGS, Settings, resolve
from accounting_conformance.conformance.tokens import TokenSource
from accounting_conformance.conformance.transport import RetryAfterTransport, honour_retry_after, run_tokens
from tests.unit.test_tokens import rotating_command, runs

TOKEN = "tok-BEARER-5c2e9a71"


def _bearer_settings(tmp_path: Path, **cli: str) -> Settings:
    given = {"target": "http://target.test", "fixtures": str(DEFAULT_FIXTURES), "token_in": "bearer", **cli}
    return resolve({"access_token": TOKEN, **given} if "access_token_command" not in cli else given, env={})


def _client(settings: Settings, status: int = 200) -> tuple[ApiClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json={})

    client = ApiClient(settings)
    client._http = httpx.Client(transport=httpx.MockTransport(handler))
    return client, seen


# ------------------------------------------------------------------------------------------- the suite's client


def test_bearer_mode_sends_the_token_in_the_authorization_header(tmp_path: Path) -> None:
    client, seen = _client(_bearer_settings(tmp_path))
    exchange = client.request("GET", "/accounting/invoices", params={"limit": 1})
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert dict(seen[0].url.params) == {"limit": "1"} and "access_token" not in exchange.url
    reproduction = exchange.reproduction(client.redactor)
    assert TOKEN not in reproduction and "-H 'Authorization: Bearer ***'" in reproduction


def test_bearer_mode_sends_a_probes_wrong_token_in_the_header_and_a_missing_one_nowhere(tmp_path: Path) -> None:
    client, seen = _client(_bearer_settings(tmp_path), status=401)
    client.request("GET", "/accounting/invoices", token=None)
    client.request("GET", "/accounting/invoices", token="not-a-token")
    assert "authorization" not in seen[0].headers and seen[1].headers["authorization"] == "Bearer not-a-token"
    assert all("access_token" not in str(request.url) for request in seen)


def test_query_mode_keeps_the_token_in_the_access_token_parameter(tmp_path: Path) -> None:
    settings = resolve({"target": "http://t.test", "fixtures": str(DEFAULT_FIXTURES), "access_token": TOKEN}, env={})
    client, seen = _client(settings)
    client.request("GET", "/accounting/invoices")
    assert seen[0].url.params["access_token"] == TOKEN and "authorization" not in seen[0].headers


def test_bearer_mode_with_basic_auth_is_refused_naming_both(tmp_path: Path) -> None:
    from accounting_conformance.conformance.settings import SettingsError

    with pytest.raises(SettingsError, match="TOKEN_IN=bearer and BASIC_AUTH"):
        _bearer_settings(tmp_path, basic_auth="id:secret")


# ------------------------------------------------------------------------------------------- schemathesis' transport


@dataclass
class FakeInner:
    """schemathesis' transport as the wrapper sees it: prepares the case's request (its query, any auth) and answers
    the statuses it is given in turn."""

    statuses: list[int]
    prepared: list[requests.PreparedRequest] = field(default_factory=list)

    def send(self, case: Any, **kwargs: Any) -> Any:
        request = requests.Request("GET", "http://t.test/x", params=case.query, auth=kwargs.get("auth"))
        self.prepared.append(request.prepare())
        return SimpleNamespace(status_code=self.statuses.pop(0), headers={})


def _case(**query: Any) -> Any:
    return SimpleNamespace(query=query, _auth=None)


def _bearer(prepared: requests.PreparedRequest) -> str | None:
    return prepared.headers.get("Authorization")


def test_schemathesis_requests_carry_the_token_in_the_header_in_bearer_mode() -> None:
    inner = FakeInner([200])
    RetryAfterTransport(inner, TokenSource(TOKEN, token_in="bearer")).send(_case(access_token=TOKEN, limit="1"))
    (sent,) = inner.prepared
    assert _bearer(sent) == f"Bearer {TOKEN}" and urlsplit(sent.url or "").query == "limit=1"


@pytest.mark.parametrize(
    ("query", "header"),
    [
        ({}, None),
        ({"access_token": "SCHEMATHESIS-INVALID-VALUE"}, "Bearer SCHEMATHESIS-INVALID-VALUE"),
        ({"access_token": "new\nline é"}, "Bearer new%0Aline+%C3%A9"),  # as the query spelt it: a header cannot
    ],
    ids=["no-token", "wrong-token", "unsendable-token"],
)
def test_schemathesis_probes_send_their_missing_or_wrong_token_where_the_real_one_goes(
    query: dict[str, str], header: str | None, tmp_path: Path
) -> None:
    inner = FakeInner([401])
    tokens = TokenSource.start("", command=rotating_command(tmp_path), token_in="bearer")
    response = RetryAfterTransport(inner, tokens).send(_case(**query, limit="1"))
    assert response.status_code == 401 and len(inner.prepared) == 1 and runs(tmp_path) == 1  # no refresh for a probe
    assert _bearer(inner.prepared[0]) == header and "access_token" not in (inner.prepared[0].url or "")


def test_a_401_to_a_schemathesis_request_fetches_a_new_token_and_sends_it_once_more(tmp_path: Path) -> None:
    inner = FakeInner([401, 200])
    tokens = TokenSource.start("", command=rotating_command(tmp_path), token_in="bearer")
    response = RetryAfterTransport(inner, tokens).send(_case(access_token="tok-rotating-4b1d-1"))
    assert response.status_code == 200 and runs(tmp_path) == 2
    assert [_bearer(p) for p in inner.prepared] == ["Bearer tok-rotating-4b1d-1", "Bearer tok-rotating-4b1d-2"]


def test_in_query_mode_a_case_carrying_an_earlier_token_is_sent_with_the_current_one(tmp_path: Path) -> None:
    inner = FakeInner([401, 200, 200])
    tokens = TokenSource.start("", command=rotating_command(tmp_path), token_in="query")
    transport = RetryAfterTransport(inner, tokens)
    transport.send(_case(access_token="tok-rotating-4b1d-1", limit="1"))
    transport.send(_case(access_token="tok-rotating-4b1d-1", limit="2"))  # as schemathesis' configuration has it
    queries = [dict(parse_qsl(urlsplit(p.url or "").query)) for p in inner.prepared]
    assert [q["access_token"] for q in queries] == ["tok-rotating-4b1d-1", "tok-rotating-4b1d-2", "tok-rotating-4b1d-2"]
    assert [q["limit"] for q in queries] == ["1", "1", "2"] and all(_bearer(p) is None for p in inner.prepared)


def test_a_request_with_its_own_auth_keeps_it_beside_the_token(tmp_path: Path) -> None:
    inner = FakeInner([200])
    tokens = TokenSource.start("", command=rotating_command(tmp_path), token_in="query")
    RetryAfterTransport(inner, tokens).send(_case(access_token="tok-rotating-4b1d-1"), auth=("id", "secret"))
    assert (_bearer(inner.prepared[0]) or "").startswith("Basic ")


# ------------------------------------------------------------------------------------------- against a server


class _BearerOnly(BaseHTTPRequestHandler):
    """Takes `Authorization: Bearer <token>` (or, when `ignores_auth`, anything); records what each request carried."""

    token = TOKEN
    ignores_auth = False
    seen: list[tuple[str, str | None]] = []  # (the query, the Authorization header)

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.seen.append((urlsplit(self.path).query, self.headers.get("Authorization")))
        ok = self.ignores_auth or self.headers.get("Authorization") == f"Bearer {self.token}"
        body = b"{}" if ok else b'{"error_type":"X","error_code":"Y","error_message":"z"}'
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def bearer_only() -> Iterator[tuple[str, type[_BearerOnly]]]:
    handler = type("Handler", (_BearerOnly,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def _schema(target: str, token: str) -> schemathesis.BaseSchema:
    """The contract as the run's conftest loads it: the token through the security scheme, in the query."""
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"accessToken": {"api_key": token}}}})
    config.projects.default.update(base_url=target)
    return honour_retry_after(schemathesis.openapi.from_path(contract_path(), config=config))


def _fetch(schema: schemathesis.BaseSchema, token: str) -> Any:
    case = schema["/accounting/invoices/{id}"]["GET"].Case(path_parameters={"id": "x"}, query={"access_token": token})
    case._has_explicit_auth = True  # as a generated case under the configured auth is
    return case


def test_the_schemas_transport_finds_the_runs_tokens_by_the_token_its_configuration_carries(
    tmp_path: Path, bearer_only: tuple[str, type[_BearerOnly]]
) -> None:
    target, server = bearer_only
    settings = _bearer_settings(tmp_path, target=target)
    schema = _schema(target, settings.access_token)
    assert run_tokens(schema) is settings.token_source
    response = _fetch(schema, settings.access_token).call()
    assert response.status_code == 200 and server.seen == [("", f"Bearer {TOKEN}")]
    assert run_tokens(_schema(target, "a-token-of-no-run")) is None


def test_ignored_auth_probes_in_bearer_mode_pass_on_a_server_that_enforces_the_header(
    tmp_path: Path, bearer_only: tuple[str, type[_BearerOnly]]
) -> None:
    target, server = bearer_only
    settings = _bearer_settings(tmp_path, target=target)
    _fetch(_schema(target, settings.access_token), settings.access_token).call_and_validate(checks=[ignored_auth])
    assert server.seen == [("", f"Bearer {TOKEN}"), ("", None), ("", "Bearer SCHEMATHESIS-INVALID-VALUE")]


def test_ignored_auth_probes_in_bearer_mode_catch_a_server_that_ignores_the_header(
    tmp_path: Path, bearer_only: tuple[str, type[_BearerOnly]]
) -> None:
    target, server = bearer_only
    server.ignores_auth = True
    settings = _bearer_settings(tmp_path, target=target)
    case = _fetch(_schema(target, settings.access_token), settings.access_token)
    with pytest.raises(FailureGroup) as caught:
        case.call_and_validate(checks=[ignored_auth])
    assert [type(e).__name__ for e in caught.value.exceptions] == ["IgnoredAuth"]
    assert server.seen == [("", f"Bearer {TOKEN}"), ("", None)]  # the probe without a token was let in


# ------------------------------------------------------------------------------------------- end to end


class TokenProxy:
    """A test-only service in front of the reference server that takes tokens as real services do: in an
    `Authorization: Bearer` header (TOKEN_IN=bearer) or the access_token parameter (query), valid while it is the one
    the token command printed last and for `lifetime` requests; a request with a token it does not take goes on
    without one, so the reference server answers the contract's 401. Counts tokens sent where they do not belong."""

    def __init__(self, upstream: str, upstream_token: str, current: Path, *, token_in: str, lifetime: int) -> None:
        self.upstream, self.upstream_token, self.current = upstream, upstream_token, current
        self.token_in, self.lifetime = token_in, lifetime
        self.uses: dict[str, int] = {}
        self.misplaced = 0  # requests with a token where TOKEN_IN does not put it
        self.expired = 0  # 401s for a token that had been good
        self._http = httpx.Client(timeout=30)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                proxy.forward(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_TRACE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> TokenProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._http.close()

    def _takes(self, token: str | None) -> bool:
        current = self.current.read_text().strip() if self.current.exists() else None
        if token is None or token != current:
            return False
        with self._lock:
            self.uses[token] = self.uses.get(token, 0) + 1
            if self.uses[token] > self.lifetime:
                self.expired += 1
                return False
        return True

    def forward(self, handler: BaseHTTPRequestHandler) -> None:
        """Answer one request from the reference server, the token translated."""
        parts = urlsplit(handler.path)
        pairs = [p for p in parts.query.split("&") if p]
        in_query = [p.partition("=")[2] for p in pairs if p.partition("=")[0] == "access_token"]
        pairs = [p for p in pairs if p.partition("=")[0] != "access_token"]
        header = handler.headers.get("Authorization") or ""
        if self.token_in == "bearer":
            token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
            self.misplaced += bool(in_query)
        else:
            token = httpx.QueryParams(f"access_token={in_query[0]}")["access_token"] if in_query else None
            self.misplaced += bool(header)
        if self._takes(token):
            pairs.append(f"access_token={quote(self.upstream_token, safe='')}")
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        skip = {"host", "authorization", "content-length", "connection", "accept-encoding"}
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in skip}
        url = self.upstream + parts.path + ("?" + "&".join(pairs) if pairs else "")
        answer = self._http.request(handler.command, url, headers=headers, content=body)
        handler.send_response(answer.status_code)
        for name, value in answer.headers.multi_items():
            if name.lower() not in {"content-length", "content-encoding", "transfer-encoding", "connection", "date"}:
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(answer.content)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(answer.content)


@pytest.mark.slow
@pytest.mark.parametrize("token_in", ["bearer", "query"])
def test_a_run_whose_tokens_expire_fetches_new_ones_and_no_output_shows_any(tmp_path: Path, token_in: str) -> None:
    prefix = f"tok-EXPIRING-{token_in}"
    command = rotating_command(tmp_path, prefix) + f" | tee {tmp_path / 'current'}"
    reports = tmp_path / "reports"
    with (
        EmbeddedServer("upstream-token-7d3f") as server,
        TokenProxy(server.url, "upstream-token-7d3f", tmp_path / "current", token_in=token_in, lifetime=40) as proxy,
    ):
        env = {k: v for k, v in os.environ.items() if k not in {spec.env for spec in SETTINGS}}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "accounting_conformance.conformance",
                "--target",
                proxy.url,
                "--fixtures",
                str(DEFAULT_FIXTURES),
                "--token-in",
                token_in,
                "--access-token-command",
                command,
                "--profile",
                "quick",
                "--seed",
                "4",
                "--report-dir",
                str(reports),
                "--",
                "-k",
                "test_writes or test_fuzz",
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=400,
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert runs(tmp_path) >= 3 and proxy.expired >= 2, "tokens expired mid-run and new ones were fetched"
    assert proxy.misplaced == 0, f"a token went elsewhere than TOKEN_IN={token_in} says"
    outputs = {"stdout": done.stdout, "stderr": done.stderr}
    outputs |= {str(p.relative_to(reports)): p.read_text(errors="replace") for p in reports.rglob("*") if p.is_file()}
    assert "summary.json" in outputs
    for name, text in outputs.items():
        # any token, or a near miss of one (a character off at either end, the case swapped)
        assert prefix[1:] not in text and prefix[1:].swapcase() not in text, f"a token leaked into {name}"
