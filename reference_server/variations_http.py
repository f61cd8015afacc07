"""HTTP-level pieces of the variation proxy: requests and answers, the contract's routes, content codings, headers."""

from __future__ import annotations

import gzip
import re
import secrets
import uuid
import zlib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import yaml
from starlette.types import Message, Receive, Scope, Send

SPEC = Path(__file__).resolve().parent.parent / "openapi" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace", "query")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
NO_TREE: Any = object()  # an answer whose body is not (parsed) JSON


@dataclass
class Incoming:
    """One request as the proxy received it."""

    method: str
    path: str
    raw_path: str
    query: bytes
    headers: dict[str, str]
    body: bytes

    @classmethod
    async def read(cls, scope: Scope, receive: Receive) -> Incoming:
        """The request of an ASGI http scope, its body read to the end."""
        body = b""
        while True:
            message: Message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        raw_path = scope.get("raw_path") or scope["path"].encode()
        return cls(
            scope["method"].upper(),
            scope["path"],
            raw_path.decode("latin-1"),
            scope.get("query_string", b""),
            {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            body,
        )

    @property
    def token(self) -> str | None:
        """The request's access_token, if it has one."""
        values = parse_qs(self.query.decode("latin-1")).get("access_token")
        return values[0] if values else None

    @property
    def base(self) -> str:
        """The proxy's own base URL, as the client addressed it."""
        return f"http://{self.headers.get('host', 'localhost')}"


@dataclass
class Outgoing:
    """One answer on its way out: status, headers (lower-case names), and a JSON tree or raw bytes."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""
    tree: Any = NO_TREE


def error(status: int, error_type: str, code: str, message: str, **headers: str) -> Outgoing:
    """An answer of the contract's Error shape, with a request id."""
    return Outgoing(
        status,
        {"content-type": "application/json", "x-rutter-request-id": str(uuid.uuid4()), **headers},
        tree={"error_type": error_type, "error_code": code, "error_message": message},
    )


@dataclass(frozen=True)
class Route:
    """One path of the contract: its template, the methods declared on it, and those that document a 413."""

    template: str
    pattern: re.Pattern[str]
    methods: tuple[str, ...]
    too_large: frozenset[str]


class Routes:
    """The contract's paths and methods, read from openapi.yaml."""

    def __init__(self, spec: Path = SPEC) -> None:
        paths = yaml.safe_load(spec.read_text())["paths"]
        self.routes: list[Route] = []
        for template, item in paths.items():
            declared = [m for m in METHODS if m in item]
            pattern = re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$")
            too_large = frozenset(m.upper() for m in declared if "413" in (item[m].get("responses") or {}))
            self.routes.append(Route(template, pattern, tuple(m.upper() for m in declared), too_large))
        #: every method the contract declares on some path
        self.everywhere = frozenset(m for route in self.routes for m in route.methods)

    def match(self, path: str) -> Route | None:
        """The route of a request path, or None for a path the contract does not have."""
        literal = [r for r in self.routes if r.pattern.match(path) and "{" not in r.template]
        if literal:
            return literal[0]
        return next((r for r in self.routes if r.pattern.match(path)), None)


def accepts(header: str | None, coding: str) -> bool:
    """Whether an Accept-Encoding value allows `coding` (q > 0, by name or `*`); no header: not compressed."""
    if not header:
        return False
    weights: dict[str, float] = {}
    for item in header.split(","):
        name, *params = item.strip().split(";")
        weight = 1.0
        for param in params:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if name.strip():
            weights[name.strip().lower()] = weight
    if coding in weights:
        return weights[coding] > 0
    if coding == "gzip" and "x-gzip" in weights:
        return weights["x-gzip"] > 0
    return weights.get("*", 0.0) > 0


def _vary(headers: dict[str, str], value: str) -> None:
    present = [v.strip() for v in headers.get("vary", "").split(",") if v.strip()]
    if value.lower() not in {v.lower() for v in present}:
        headers["vary"] = ", ".join([*present, value])


def encode(out: Outgoing, accept_encoding: str | None, active: Collection[str]) -> str | None:
    """Compress the body with gzip (or deflate) when the variation is on and the request allows the coding;
    the coding used, or None."""
    for coding in ("gzip", "deflate"):
        if coding not in active:
            continue
        _vary(out.headers, "Accept-Encoding")
        if out.content and accepts(accept_encoding, coding):
            out.content = gzip.compress(out.content, mtime=0) if coding == "gzip" else zlib.compress(out.content)
            out.headers["content-encoding"] = coding
            return coding
    return None


def extra_headers(headers: dict[str, str], count: int) -> None:
    """Headers a real deployment adds: framework banner, timing, caching, a help link, nosniff."""
    headers["x-powered-by"] = "Express"
    headers["server-timing"] = f'upstream;dur={count % 50 + 0.5:.1f}, proxy;desc="variation proxy"'
    headers["cache-control"] = "no-store"
    headers["link"] = '<https://developer.example.com/accounting>; rel="help"'
    headers["x-content-type-options"] = "nosniff"
    _vary(headers, "Accept-Encoding")


def request_id(count: int) -> str:
    """A request id in one of several forms, in turn: prefixed hex, ULID-like, a plain number, an upper-case UUID."""
    form = count % 4
    if form == 0:
        return f"req_{secrets.token_hex(12)}"
    if form == 1:
        return "01" + "".join(secrets.choice(_CROCKFORD) for _ in range(24))
    if form == 2:
        return str(10_000_000 + count)
    return str(uuid.uuid4()).upper()


async def transmit(out: Outgoing, method: str, chunked: bool, send: Send) -> int:
    """Send an answer over ASGI: with Content-Length, or in three chunks without it; 1 if it went chunked."""
    empty = method == "HEAD" or out.status in (204, 304)  # no content, whatever the headers say
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out.headers.items()]
    chunked = chunked and not empty and len(out.content) > 1
    if not chunked and out.status not in (204, 304):
        headers.append((b"content-length", str(len(out.content)).encode()))
    await send({"type": "http.response.start", "status": out.status, "headers": headers})
    content = b"" if empty else out.content
    if chunked:
        size = max(1, len(content) // 3)
        for start in range(0, len(content), size):
            await send({"type": "http.response.body", "body": content[start : start + size], "more_body": True})
        content = b""
    await send({"type": "http.response.body", "body": content, "more_body": False})
    return int(chunked)
