"""The variation proxy: a raw ASGI app forwarding to an upstream server with httpx, applying named variations.

A request is answered here without forwarding when a variation says so (a 429 now and then, an undeclared
method, OPTIONS, a body over a smaller limit); otherwise it is forwarded (cursor tokens mapped back,
`prefer_sync` sent as `async`) and the upstream's answer is rewritten (`variations_rewrite`), re-serialised
(`variations_json`), given other headers, compressed, delayed and sent, in that order.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import traceback
import uuid
from collections import Counter
from collections.abc import Iterable

import httpx
from starlette.types import Receive, Scope, Send

from accounting_conformance.reference_server import variations_rewrite as rw
from accounting_conformance.reference_server.variations_http import (
    NO_TREE,
    Incoming,
    Outgoing,
    Routes,
    encode,
    error,
    extra_headers,
    request_id,
    transmit,
)
from accounting_conformance.reference_server.variations_json import Style, dumps, loads

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)
NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", "accept-encoding"}
NOT_RETURNED = HOP_BY_HOP | {"content-length", "content-encoding", "date", "server"}
WRITES = ("POST", "PATCH", "DELETE")
#: variations that rewrite or re-serialise JSON bodies (the others leave the upstream's bytes alone)
REWRITING = frozenset(
    {
        "opaque-cursors",
        "reordered-keys",
        "slow-jobs",
        "prefer-sync-async",
        "float-numbers",
        "json-string-escapes",
        "pretty-json",
        "absolute-response-url",
        *rw.TREE_REWRITES,
    }
)
STYLES = frozenset({"reordered-keys", "float-numbers", "json-string-escapes", "pretty-json"})
RATE_LIMIT_EVERY = 40
SMALL_BODY_LIMIT = 256 * 1024


class Proxy:
    """The ASGI app: forwards to `upstream` with the named variations applied."""

    def __init__(
        self,
        upstream: str,
        variations: Iterable[str],
        *,
        seed: int = 0,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limit_every: int = RATE_LIMIT_EVERY,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.active = frozenset(variations)
        self.rng = random.Random(seed)
        self.memory = rw.Memory()
        self.routes = Routes()
        self.rate_limit_every = rate_limit_every
        self.organisations: dict[str, int] = {}  # access tokens the upstream accepted -> requests made with them
        self.requests = 0
        self.applied: Counter[str] = Counter()  # how often each variation changed something
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self.style = Style(
            reverse_keys="reordered-keys" in self.active,
            floats="float-numbers" in self.active,
            raw_unicode="json-string-escapes" in self.active,
            indent=2 if "pretty-json" in self.active else None,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await self.aclose()
            print(f"variations applied: {json.dumps(dict(self.applied), sort_keys=True)}", file=sys.stderr, flush=True)
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        request = await Incoming.read(scope, receive)
        try:
            answer = await self.handle(request)
        except Exception:  # a bug of the proxy, not of the server behind it: counted, so that no run blames the suite
            traceback.print_exc()
            self.applied["proxy-errors"] += 1
            answer = error(502, "RUTTER_ERROR", "PROXY_ERROR", "The variation proxy failed on this request.")
            answer.content = dumps(answer.tree).encode()
        try:
            await self.emit(request, answer, send)
        except Exception:
            self.applied["proxy-errors"] += 1
            raise

    async def aclose(self) -> None:
        """Close the connection pool to the upstream."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def handle(self, request: Incoming) -> Outgoing:
        """The answer to one request, before encoding."""
        self.requests += 1
        if "identity" in self.active:
            self.applied["identity"] += 1
        answer = self.local(request)
        if answer is None:
            answer = await self.forward(request)
        return self.finish(request, answer)

    def local(self, request: Incoming) -> Outgoing | None:
        """An answer the proxy gives itself, without forwarding, or None; counted as its variation's."""
        answer, variation = self._local(request)
        if variation:
            self.applied[variation] += 1
        return answer

    def _local(self, request: Incoming) -> tuple[Outgoing | None, str]:
        on = self.active
        token = request.token
        if token is not None and token in self.organisations:
            self.organisations[token] += 1
        every = self.rate_limit_every
        limited = [
            name
            for name, hit in (
                ("rate-limited", self.requests % every == 0),
                ("rate-limited-per-org", self.organisations.get(token or "", 1) % every == 0),
            )
            if name in on and hit
        ]
        if limited:
            return error(
                429,
                "RATE_LIMIT_ERROR",
                "RATE_LIMITED",
                "Too many requests; retry after 1 second.",
                **{"retry-after": "1"},
            ), limited[0]
        route = self.routes.match(request.path)
        if route is None:
            return None, ""
        methods = list(route.methods)
        if "head-as-get" in on and "GET" in methods:
            methods.append("HEAD")
        if "options-204" in on:
            methods.append("OPTIONS")
            if request.method == "OPTIONS":
                return Outgoing(
                    204, {"allow": ", ".join(methods), "x-rutter-request-id": str(uuid.uuid4())}
                ), "options-204"
        if request.method not in methods:
            if "auth-before-dispatch" in on and not token:
                return error(
                    401, "CONNECTION_ERROR", "INVALID_CREDENTIALS", "The access_token query parameter is missing."
                ), "auth-before-dispatch"
            if "undeclared-501" in on and request.method not in self.routes.everywhere and request.method != "HEAD":
                return error(
                    501, "INVALID_REQUEST", "NOT_IMPLEMENTED", f"This server does not implement {request.method}."
                ), "undeclared-501"
            if "undeclared-405" in on or "undeclared-501" in on:
                return error(
                    405,
                    "INVALID_REQUEST",
                    "METHOD_NOT_ALLOWED",
                    f"{request.method} is not allowed here; use one of {', '.join(methods)}.",
                    allow=", ".join(methods),
                ), "undeclared-405" if "undeclared-405" in on else "undeclared-501"
        if "small-body-limit" in on and request.method in route.too_large and len(request.body) > SMALL_BODY_LIMIT:
            return error(
                413,
                "INVALID_REQUEST",
                "PAYLOAD_TOO_LARGE",
                f"The request body is larger than {SMALL_BODY_LIMIT} bytes.",
            ), "small-body-limit"
        return None, ""

    async def forward(self, request: Incoming) -> Outgoing:
        """Send the request on to the upstream and read its answer."""
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=60.0, follow_redirects=False)
        query, body, method, rewritten = request.query, request.body, request.method, False
        if "opaque-cursors" in self.active and b"cursor" in query:
            query = rw.translate_cursors(query, self.memory)
            self.applied["opaque-cursors"] += query != request.query
        if "prefer-sync-async" in self.active and method in WRITES and body:
            try:
                tree = loads(body)
            except ValueError:
                tree = None
            if rw.prefer_sync_as_async(tree):
                body, rewritten = dumps(tree).encode(), True
                self.applied["prefer-sync-async"] += 1
        if "head-as-get" in self.active and method == "HEAD":
            method = "GET"
            self.applied["head-as-get"] += 1
        # as the bytes that came (latin-1 both ways): a header value need not be ASCII
        headers = [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers.items() if k not in NOT_FORWARDED
        ]
        headers.append((b"accept-encoding", b"identity"))
        url = self.upstream + request.raw_path + ("?" + query.decode("latin-1") if query else "")
        try:
            response = await self._client.request(method, url, headers=headers, content=body)
        except httpx.HTTPError as exc:
            return error(502, "RUTTER_ERROR", "BAD_GATEWAY", f"The upstream did not answer: {type(exc).__name__}.")
        out = Outgoing(response.status_code, content=response.content)
        if response.status_code != 401 and request.token is not None:
            self.organisations.setdefault(request.token, 0)  # a token the upstream took: an organisation, known
        for name, value in response.headers.multi_items():
            name = name.lower()
            if name not in NOT_RETURNED:
                out.headers[name] = f"{out.headers[name]}, {value}" if name in out.headers else value
        if out.headers.get("content-type", "").startswith("application/json") and self.active & (
            REWRITING | {"gone-410"}
        ):
            try:
                out.tree = loads(out.content)
            except ValueError:
                pass
        if rewritten:
            rw.remember_prefer_sync(out.tree, self.memory)
        return out

    def finish(self, request: Incoming, out: Outgoing) -> Outgoing:
        """Rewrite the answer's body and headers as the active variations say."""
        on, tree, count = self.active, out.tree, self.applied
        if tree is not NO_TREE:
            if "gone-410" in on:
                status, out.status = out.status, rw.gone(out.status, request.path, tree)
                count["gone-410"] += status != out.status
            if "slow-jobs" in on:
                rw.remember_async_jobs(tree, self.memory)
                if request.method == "GET" and out.status == 200:
                    count["slow-jobs"] += rw.slow_job(request.path, tree, self.memory)
            if "prefer-sync-async" in on and request.method == "GET":
                rw.restore_prefer_sync(request.path, tree, self.memory)
            if "opaque-cursors" in on and out.status == 200:
                count["opaque-cursors"] += rw.issue_cursors(tree, self.memory)
            if "absolute-response-url" in on:
                count["absolute-response-url"] += rw.absolute_response_url(tree, request.base)
            for name, rewrite in rw.TREE_REWRITES.items():
                if name in on:
                    count[name] += rewrite(tree)
            out.content = dumps(tree, self.style).encode()
            if self.style != Style() and out.content != dumps(tree).encode():
                count.update(STYLES & on)
        headers = out.headers
        if "json-charset" in on and headers.get("content-type", "").startswith("application/json"):
            headers["content-type"] = "application/json; charset=utf-8"
            count["json-charset"] += 1
        if "request-id-forms" in on and "x-rutter-request-id" in headers:
            headers["x-rutter-request-id"] = request_id(self.requests)
            count["request-id-forms"] += 1
        if "no-job-id-header" in on:
            count["no-job-id-header"] += headers.pop("x-rutter-job-id", None) is not None
        if "extra-headers" in on:
            extra_headers(headers, self.requests)
            count["extra-headers"] += 1
        if "connection-close" in on:
            headers["connection"] = "close"
            count["connection-close"] += 1
        coding = encode(out, request.headers.get("accept-encoding"), on)
        if coding:
            count[coding] += 1
        return out

    async def emit(self, request: Incoming, out: Outgoing, send: Send) -> None:
        """Send the answer, after the latency variation's delay, in chunks with the chunked variation."""
        if "latency" in self.active:
            self.applied["latency"] += 1
            await asyncio.sleep(self.rng.uniform(0.03, 0.08))
        if await transmit(out, request.method, "chunked" in self.active, send):
            self.applied["chunked"] += 1
