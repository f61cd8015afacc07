"""Turn what a test raised into per-rule outcomes: which rules failed, how, and how to reproduce."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import requests
from hypothesis.errors import Flaky
from schemathesis.core.failures import Failure

from accounting_conformance.conformance.client import TargetUnreachable
from accounting_conformance.conformance.failures import RuleViolation
from accounting_conformance.conformance.redact import Redactor

# schemathesis' built-in failures, by class name, under the rule IDs the report groups them by.
BUILTIN_RULES = {
    "ServerError": "SCHEMA-002",
    "AcceptedNegativeData": "SCHEMA-003",
    "RejectedPositiveData": "SCHEMA-004",
    "IgnoredAuth": "AUTH-001",
    "UseAfterFree": "WRITE-003",
    "EnsureResourceAvailability": "WRITE-001",
}
_CURL = re.compile(r"(curl -[^\n]+)")

#: What the target's side of the wire raises (schemathesis' transport, our client): no usable response, which
#: fails the rule under test. Anything else a test raises that is not a rule failure is a bug of the suite.
TARGET_CAUSED: tuple[type[BaseException], ...] = (
    requests.exceptions.RequestException,
    httpx.HTTPError,
    TargetUnreachable,
    TimeoutError,
    ConnectionError,
)


@dataclass
class FailureRecord:
    """One failure as the reports show it."""

    rule: str
    title: str
    expected: str = ""
    received: str = ""
    detail: str = ""
    reproduction: str = ""
    operation: str = ""
    accepted: bool = False  # matched by a live entry of the baseline: reported, does not fail the run
    reason: str = ""  # the baseline entry's reason, when accepted


@dataclass
class TestRecord:
    """One test's outcome and the rules it covers."""

    __test__ = False  # not a pytest test class, despite the name

    nodeid: str
    outcome: str  # passed | failed | skipped | not claimed
    rules: list[str]
    duration: float = 0.0
    elapsed: float = 0.0  # seconds from the start of the session to the end of this test (or subtest)
    skip_reason: str = ""
    failures: list[FailureRecord] = field(default_factory=list)
    suite_error: str = ""  # the traceback of a bug of the suite itself (never a rule failure)
    recording: str | None = None  # the HAR file of a failing test, relative to the report directory

    def asdict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    elif isinstance(exc, Flaky) and (exc.__cause__ or exc.__context__) is not None:
        # Hypothesis replays a failing example to shrink and report it; a target that answers differently the
        # second time makes the replay draw differently (FlakyStrategyDefinition). What it first raised is the finding.
        yield from _leaves(exc.__cause__ or exc.__context__)  # type: ignore[arg-type]
    else:
        yield exc


def _notes(exc: BaseException) -> str:
    return "\n".join(getattr(exc, "__notes__", []) or [])


def suite_bugs(exc: BaseException) -> list[BaseException]:
    """The exceptions inside what a test raised that are bugs of the suite: neither a rule failure nor the target's doing."""
    return [leaf for leaf in _leaves(exc) if not isinstance(leaf, (Failure, *TARGET_CAUSED, KeyboardInterrupt))]


def classify(exc: BaseException, default_rule: str, redactor: Redactor, context: str = "") -> list[FailureRecord]:
    """The rule failures behind an exception a test raised (bugs of the suite are left to `suite_bugs`);
    `context` is pytest's report text."""
    records: list[FailureRecord] = []
    outer_notes = _notes(exc) + "\n" + context
    for leaf in _leaves(exc):
        text = redactor(f"{leaf}\n{_notes(leaf)}\n{outer_notes}")
        match = _CURL.search(text)
        repro = match.group(1) if match else ""
        if isinstance(leaf, RuleViolation):
            records.append(
                FailureRecord(
                    rule=leaf.rule,
                    title=leaf.title,
                    expected=redactor(leaf.expected),
                    received=redactor(leaf.received),
                    detail=redactor(leaf.message),
                    reproduction=redactor(leaf.reproduction or repro),
                    operation=leaf.operation or "",
                )
            )
        elif isinstance(leaf, Failure):
            rule = BUILTIN_RULES.get(type(leaf).__name__, "SCHEMA-001")
            records.append(
                FailureRecord(
                    rule=rule,
                    title=redactor(leaf.title),
                    detail=redactor(leaf.message),
                    reproduction=repro,
                    operation=leaf.operation or "",
                )
            )
        elif isinstance(leaf, TARGET_CAUSED):
            records.append(
                FailureRecord(
                    rule=default_rule,
                    title=f"No usable response: {type(leaf).__name__}",
                    expected="an HTTP response",
                    received=redactor(str(leaf))[:500],
                    detail=text[:4000],
                    reproduction=repro,
                )
            )
    return records
