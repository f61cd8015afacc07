"""What one run keeps beside each test's outcome: the exchanges and their coverage, the tests set aside for features
the target does not claim, the recordings of failing tests, the baseline, and at the end its conclusion."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from accounting_conformance.conformance import baseline as baselines
from accounting_conformance.conformance.claims import FEATURES, feature_operations, not_claimed, without_unclaimed
from accounting_conformance.conformance.conclusion import Conclusion, conclude
from accounting_conformance.conformance.contract import load_spec
from accounting_conformance.conformance.coverage import Coverage, Matcher, operations_of
from accounting_conformance.conformance.outcomes import TestRecord
from accounting_conformance.conformance.recorder import Recorder
from accounting_conformance.conformance.redact import Redactor
from accounting_conformance.conformance.report import Findings, summary
from accounting_conformance.conformance.settings import Settings
from accounting_conformance.conformance.states import StateLog

RECORDINGS = "recordings"


class RunRecord:
    """The run-wide findings the plugin gathers; `conclude` turns them and the records into summary.json."""

    def __init__(self, settings: Settings, redactor: Redactor, today: date | None = None) -> None:
        self.settings = settings
        self.redactor = redactor
        self.today = today or date.today()
        spec = load_spec()
        self.unclaimed = settings.unclaimed
        claimed = operations_of(without_unclaimed(spec, self.unclaimed))
        self.matcher = Matcher(operations_of(spec))
        self.coverage = Coverage(claimed)
        self.recorder = Recorder(base=settings.target or "", match=self.matcher)
        self.recorder.listeners.append(self.coverage.observe)
        self.unclaimed_operations = feature_operations(spec, self.unclaimed)
        self.not_claimed: set[str] = set()
        self.entries = (
            baselines.load(settings.baseline, [op.operation_id for op in claimed]) if settings.baseline else []
        )
        self.conclusion: Conclusion | None = None
        self.messages: list[str] = []  # what the terminal summary says beyond the report (a baseline written)

    # ------------------------------------------------------------------ claims
    def set_aside(self, item: pytest.Item) -> None:
        """Skip a test of features the target does not claim ("not claimed"), or one that needs such a feature."""
        features = {name for mark in item.iter_markers("features") for name in mark.args}
        unknown = sorted(features - set(FEATURES))
        if unknown:
            raise pytest.UsageError(
                f"{item.nodeid}: unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURES)}"
            )
        if not self.unclaimed:
            return
        rules = [r for mark in item.iter_markers("rules") for r in mark.args]
        if not_claimed(rules, self.unclaimed):
            self.not_claimed.add(item.nodeid)
            theirs = sorted(name for name in self.unclaimed if set(FEATURES[name].rules) & set(rules))
            item.add_marker(pytest.mark.skip(reason=f"not claimed: the target does not offer {', '.join(theirs)}"))
            return
        operations = {op for mark in item.iter_markers("operations") for op in mark.args} & self.unclaimed_operations
        needed = sorted(features & self.unclaimed) + sorted(operations)
        if needed:
            item.add_marker(
                pytest.mark.skip(reason=f"needs {', '.join(needed)}, which the target does not claim (UNCLAIMED)")
            )

    # ------------------------------------------------------------------ recordings
    def finish_test(self, nodeid: str, records: list[TestRecord]) -> None:
        """Write the recording of a test that failed a rule; let a passing test's exchanges go."""
        failing = [r for r in records if r.failures]
        if failing:
            from accounting_conformance.conformance.har import slug, write_har

            name = f"{RECORDINGS}/{slug(nodeid)}.har"
            exchanges = self.recorder.exchanges_of(nodeid)
            meta = {
                "test": nodeid,
                "seed": self.settings.seed,
                "target": self.redactor(self.settings.target or ""),
                "token_in": self.settings.token_in,
                "dropped": self.recorder.dropped(nodeid),
                "earlier_examples_requests": self.recorder.earlier(nodeid),
                "failures": [
                    {k: getattr(f, k) for k in ("rule", "title", "expected", "received", "operation")}
                    for r in failing
                    for f in r.failures
                ],
            }
            if exchanges:
                source = self.settings.token_source
                tokens = tuple(source.tokens()) if source is not None else (self.settings.access_token,)
                write_har(self.settings.report_dir / name, exchanges, self.redactor, meta, tokens=tokens)
                for record in failing:
                    record.recording = name
        self.recorder.forget(nodeid)

    # ------------------------------------------------------------------ the end
    def _baseline(self, records: list[TestRecord]) -> dict[str, Any] | None:
        if self.settings.baseline is None and self.settings.baseline_write is None:
            return None
        name = baselines.operation_namer(self.matcher)
        failures = [(r, f) for r in records for f in r.failures]
        judged = [baselines.Failure(f.rule, name(f.operation), r.nodeid) for r, f in failures]
        if self.settings.baseline_write is not None:
            written = baselines.write(self.settings.baseline_write, judged, [f.title for _, f in failures], self.today)
            self.messages.append(f"Baseline: wrote {written} entries to {self.settings.baseline_write}")
        if self.settings.baseline is None:
            return None
        accepting, result = baselines.judge(self.entries, judged, self.today)
        for (_, failure), entry in zip(failures, accepting, strict=True):
            if entry is not None:
                failure.accepted, failure.reason = True, entry.reason
        return {"file": str(self.settings.baseline), **result}

    def conclude(
        self, records: list[TestRecord], pytest_code: int, *, broken: bool, states: StateLog
    ) -> dict[str, Any]:
        """The run's summary (summary.json), its conclusion decided."""
        baseline = self._baseline(records)
        coverage = self.coverage.asdict(self.settings.min_coverage)
        rules_not_claimed = {r for name in self.unclaimed for r in FEATURES[name].rules}
        self.conclusion = conclude(
            records,
            pytest_code=pytest_code,
            broken=broken,
            coverage=coverage,
            baseline=baseline,
            not_claimed=len(rules_not_claimed),
        )
        return summary(
            self.settings,
            records,
            Findings(self.conclusion, coverage, self.unclaimed, baseline, states),
        )
