"""schemathesis' per-operation fuzzing with the operations side by side: `fuzzed(fixture)` in place of
`schemathesis.pytest.from_fixture(fixture).parametrize()`.

schemathesis' pytest integration runs a lazily loaded schema as one test whose operations are subtests, one after
another, each a Hypothesis test of its own. This module builds the same Hypothesis tests with the same builder and
reports each operation as the same subtest, under the same node id, in the same order; only the running differs: when
the generated phases begin (conformance/streams.py) every operation's test is handed to the run's threads, and the
pytest test then waits for each in turn and reports it. schemathesis' own runner does the same with `--workers`:
Hypothesis runs distinct tests in distinct threads (it is thread-safe since 6.136).

Each operation's task also keeps its connections alive: `session()` is a requests session made as schemathesis' runner
makes one per worker (TLS verification, basic auth and headers from the project's configuration; cookies dropped after
each call), for `case.call_and_validate(session=...)`. Without one, schemathesis opens a connection per request,
which on a real network costs a TCP handshake (and a TLS one) per request.

It leans on schemathesis' internals (schemathesis.pytest.lazy, _subtests, plugin.report_subtest,
engine.context.make_session), as they are in 4.x: pyproject.toml keeps schemathesis below 5, and every conformance
run goes through this path.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest import SkipTest

import pytest
import requests
from schemathesis.config import ProjectConfig
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.failures import FailureGroup, as_reported_failure
from schemathesis.core.result import Ok
from schemathesis.engine.context import make_session
from schemathesis.filters import FilterSet
from schemathesis.pytest._keys import track_schema
from schemathesis.pytest._subtests import make_subtests
from schemathesis.pytest.lazy import _schema_error, get_all_tests, get_schema
from schemathesis.pytest.plugin import report_subtest
from schemathesis.schemas import APIOperation, BaseSchema

from accounting_conformance.conformance.streams import STREAM_ATTR, Outcome, Streams


@dataclass
class Fuzzing:
    """The fuzzer's work once begun: the schema, and for each operation its outcome to come (or why it has none)."""

    schema: BaseSchema
    operations: list[tuple[APIOperation[Any, Any, Any, Any], Outcome[None]] | InvalidSchema]


_THREAD = threading.local()


def _cost(operation: APIOperation[Any, Any, Any, Any]) -> tuple[bool, int]:
    """How long an operation's fuzzing may take, roughly: one with a body generates the most cases, then the more query
    parameters the more. The longest are started first, so that the last to finish is not one begun last."""
    return bool(operation.body), len(operation.query)


def session() -> requests.Session | None:
    """The kept-alive connections of the operation the calling thread fuzzes (None outside a fuzzed operation)."""
    return getattr(_THREAD, "session", None)


def _run(
    test: Callable[..., None],
    arguments: dict[str, Any],
    config: ProjectConfig,
    operation: APIOperation[Any, Any, Any, Any],
) -> None:
    """One operation's Hypothesis test with a session of its own, its failures as schemathesis' pytest integration
    reports them."""
    __tracebackhide__ = True
    with make_session(config, operation=operation) as kept:
        _THREAD.session = kept
        try:
            test(**arguments)
        except FailureGroup as exc:
            raise as_reported_failure(exc) from None
        except SkipTest as exc:
            raise pytest.skip.Exception(str(exc)).with_traceback(exc.__traceback__) from None
        finally:
            _THREAD.session = None


def fuzzed(fixture: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Decorate a test taking `case` (and session fixtures) to fuzz every operation of the schema `fixture` gives,
    the operations side by side in the run's streams, each reported as its own subtest."""

    def decorate(test_func: Callable[..., None]) -> Callable[..., None]:
        names = [name for name in inspect.signature(test_func).parameters if name != "case"]

        def start(streams: Streams, item: pytest.Item, request: pytest.FixtureRequest) -> Fuzzing:
            from schemathesis.checks import load_all_checks

            load_all_checks()
            schema = get_schema(request=request, name=fixture, filter_set=FilterSet(), test_function=test_func)
            arguments = {name: request.getfixturevalue(name) for name in names}
            built = list(get_all_tests(schema=schema, test_func=test_func, settings=None, given_kwargs={}))
            tests = [result.ok() for result in built if isinstance(result, Ok)]
            outcomes: dict[int, Outcome[None]] = {}
            for operation, test in sorted(tests, key=lambda pair: _cost(pair[0]), reverse=True):  # the longest first
                work = functools.partial(_run, test, arguments, schema.config, operation)
                outcomes[id(operation)] = streams.submit(item.nodeid, work)
            operations: list[tuple[APIOperation[Any, Any, Any, Any], Outcome[None]] | InvalidSchema] = [
                (result.ok()[0], outcomes[id(result.ok()[0])]) if isinstance(result, Ok) else result.err()
                for result in built
            ]
            return Fuzzing(schema, operations)  # reported in the contract's order, as schemathesis does

        def test(request: pytest.FixtureRequest, streams: Streams) -> None:
            __tracebackhide__ = True
            fuzzing: Fuzzing = streams.begun(request.node.nodeid)
            if not fuzzing.operations:
                pytest.fail(f"{request.node.nodeid}: the schema has no operations to fuzz")
            track_schema(request.session.config, fuzzing.schema)
            request.session.testscollected += len(fuzzing.operations)
            subtests = make_subtests(request)
            node_id = request.node._nodeid
            try:
                for entry in fuzzing.operations:
                    if isinstance(entry, InvalidSchema):
                        with report_subtest(request.node, fuzzing.schema, entry.label, None):
                            _schema_error(subtests, entry, node_id, request.node)
                        continue
                    operation, outcome = entry
                    request.node._nodeid = f"{node_id}[{operation.method.upper()} {operation.path}]"
                    with report_subtest(request.node, fuzzing.schema, operation.label, operation.tags):
                        with subtests.test(label=operation.label):
                            outcome.result()
            finally:
                request.node._nodeid = node_id

        test.__name__, test.__qualname__, test.__doc__ = test_func.__name__, test_func.__qualname__, test_func.__doc__
        test.__module__ = test_func.__module__
        test.pytestmark = list(getattr(test_func, "pytestmark", []))  # type: ignore[attr-defined]
        setattr(test, STREAM_ATTR, start)
        return test

    return decorate
