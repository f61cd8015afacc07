"""A latency-adding HTTP/1.1 reverse proxy: each final response held back D ms, the exchange otherwise as it was.

`with LatencyProxy("http://127.0.0.1:8900", 50) as url:` serves on a free loopback port from a thread of its own. Each
client connection has its own connection to the target, both kept alive. Heads pass byte for byte (the request target
gains the target's base path), bodies stream in the framing they came in; only the hop-by-hop fields of RFC 9110 7.6.1
go (Connection and those it names, Keep-Alive, Proxy-Connection, TE, Upgrade; and Content-Length beside chunked, RFC
9112 6.3). A request that cannot be framed gets a 400 (431: a head over 64 KiB); a target that closes, cannot be reached
or answers what cannot be framed gets the client's connection closed, as the target would have left it. Unlike the
variation proxy (Starlette and httpx make heads anew), no byte of an exchange is made anew here.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

PIECE = 64 * 1024  # a head longer than asyncio's stream limit (64 KiB) is refused with a 431
REUSE_IDLE_S = 4.0  # an idle connection to the target is not reused after this (uvicorn closes them at 5 s)
CHUNKED, TO_EOF = -1, -2  # body framings beside a byte count
HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-connection", b"te", b"upgrade"})
IDEMPOTENT = frozenset({b"GET", b"HEAD", b"OPTIONS", b"PUT", b"DELETE", b"TRACE"})
REASONS = {400: b"Bad Request", 431: b"Request Header Fields Too Large", 501: b"Not Implemented"}
_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([^\s]+) (HTTP/1\.[01])")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([1-9][0-9]{2})(?: [^\r\n]*)?")
_FIELD = re.compile(_TOKEN + rb":[^\r\n]*")


class Malformed(Exception):
    """A message that cannot be framed; its argument, if any, the status a client is told (else 400)."""


@dataclass
class Head:
    """A message head as received: its first line and its field lines, without line ends."""

    first: bytes
    lines: list[bytes]

    @classmethod
    def parse(cls, data: bytes) -> Head:
        """The head of `data` (ending in an empty line); Malformed for a line with a lone CR or LF, or no `name:`."""
        first, *lines = data[:-4].split(b"\r\n")
        if b"\n" in first or b"\r" in first or not all(_FIELD.fullmatch(line) for line in lines):
            raise Malformed()
        return cls(first, lines)

    def values(self, name: bytes) -> list[bytes]:
        """The comma-separated values of every field called `name`, trimmed and in lower case."""
        found = [ln.split(b":", 1)[1] for ln in self.lines if ln.split(b":", 1)[0].lower() == name]
        return [v.strip().lower() for value in found for v in value.split(b",") if v.strip()]

    def framing(self) -> int:
        """The body's length, CHUNKED, or TO_EOF (a last coding other than chunked); Malformed for a bad length."""
        codings = self.values(b"transfer-encoding")
        if codings:
            return CHUNKED if codings[-1] == b"chunked" else TO_EOF
        lengths = set(self.values(b"content-length"))
        if len(lengths) > 1 or not all(v.isdigit() for v in lengths):
            raise Malformed()
        return int(lengths.pop()) if lengths else 0

    def render(self, first: bytes, framing: int, close: bool = False) -> bytes:
        """The head to send on: `first`, the fields but the hop-by-hop ones, and `Connection: close` if asked."""
        gone = HOP_BY_HOP | set(self.values(b"connection")) | ({b"content-length"} if framing == CHUNKED else set())
        kept = [ln for ln in self.lines if ln.split(b":", 1)[0].lower() not in gone]
        return b"\r\n".join([first, *kept, *([b"Connection: close"] if close else [])]) + b"\r\n\r\n"


async def read_head(reader: asyncio.StreamReader) -> bytes | None:
    """The next head's bytes, blank lines before it skipped; None at a clean end; Malformed (431: too long)."""
    while True:
        try:
            data = (await reader.readuntil(b"\r\n\r\n")).lstrip(b"\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip(b"\r\n"):
                raise Malformed() from None
            return None
        except asyncio.LimitOverrunError:
            raise Malformed(431) from None
        if data:
            return data


async def pieces(reader: asyncio.StreamReader, framing: int) -> AsyncIterator[bytes]:
    """A body's bytes as they come, framing included; ConnectionError if the sender stops short."""
    if framing == CHUNKED:
        while True:
            line = await reader.readuntil(b"\r\n")
            size = line.split(b";", 1)[0].strip()
            if not re.fullmatch(rb"[0-9A-Fa-f]{1,15}", size):
                raise Malformed()
            yield line
            if int(size, 16) == 0:
                break
            async for piece in pieces(reader, int(size, 16) + 2):
                yield piece
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":  # the trailer section, then its end
            yield line
        yield line
        return
    left = framing
    while left and (piece := await reader.read(PIECE if left < 0 else min(left, PIECE))):
        left -= len(piece) if left > 0 else 0
        yield piece
    if left > 0:
        raise ConnectionError("the body stopped short")


@dataclass
class Upstream:
    """One connection to the target, and since when it has been idle (None: never used)."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float | None = None


async def send_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, framing: int) -> bool:
    """Stream a request body on; False if the target stopped taking it (the rest is read and let go)."""
    taken = True
    async for piece in pieces(reader, framing):
        try:
            if taken:
                writer.write(piece)
                await writer.drain()
        except (ConnectionError, OSError):
            taken = False
    return taken


async def final_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> tuple[int, Head]:
    """The target's final status and head, interim (1xx) ones relayed; ConnectionError if it closed first."""
    while (data := await read_head(reader)) is not None:
        head = Head.parse(data)
        status = _STATUS_LINE.fullmatch(head.first)
        if status is None or status[2] == b"101":
            raise Malformed()
        if not status[2].startswith(b"1"):
            return int(status[2]), head
        writer.write(head.render(head.first, 0))
    raise ConnectionError("the target closed the connection without an answer")


def _close(writer: asyncio.StreamWriter, abort: bool = False) -> None:
    with contextlib.suppress(Exception):
        writer.transport.abort() if abort else writer.close()


class LatencyProxy:
    """The proxy in a thread: `with LatencyProxy(target, delay_ms) as url`; counts what it forwarded."""

    def __init__(self, target: str, delay_ms: float, *, port: int = 0) -> None:
        parts = urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the target must be an http:// base URL, got {target!r}")
        self.host, self.target_port, self.base_path = parts.hostname, parts.port or 80, parts.path.rstrip("/").encode()
        self.delay, self.port, self.url = delay_ms / 1000, port, ""
        self.requests = 0  # requests forwarded to the target
        self.connections = 0  # client connections accepted (each a TCP handshake, and a TLS one, on a real network)
        self.refused = 0  # requests answered here (400, 431, 501): they could not be framed
        self.broken = 0  # connections cut: the target or the client closed early, or sent what cannot be framed
        self.arrivals: list[tuple[float, str]] = []  # per request: time.time() its head came, "GET /path" (no query)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> str:
        """Listen on loopback (a free port unless one was given); the proxy's base URL."""
        loop = asyncio.new_event_loop()
        try:
            self._server = loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", self.port))
        except BaseException:
            loop.close()
            raise
        self.port = int(self._server.sockets[0].getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop, self._thread = loop, threading.Thread(target=loop.run_forever, name="latency-proxy", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop listening, cut every open connection and end the thread."""
        loop, self._loop = self._loop, None
        if loop is not None and self._thread is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(timeout=10)
            loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.sleep(0.01)  # the transports' closing callbacks

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        up: list[Upstream] = []  # at most one, kept alive between the exchanges of this client connection
        cut = True
        try:
            while await self._exchange(reader, writer, up):
                pass
            cut = False
        except asyncio.CancelledError:  # stop(): ended quietly (Python 3.11 logs a task that ends cancelled)
            pass
        except Exception:  # anything odd from either side ends this connection, never the proxy
            self.broken += 1
        finally:
            for connection in up:
                _close(connection.writer, cut)
            _close(writer, cut)
            self._tasks.discard(task)

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, up: list[Upstream]) -> bool:
        """Relay one request and its answer; whether the client's connection goes on."""
        try:
            data = await read_head(reader)
            if data is None:
                return False
            head = Head.parse(data)
            line = _REQUEST_LINE.fullmatch(head.first)
            if line is None or line[1] == b"CONNECT":
                raise Malformed(400 if line is None else 501)
            method, target, version, framing = line[1], line[2], line[3], head.framing()
            if target.lower().startswith((b"http://", b"https://")):  # absolute-form: the path of it
                target = b"/" + target.split(b"/", 3)[3] if target.count(b"/") >= 3 else b"/"
            if framing == TO_EOF or not target.startswith(b"/") and target != b"*":
                raise Malformed()
        except Malformed as exc:
            self.refused += 1
            code = exc.args[0] if exc.args else 400
            writer.write(b"HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" % (code, REASONS[code]))
            await writer.drain()
            return False
        self.requests += 1
        self.arrivals.append((time.time(), (method + b" " + target.split(b"?", 1)[0]).decode("latin-1")))
        path = target if target == b"*" else self.base_path + target
        request = head.render(b" ".join([method, path, version]), framing)
        while True:
            if up and (up[0].reader.at_eof() or time.monotonic() - (up[0].idle_since or 0.0) > REUSE_IDLE_S):
                _close(up.pop().writer)
            if not up:
                up.append(Upstream(*await asyncio.open_connection(self.host, self.target_port)))
            connection = up[0]
            connection.writer.write(request)
            try:  # the body first, as clients send it: a target that answers before it is all in has it read anyway
                body_sent = await send_body(reader, connection.writer, framing) if framing else True
                status, reply = await final_head(connection.reader, writer)
                break
            except ConnectionError:  # closed as it was reused: sent again on a new one, if that is safe
                _close(up.pop().writer)
                if framing or connection.idle_since is None or method not in IDEMPOTENT:
                    raise
        length = 0 if method == b"HEAD" or status in (204, 304) else reply.framing()
        client_on = version == b"HTTP/1.1" and b"close" not in head.values(b"connection") and length != TO_EOF
        client_on = client_on and body_sent  # a body the target did not take all of: the connection ends
        if self.delay:
            await asyncio.sleep(self.delay)
        writer.write(reply.render(reply.first, length, close=not client_on))
        async for piece in pieces(connection.reader, length):
            writer.write(piece)
            await writer.drain()
        await writer.drain()
        options = reply.values(b"connection")
        if client_on and b"close" not in options and (reply.first.startswith(b"HTTP/1.1") or b"keep-alive" in options):
            connection.idle_since = time.monotonic()
        else:
            _close(up.pop().writer)
        return client_on
