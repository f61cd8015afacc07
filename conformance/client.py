"""The suite's HTTP client: token injection (query or bearer, fetched again after a 401), timeouts, rate limits,
size caps and reproducible exchanges."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import httpx

from accounting_conformance.conformance.pacing import Pacer
from accounting_conformance.conformance.redact import Redactor, curl
from accounting_conformance.conformance.settings import Settings

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_RETRY_AFTER = 30.0


class TargetUnreachable(RuntimeError):
    """The target could not be reached at all (refused, unresolvable, TLS)."""


@dataclass
class Exchange:
    """One request and what came back, enough to judge and to reproduce it."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    error: str | None = None  # transport problem: timeout, oversize, connection reset
    elapsed: float = 0.0

    def json(self) -> Any:
        """The body parsed with exact decimals; raises ValueError when it is not JSON."""
        return json.loads(self.text, parse_float=Decimal)

    def reproduction(self, redactor: Redactor) -> str:
        """A curl command reproducing the request, secrets masked."""
        return curl(self.method, self.url, self.request_headers, self.request_body, redactor)

    def summary(self, redactor: Redactor, limit: int = 2000) -> str:
        """Request and response as text for a report, secrets masked and the body cut to `limit`."""
        body = self.text if len(self.text) <= limit else self.text[:limit] + f"... ({len(self.text)} bytes)"
        outcome = f"error: {self.error}" if self.error else f"HTTP {self.status}\n{body}"
        return redactor(f"{self.method} {self.url}\n{self.request_body or ''}\n-> {outcome}")


class ResponseCheck(Protocol):
    """What holds every response a test accepts to the contract (responses.ResponseContract)."""

    def check(self, client: ApiClient, exchange: Exchange) -> None:
        """Raise a rule violation when the exchange's response breaks the contract."""


class ApiClient:
    """Talks to the target on behalf of the suite's own tests."""

    def __init__(
        self, settings: Settings, contract: ResponseCheck | None = None, *, pacer: Pacer | None = None
    ) -> None:
        assert settings.target, "the target must be resolved before a client is made"
        self.settings = settings
        self.base = settings.target
        self.redactor = Redactor(settings.secrets(), settings.basic_auth)
        #: what `expect.status_is` holds every accepted response to (None: the status alone is judged)
        self.contract = contract
        #: RATE_LIMIT and the target's 429s, shared with whatever else sends for the run (one of its own if none)
        self.pacer = pacer or Pacer(settings.rate_limit)
        self._http = httpx.Client(
            timeout=settings.request_timeout,
            verify=settings.tls_verify,
            follow_redirects=False,  # never follow a redirect, least of all to another host
            auth=settings.basic_auth,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    @property
    def token(self) -> str:
        """The token the client's requests carry now (ACCESS_TOKEN, or what ACCESS_TOKEN_COMMAND printed last)."""
        return self.settings.token()

    @property
    def bearer(self) -> bool:
        """Whether requests carry the token in an `Authorization: Bearer` header (TOKEN_IN=bearer), not the query."""
        return self.settings.token_in == "bearer"

    def url(self, path: str, params: Mapping[str, Any] | None = None, *, token: str | None = "") -> str:
        """The absolute URL of a contract path: with the access token unless token is None ("" for the run's own;
        another for a probe) or it travels in the Authorization header (TOKEN_IN=bearer)."""
        query: dict[str, Any] = {}
        if token is not None and not self.bearer:
            query["access_token"] = token or self.token
        query.update({k: v for k, v in (params or {}).items() if v is not None})
        return f"{self.base}{path}?{urlencode(query)}" if query else f"{self.base}{path}"

    def credential_headers(self, token: str | None = "") -> dict[str, str]:
        """The headers that carry the token: `Authorization: Bearer` with TOKEN_IN=bearer (none for token None)."""
        return {"Authorization": f"Bearer {token or self.token}"} if token is not None and self.bearer else {}

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        token: str | None = "",
        raw: str | None = None,
    ) -> Exchange:
        """Send one request (`body` as JSON, or `raw` text as a JSON body as is) with the run's token (token ""), none
        (None) or another (a probe's); transport errors are recorded on the exchange, never raised. A 401 to the run's
        token runs ACCESS_TOKEN_COMMAND once more and sends the request again with the new token."""
        text = raw if raw is not None else None if body is None else json.dumps(body, default=_decimal_default)
        carried = self.token if token == "" else token
        exchange = self._exchange(method, path, params, headers, text, carried)
        tokens = self.settings.token_source
        if tokens is None or token != "":
            return exchange  # a probe's missing or wrong token is answered 401 as it should be: nothing to refresh
        if exchange.status != 401:
            tokens.accepted(carried)
            return exchange
        fresh = tokens.refresh(carried)
        if fresh is None:
            return exchange
        again = self._exchange(method, path, params, headers, text, fresh)
        if again.status != 401:
            tokens.accepted(fresh)
        return again

    def _exchange(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        text: str | None,
        token: str | None,
    ) -> Exchange:
        url = self.url(path, params, token=token)
        sent = {"Accept": "application/json", **self.credential_headers(token), **(headers or {})}
        if text is not None:
            sent["Content-Type"] = "application/json"
        exchange = Exchange(method.upper(), url, sent, text)
        for _ in range(3):
            self.pacer.wait()
            started = time.monotonic()
            try:
                self._send(exchange)
            except httpx.ConnectError as exc:
                raise TargetUnreachable(f"cannot connect to {urlsplit(self.base).netloc}: {exc}") from None
            except httpx.TimeoutException:
                exchange.error = f"no response within {self.settings.request_timeout:g} s (REQUEST_TIMEOUT)"
            except httpx.HTTPError as exc:
                exchange.error = f"transport error: {type(exc).__name__}: {exc}"
            exchange.elapsed = time.monotonic() - started
            if exchange.status != 429:
                break
            self.pacer.pause(retry_after_seconds(exchange.headers.get("retry-after")))
        return exchange

    def _send(self, exchange: Exchange) -> None:
        stream_into(self._http, exchange)


def stream_into(http: httpx.Client, exchange: Exchange) -> None:
    """Send the exchange's request and read the answer into it: status, headers and a body of at most MAX_BODY_BYTES
    (httpx errors are raised)."""
    with http.stream(
        exchange.method, exchange.url, headers=exchange.request_headers, content=exchange.request_body
    ) as response:
        exchange.status = response.status_code
        exchange.headers = {k.lower(): v for k, v in response.headers.items()}
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                exchange.error = f"response body larger than {MAX_BODY_BYTES} bytes"
                break
            chunks.append(chunk)
        exchange.text = b"".join(chunks).decode("utf-8", errors="replace")


def retry_after_seconds(value: str | None) -> float:
    """How long a 429's Retry-After asks to wait: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), at most
    MAX_RETRY_AFTER; 1 s when absent or unreadable."""
    if value is None or not value.strip():
        return 1.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError, IndexError, OverflowError):
            return 1.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _decimal_default(value: object) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value == Decimal(repr(float(value))) else str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
