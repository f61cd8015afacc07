"""The generated phases side by side: each long test runs in threads of its own, and pytest reports it in its turn.

A run's time against a far target is its requests one after another, each a round trip. The generated phases (the
model ledger's workflows, schemathesis' links state machine, the fuzzer's operations) are most of those requests and
do not depend on one another: each creates and tags its own objects, and none can reach another's (their ids are
the target's, never guessed). So when the first of them is set up, all of them start in a pool of CONCURRENCY
threads (each fuzzed operation its own task), and each test, when pytest comes to it, waits for its own and reports
it: its outcome, failures and recordings are the same as if it had run alone, in the order pytest gives.

A test joins with `@stream` (or `conformance.fuzz_stream.fuzzed` for the fuzzer). Its parameters are the session's
fixtures, resolved on pytest's thread before the work is handed over; a function-scoped one is refused by pytest
(ScopeMismatch), which is the point. With CONCURRENCY=1 nothing runs in a thread: each test runs when its turn comes.
Every request still waits for the run's one pacer, so RATE_LIMIT and a 429's Retry-After hold for all threads
together; when the session ends (or is interrupted) the pacer stops and a thread still sending ends at its next send.
"""

from __future__ import annotations

import ast
import functools
import inspect
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import pytest

from accounting_conformance.conformance.pacing import Pacer
from accounting_conformance.conformance.recorder import Recorder

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
#: The attribute a stream test's function carries: how to start its work (a Start).
STREAM_ATTR = "_conformance_stream"


_PARSING = threading.RLock()  # re-entered when a parse is interrupted by a hook that parses (pytest's unraisable hook)


def serialise_ast_parsing() -> None:
    """Let one thread at a time in `ast.parse`: CPython keeps the AST builder's recursion depth per interpreter, not
    per thread, and two threads parsing at once fail with "SystemError: AST constructor recursion depth mismatch"
    (python/cpython#106905). pytest's assertion rewriting parses every module imported late, Hypothesis parses
    sources to describe strategies: both from the streams' threads. The lock is re-entrant: a parse on the same thread
    while one is under way (an unraisable-exception hook formatting a traceback mid-parse) must not wait for itself."""
    parse = ast.parse
    if getattr(parse, "_conformance_serialised", False):
        return

    @functools.wraps(parse)
    def serialised(*args: Any, **kwargs: Any) -> Any:
        with _PARSING:
            return parse(*args, **kwargs)

    serialised._conformance_serialised = True  # type: ignore[attr-defined]
    ast.parse = serialised


class Outcome(Protocol[T_co]):
    """A result to come: a thread's Future, or the work itself when it runs in its turn."""

    def result(self) -> T_co:
        """The work's value; what it raised is raised here."""


class Inline:
    """Work that runs on the caller's thread, the first time its result is asked for (CONCURRENCY=1)."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self._work = work

    def result(self) -> Any:
        """Run the work now and return what it returns."""
        return self._work()


class Start(Protocol):
    """How a stream test's work begins: given the run's streams, the test's item and a session fixture request."""

    def __call__(self, streams: Streams, item: pytest.Item, request: pytest.FixtureRequest) -> Any:
        """Begin the work; what the test will be handed when its turn comes."""


@dataclass
class Streams:
    """The run's worker threads, and the work each stream test began."""

    concurrency: int
    recorder: Recorder
    pacer: Pacer

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(self.concurrency, "stream") if self.concurrency > 1 else None
        if self._pool is not None:
            serialise_ast_parsing()
        self._begun: dict[str, Any] = {}

    def submit(self, nodeid: str, work: Callable[[], T]) -> Outcome[T]:
        """Run `work` in a worker thread, its exchanges `nodeid`'s (with CONCURRENCY=1: later, on the asking thread)."""

        def attributed() -> T:
            with self.recorder.attribute(nodeid):
                return work()

        if self._pool is None:
            return Inline(attributed)
        future: Future[T] = self._pool.submit(attributed)
        return future

    def begin(self, request: pytest.FixtureRequest) -> None:
        """Start the work of every stream test the session will run (selected, not set aside)."""
        for item in request.session.items:
            start: Start | None = getattr(getattr(item, "function", None), STREAM_ATTR, None)
            if start is not None and item.get_closest_marker("skip") is None:
                self._begun[item.nodeid] = start(self, item, request)

    def begun(self, nodeid: str) -> Any:
        """What a stream test's start handed over (its Outcome, for `@stream`)."""
        if nodeid not in self._begun:
            raise LookupError(
                f"{nodeid} is a stream test whose work was never begun (is the `streams` fixture set up?)"
            )
        return self._begun.pop(nodeid)

    def close(self) -> None:
        """The session is over: no request starts any more, and the threads are waited for."""
        self.pacer.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def session_arguments(function: Callable[..., Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    """A stream test's arguments: the fixtures its parameters name, resolved as a session fixture would."""
    return {name: request.getfixturevalue(name) for name in inspect.signature(function).parameters}


def stream(function: Callable[..., None]) -> Callable[..., None]:
    """Mark a test whose body runs in a thread of its own from the start of the generated phases (its parameters must
    be session fixtures); pytest's test waits for it and reports its outcome."""

    def start(streams: Streams, item: pytest.Item, request: pytest.FixtureRequest) -> Outcome[None]:
        arguments = session_arguments(function, request)
        return streams.submit(item.nodeid, lambda: function(**arguments))

    @functools.wraps(function)
    def test(request: pytest.FixtureRequest, streams: Streams) -> None:
        __tracebackhide__ = True
        streams.begun(request.node.nodeid).result()

    test.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in ("request", "streams")]
    )
    setattr(test, STREAM_ATTR, start)
    return test
