"""The run's conclusion: its exit code, verdict word and verdict line, from everything the run found.

Exit 0 conformant, 1 violations found (a failure the baseline does not accept, an expired baseline entry, or less
coverage than `--min-coverage` asks), 2 could not judge (the configuration cannot serve a test, a bug of the suite,
pytest could not run the tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accounting_conformance.conformance.coverage import headline
from accounting_conformance.conformance.outcomes import TestRecord

CONFORMANT, VIOLATIONS, CANNOT_JUDGE = 0, 1, 2
PYTEST_OK, PYTEST_FAILED, PYTEST_NO_TESTS = 0, 1, 5


@dataclass(frozen=True)
class Conclusion:
    """What the run says at its end."""

    code: int
    verdict: str  # conformant | violations | insufficient coverage | could not judge | suite error
    line: str  # the verdict with the coverage and what the baseline and the claims set aside

    def asdict(self) -> dict[str, Any]:
        """The keys summary.json holds."""
        return {"verdict": self.verdict, "exit_code": self.code, "verdict_line": self.line}


def unaccepted(records: list[TestRecord]) -> int:
    """Failures that count against the target: rule failures not accepted, and failed tests that named none."""
    found = 0
    for record in records:
        if record.suite_error:
            continue
        if record.failures:
            found += sum(1 for f in record.failures if not f.accepted)
        elif record.outcome == "failed":
            found += 1
    return found


def conclude(
    records: list[TestRecord],
    *,
    pytest_code: int,
    broken: bool,
    coverage: dict[str, Any],
    baseline: dict[str, Any] | None,
    not_claimed: int,
) -> Conclusion:
    """The exit code, verdict and verdict line of a finished run."""
    covered = headline(coverage)
    if any(r.suite_error for r in records):
        return Conclusion(CANNOT_JUDGE, "suite error", f"suite error: {covered}")
    if broken or pytest_code not in (PYTEST_OK, PYTEST_FAILED, PYTEST_NO_TESTS):
        return Conclusion(CANNOT_JUDGE, "could not judge", f"could not judge: {covered}")
    notes = []
    failing = unaccepted(records)
    accepted = sum(1 for r in records for f in r.failures if f.accepted)
    expired = len(baseline["expired"]) if baseline else 0
    fixed = len(baseline["fixed"]) if baseline else 0
    if failing:
        notes.append(f"{failing} failure{'s' if failing != 1 else ''}")
    if expired:
        notes.append(f"{expired} expired baseline entr{'ies' if expired != 1 else 'y'}")
    if accepted:
        notes.append(f"{accepted} accepted by the baseline")
    if fixed:
        notes.append(
            f"{fixed} baseline entr{'ies' if fixed != 1 else 'y'} fixed, remove {'them' if fixed != 1 else 'it'}"
        )
    if not_claimed:
        notes.append(f"{not_claimed} rule{'s' if not_claimed != 1 else ''} not claimed")
    if not coverage.get("met", True):
        minimum = coverage["minimum"]
        notes.append(f"below --min-coverage {minimum['operations']:g},{minimum['responses']:g}")
    tail = f"; {', '.join(notes)}" if notes else ""
    if failing or expired:
        return Conclusion(VIOLATIONS, "violations", f"violations found: {covered}{tail}")
    if not coverage.get("met", True):
        return Conclusion(VIOLATIONS, "insufficient coverage", f"insufficient coverage: {covered}{tail}")
    return Conclusion(CONFORMANT, "conformant", f"conformant: {covered}{tail}")
