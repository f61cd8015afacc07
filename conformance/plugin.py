"""The pytest plugin of a conformance run: settings for the tests, outcomes by rule, reports at the end."""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import pytest

from accounting_conformance.conformance import interruption, report
from accounting_conformance.conformance.fixtures import FixturesError
from accounting_conformance.conformance.outcomes import TestRecord, classify, suite_bugs
from accounting_conformance.conformance.pacing import Pacer
from accounting_conformance.conformance.redact import Redactor
from accounting_conformance.conformance.run_record import RunRecord
from accounting_conformance.conformance.settings import Settings, SettingsError
from accounting_conformance.conformance.states import StateLog

#: What a test raises when the run's own configuration cannot serve it (fixtures the target lacks): no verdict.
CONFIGURATION = (FixturesError, SettingsError)


#: The phases of a run, in the order they run: cheapest and most pointed first, so that a fault shows within seconds;
#: the long generated phases (the state machines, the fuzzer) last. Each conformance module marks its tests with one
#: (`pytestmark = pytest.mark.phase("writes")`); a test without one runs after all of them.
PHASES: dict[str, str] = {
    "writes": "one write of each kind and what it leaves: echo, update, delete, refusals, idempotency, jobs, tokens",
    "applications": "application rules beyond one call",
    "lifecycles": "each memo kind walked through every state the contract names",
    "requests": "bodies that are not the JSON object the contract asks for",
    "queries": "lists over a few created objects: paging, filters, sorts, expand, id types",
    "model": "generated credit workflows against the model ledger",
    "links": "schemathesis' state machine over the contract's links",
    "fuzz": "every operation fuzzed from the contract",
}


def phase_rank(item: pytest.Item) -> int:
    """Where an item's phase comes in PHASES (an item without one last); UsageError for an unknown phase."""
    mark = item.get_closest_marker("phase")
    if mark is None:
        return len(PHASES)
    name = mark.args[0] if mark.args else None
    if name not in PHASES:
        raise pytest.UsageError(f"{item.nodeid}: unknown phase {name!r}; known: {', '.join(PHASES)}")
    return list(PHASES).index(name)


#: The markers the conformance tests carry (the run is strict about markers: each must be registered).
MARKERS: dict[str, str] = {
    "rules": "rules(*ids): the rule IDs a conformance test covers (conformance/rules.py)",
    "phase": f"phase(name): when a conformance test runs, one of {', '.join(PHASES)}",
    "operations": "operations(*operation_ids): contract operations a test needs beyond its kind's; skipped where the "
    "target's platform lacks one",
    "features": "features(*names): optional features (conformance/claims.py) a test uses beyond its rules'; skipped "
    "where the target does not claim one",
}


def register_markers(config: pytest.Config) -> None:
    """Register the conformance tests' markers with a pytest session."""
    for line in MARKERS.values():
        config.addinivalue_line("markers", line)


class ConformancePlugin:
    """Carries the run's settings into the tests and collects what each test showed, rule by rule."""

    name = "conformance"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redactor = Redactor(settings.secrets(), settings.basic_auth)
        self.records: list[TestRecord] = []
        self.summary: dict[str, Any] | None = None  # summary.json, once the session has finished
        self.broken: list[str] = []  # the run's configuration cannot serve a test: no verdict
        self.suite_errors: list[str] = []  # bugs of the suite itself (node id and traceback), never a rule failure
        self.started = time.monotonic()
        self.states = StateLog()  # the document states the run drove the target through
        self.run = RunRecord(settings, self.redactor)  # coverage, claims, recordings, the baseline, the conclusion
        self.recorder = self.run.recorder
        self.pacer = Pacer(settings.rate_limit)  # every request of the run, from every thread, keeps to its pace

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Time the run from here: each record says when it ended (`elapsed`)."""
        self.started = time.monotonic()

    def pytest_configure(self, config: pytest.Config) -> None:
        """Register the markers of the conformance tests."""
        register_markers(config)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Run the phases in PHASES order, keeping the collection order within each (a stable sort); set aside the
        tests of features the target does not claim."""
        items.sort(key=phase_rank)
        for item in items:
            self.run.set_aside(item)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """A run that was signalled stops before its next test, even if the first KeyboardInterrupt was swallowed."""
        interruption.raise_if_signalled()

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        """The exchanges from here on are this test's."""
        self.recorder.start(nodeid)

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        """A failing test's exchanges go to its recording; a passing test's are let go."""
        self.run.finish_test(nodeid, [r for r in self.records if r.nodeid == nodeid])

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A conformance module that cannot even be collected is a bug of the suite."""
        if report.failed:
            self.suite_errors.append(f"{report.nodeid} (collection)\n{self.redactor(report.longreprtext)}")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
        """Record each test's outcome against the rules it covers."""
        outcome = yield
        result: pytest.TestReport = outcome.get_result()
        rules = [r for mark in item.iter_markers("rules") for r in mark.args]
        if result.when == "call" or (result.when == "setup" and not result.passed):
            record = TestRecord(
                nodeid=item.nodeid,
                outcome=result.outcome,
                rules=rules,
                duration=result.duration,
                elapsed=time.monotonic() - self.started,
            )
            if result.skipped:
                record.skip_reason = _skip_reason(result)
                if item.nodeid in self.run.not_claimed:
                    record.outcome = "not claimed"
            elif result.failed and call.excinfo is not None and isinstance(call.excinfo.value, CONFIGURATION):
                self.broken.append(f"{item.nodeid}: {call.excinfo.value}")
            elif result.failed and call.excinfo is not None:
                record.failures = classify(
                    call.excinfo.value, rules[0] if rules else "SCHEMA-001", self.redactor, context=result.longreprtext
                )
                if suite_bugs(call.excinfo.value):
                    record.suite_error = self.redactor(result.longreprtext)
                    self.suite_errors.append(f"{item.nodeid}\n{record.suite_error}")
            self.records.append(record)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Conclude the run; write summary.json, report.html, summary.md, badge.json (JUnit is pytest's --junitxml)."""
        self.summary = self.run.conclude(self.records, int(exitstatus), broken=bool(self.broken), states=self.states)
        report.write(self.settings, self.summary)

    def pytest_terminal_summary(self, terminalreporter: Any, exitstatus: int) -> None:
        """Print the results grouped by rule, the coverage, and the seed to replay the run."""
        if self.summary is None:
            self.summary = self.run.conclude(
                self.records, int(exitstatus), broken=bool(self.broken), states=self.states
            )
        for line in [*report.terminal_lines(self.summary), *self.run.messages]:
            terminalreporter.write_line(self.redactor(line))


def _skip_reason(result: pytest.TestReport) -> str:
    longrepr = result.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)
