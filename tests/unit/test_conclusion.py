"""The conclusion: accepted failures do not fail a run, expired entries and too little coverage do."""

from __future__ import annotations

from typing import Any

from accounting_conformance.conformance.conclusion import conclude
from accounting_conformance.conformance.outcomes import FailureRecord, TestRecord

COVERED = {
    "operations_total": 21,
    "operations_exercised": 21,
    "responses_total": 104,
    "responses_seen": 97,
    "met": True,
}


def _failing(accepted: bool) -> TestRecord:
    record = TestRecord("t::x", "failed", ["APPLY-001"])
    record.failures = [FailureRecord("APPLY-001", "title", accepted=accepted)]
    return record


def _conclude(records: list[TestRecord], *, code: int = 1, coverage: dict[str, Any] = COVERED, **kw: Any):  # type: ignore[no-untyped-def]
    return conclude(
        records,
        pytest_code=code,
        broken=False,
        coverage=coverage,
        baseline=kw.get("baseline"),
        not_claimed=kw.get("not_claimed", 0),
    )


def test_a_clean_run_is_conformant_with_its_coverage_in_the_verdict_line() -> None:
    done = _conclude([TestRecord("t::a", "passed", ["MONEY-003"])], code=0)
    assert (done.code, done.verdict) == (0, "conformant")
    assert done.line == "conformant: 21/21 operations, 97/104 documented responses seen"


def test_a_failure_the_baseline_does_not_accept_is_a_violation() -> None:
    done = _conclude([_failing(accepted=False)])
    assert done.code == 1 and done.line.startswith("violations found: 21/21 operations") and "1 failure" in done.line


def test_only_accepted_failures_leave_the_run_conformant_and_say_so() -> None:
    base = {"accepted": [{}], "fixed": [], "expired": [], "new": 0}
    done = _conclude([_failing(accepted=True)], baseline=base, not_claimed=1)
    assert done.code == 0 and "1 accepted by the baseline" in done.line and "1 rule not claimed" in done.line


def test_an_expired_baseline_entry_fails_the_run() -> None:
    base = {"accepted": [], "fixed": [], "expired": [{}], "new": 1}
    done = _conclude([TestRecord("t::a", "passed", ["MONEY-003"])], code=0, baseline=base)
    assert done.code == 1 and "1 expired baseline entry" in done.line


def test_coverage_below_the_minimum_fails_an_otherwise_clean_run() -> None:
    short = {**COVERED, "operations_exercised": 20, "met": False, "minimum": {"operations": 100.0, "responses": 80.0}}
    done = _conclude([TestRecord("t::a", "passed", ["MONEY-003"])], code=0, coverage=short)
    assert (done.code, done.verdict) == (1, "insufficient coverage") and "below --min-coverage 100,80" in done.line


def test_a_bug_of_the_suite_or_an_interrupted_pytest_cannot_judge() -> None:
    broken = TestRecord("t::a", "failed", [], suite_error="Traceback")
    assert _conclude([broken]).code == 2
    assert _conclude([TestRecord("t::a", "passed", [])], code=2).verdict == "could not judge"
