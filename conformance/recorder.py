"""Every exchange of a run, as sent and received: for the coverage matrix and for the recordings of failing tests.

Both ways the suite talks to a target report here: its own client (`ApiClient`) and schemathesis' transport. The
plugin says which test is running; a test that runs in a thread of its own (conformance/streams.py) says so for that
thread (`attribute`). Exchanges are kept per test until the test's outcome is known, then the coverage counts them and
a failing test's are written out (redacted then, never here).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

#: How many exchanges one test keeps for its recording (a generated phase may send thousands; the last ones tell).
KEEP_PER_TEST = 2000


@dataclass
class Recorded:
    """One request and what came back, unredacted."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int  # 0 when no response came (transport error)
    response_headers: dict[str, str]
    response_body: str
    started: str  # ISO 8601 UTC, with its zone
    elapsed: float
    operation_id: str | None
    error: str | None = None


def now() -> str:
    """The current instant as the recordings write it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Recorder:
    """Collects the run's exchanges test by test; `match` names the operation of a method and URL path."""

    base: str
    match: Callable[[str, str], str | None]
    main: str = ""  # the node id of the test pytest is running ("" between tests)
    _by_test: dict[str, list[Recorded]] = field(default_factory=dict)
    _dropped: dict[str, int] = field(default_factory=dict)  # let go by KEEP_PER_TEST within the last example
    _earlier: dict[str, int] = field(default_factory=dict)  # sent by earlier examples of a generated test
    _lock: threading.Lock = field(default_factory=threading.Lock)
    listeners: list[Callable[[Recorded], None]] = field(default_factory=list)
    _threads: threading.local = field(default_factory=threading.local)  # a stream's thread: the test it runs

    @property
    def current(self) -> str:
        """The test the calling thread sends for: its stream's, else the one pytest is running."""
        return getattr(self._threads, "nodeid", None) or self.main

    @contextmanager
    def attribute(self, nodeid: str) -> Iterator[None]:
        """Within this block, what the calling thread sends is `nodeid`'s (a test run in a thread of its own)."""
        before = getattr(self._threads, "nodeid", None)
        self._threads.nodeid = nodeid
        try:
            yield
        finally:
            self._threads.nodeid = before

    def operation_of(self, method: str, url: str) -> str | None:
        """The contract operation a request went to, or None for a path the contract does not have."""
        path = urlsplit(url).path
        base_path = urlsplit(self.base).path.rstrip("/")
        if base_path and path.startswith(base_path):
            path = path[len(base_path) :] or "/"
        return self.match(method.upper(), path)

    def record(
        self,
        method: str,
        url: str,
        request_headers: Mapping[str, str],
        request_body: str | bytes | None,
        status: int,
        response_headers: Mapping[str, Any],
        response_body: str | bytes,
        *,
        started: str,
        elapsed: float,
        error: str | None = None,
    ) -> Recorded:
        """Keep one exchange under the running test and tell the listeners (the coverage)."""
        entry = Recorded(
            method=method.upper(),
            url=url,
            request_headers={str(k): str(v) for k, v in request_headers.items()},
            request_body=_text(request_body),
            status=status,
            response_headers={str(k).lower(): _header(v) for k, v in response_headers.items()},
            response_body=_text(response_body) or "",
            started=started,
            elapsed=elapsed,
            operation_id=self.operation_of(method, url),
            error=error,
        )
        owner = self.current
        with self._lock:  # threads record side by side: the listeners (the coverage's counts) are called one at a time
            kept = self._by_test.setdefault(owner, [])
            kept.append(entry)
            if len(kept) > KEEP_PER_TEST:
                del kept[0]
                self._dropped[owner] = self._dropped.get(owner, 0) + 1
            for listener in self.listeners:
                listener(entry)
        return entry

    def start(self, nodeid: str) -> None:
        """pytest begins a test: its exchanges (those of threads not attributed to another) are kept under its id."""
        self.main = nodeid

    def begin_example(self) -> None:
        """A generated test starts another example: what the earlier ones sent is let go (counted as dropped), so a
        failing test's recording is its last example, the one Hypothesis replays to report the failure."""
        owner = self.current
        with self._lock:
            earlier = self._by_test.get(owner, [])
            self._earlier[owner] = self._earlier.get(owner, 0) + len(earlier)
            self._dropped.pop(owner, None)  # what the cap let go belonged to the earlier examples too
            self._by_test[owner] = []

    def exchanges_of(self, nodeid: str) -> list[Recorded]:
        """One test's exchanges in the order they were sent (the last KEEP_PER_TEST of them)."""
        with self._lock:
            return list(self._by_test.get(nodeid, []))

    def dropped(self, nodeid: str) -> int:
        """How many early exchanges of a test's last example were not kept (over KEEP_PER_TEST)."""
        return self._dropped.get(nodeid, 0)

    def earlier(self, nodeid: str) -> int:
        """How many exchanges earlier examples of a generated test sent (not in its recording)."""
        return self._earlier.get(nodeid, 0)

    def forget(self, nodeid: str) -> None:
        """A test passed: its exchanges are no longer needed."""
        with self._lock:
            self._by_test.pop(nodeid, None)
            self._dropped.pop(nodeid, None)
            self._earlier.pop(nodeid, None)


def _text(value: str | bytes | None) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def _header(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
