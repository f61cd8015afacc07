"""Reports of a run: the summary (summary.json) and the terminal table by rule; report.html, summary.md and
badge.json are rendered from the summary by report_html and summary_md."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accounting_conformance.conformance.claims import unclaimed_rules
from accounting_conformance.conformance.conclusion import Conclusion
from accounting_conformance.conformance.coverage import headline
from accounting_conformance.conformance.outcomes import TestRecord
from accounting_conformance.conformance.report_html import render_html
from accounting_conformance.conformance.rules import BY_ID, RULES
from accounting_conformance.conformance.score import score
from accounting_conformance.conformance.settings import Settings
from accounting_conformance.conformance.states import STATES, StateLog
from accounting_conformance.conformance.summary_md import publish


@dataclass
class Findings:
    """What a run found beyond each test's record: its conclusion, coverage, claims, baseline and states."""

    conclusion: Conclusion
    coverage: dict[str, Any]
    unclaimed: frozenset[str] = frozenset()
    baseline: dict[str, Any] | None = None
    states: StateLog | None = None


def by_rule(records: Iterable[TestRecord]) -> dict[str, Counter[str]]:
    """Passed / failed / accepted / skipped / not claimed counts per rule ID (a test counts once for each rule it covers)."""
    counts: dict[str, Counter[str]] = {rule.id: Counter() for rule in RULES}
    for record in records:
        failed_rules = {f.rule for f in record.failures if not f.accepted}
        accepted_rules = {f.rule for f in record.failures if f.accepted} - failed_rules
        for rule in set(record.rules) | failed_rules | accepted_rules:
            counts.setdefault(rule, Counter())
            if record.outcome in ("skipped", "not claimed"):
                counts[rule][record.outcome] += 1
            elif rule in failed_rules:
                counts[rule]["failed"] += 1
            elif rule in accepted_rules:
                counts[rule]["accepted"] += 1
            elif record.suite_error:
                continue  # the suite broke before it could judge the rule: counted under suite errors, never as the rule's
            elif record.outcome == "failed" and not record.failures:
                counts[rule]["failed"] += 1
            else:
                counts[rule]["passed"] += 1
    return counts


def rule_status(counts: Counter[str], unclaimed: bool) -> str:
    """passed | failed | accepted | not claimed | not exercised, from a rule's counts."""
    if counts["failed"]:
        return "failed"
    if unclaimed:
        return "not claimed"
    if counts["accepted"]:
        return "accepted"
    return "passed" if counts["passed"] else "not exercised"


def first_failure_seconds(records: Iterable[TestRecord]) -> float | None:
    """Seconds from the start of the run to the end of the first failing test, or None without failures."""
    failed = [r.elapsed for r in records if r.failures or r.outcome == "failed"]
    return round(min(failed), 3) if failed else None


def summary(settings: Settings, records: list[TestRecord], findings: Findings) -> dict[str, Any]:
    """Everything summary.json holds."""
    counts = by_rule(records)
    not_claimed = unclaimed_rules(findings.unclaimed)
    rules = []
    for rule_id, c in counts.items():
        rule = BY_ID.get(rule_id)
        rules.append(
            {
                "id": rule_id,
                "statement": rule.statement if rule else "",
                "reference": rule.citation if rule else "",
                "family": rule.family if rule else "",
                **{key: c[key] for key in ("passed", "failed", "accepted", "skipped")},
                "not_claimed": c["not claimed"],
                "exercised": c["passed"] + c["failed"] + c["accepted"],
                "status": rule_status(c, rule_id in not_claimed),
            }
        )
    return {
        **findings.conclusion.asdict(),
        "seed": settings.seed,
        "replay": f"make conformance SEED={settings.seed} PROFILE={settings.profile.name}",
        "settings": settings.redacted(),
        "tests": dict(Counter(r.outcome for r in records)),
        "first_failure_seconds": first_failure_seconds(records),
        "coverage": findings.coverage,
        "claims": {
            "unclaimed_features": sorted(findings.unclaimed),
            "not_claimed_rules": sorted(not_claimed),
            "not_claimed_tests": [r.nodeid for r in records if r.outcome == "not claimed"],
        },
        "baseline": findings.baseline,
        "score": score(rules),
        "rules": rules,
        "failures": [
            {
                "test": r.nodeid,
                **f.__dict__,
                "recording": r.recording,
                "reference": BY_ID[f.rule].citation if f.rule in BY_ID else "",
            }
            for r in records
            for f in r.failures
        ],
        "recordings": [{"test": r.nodeid, "file": r.recording} for r in records if r.recording],
        "skipped": [{"test": r.nodeid, "reason": r.skip_reason} for r in records if r.outcome == "skipped"],
        "suite_errors": [{"test": r.nodeid, "traceback": r.suite_error} for r in records if r.suite_error],
        "states": (findings.states or StateLog()).asdict(),
    }


#: What the terminal and the reports say about a bug of the suite itself.
SUITE_ERROR_NOTE = (
    "a bug of the conformance suite itself, not a finding about the target: please report it to the "
    "suite's maintainers with the traceback below (it is also in summary.json)"
)


def terminal_lines(data: dict[str, Any]) -> list[str]:
    """The run's result table from its summary: one line per rule, coverage, states, failures, the baseline, the seed."""
    marks = {"failed": "FAIL", "accepted": "acc ", "not claimed": " -- ", "not exercised": "skip", "passed": " ok "}
    lines = ["", "Conformance by rule (passed / failed / skipped; acc = failures accepted by the baseline):"]
    for rule in data["rules"]:
        if not (rule["exercised"] or rule["skipped"] or rule["not_claimed"] or rule["status"] == "not claimed"):
            continue
        extra = f" (+{rule['accepted']} accepted)" if rule["accepted"] else ""
        extra += " not claimed" if rule["status"] == "not claimed" else ""
        lines.append(
            f"  [{marks[rule['status']]}] {rule['id']:<15} {rule['passed']:>3} / {rule['failed']:>3} / "
            f"{rule['skipped']:>3}  {rule['statement']}{extra}"
        )
    coverage = data["coverage"]
    lines += ["", f"Coverage: {headline(coverage)}" + _minimum(coverage)]
    unseen = [
        f"{row['operation_id']} {status}"
        for row in coverage["operations"]
        for status, n in row["responses"].items()
        if not n and status.startswith("2")
    ]
    if unseen:
        lines.append(f"  successes never seen: {', '.join(unseen)}")
    claims = data["claims"]
    if claims["unclaimed_features"]:
        lines.append(
            f"Not claimed: {', '.join(claims['unclaimed_features'])} ({len(claims['not_claimed_rules'])} rules: "
            f"{', '.join(claims['not_claimed_rules'])}; {len(claims['not_claimed_tests'])} tests)"
        )
    states = data.get("states") or {}
    if states.get("unreached") is not None:
        missing = states["unreached"]
        lines.append(
            f"States reached: {len(STATES) - len(missing)}/{len(STATES)}"
            + (f"; never reached: {', '.join(missing)}" if missing else "")
        )
    for failure in data["failures"]:
        head = "ACCEPTED" if failure["accepted"] else "FAILED"
        lines += ["", f"{head} {failure['rule']}: {failure['title']}", f"  test: {failure['test']}"]
        if failure["accepted"]:
            lines.append(f"  accepted by the baseline: {failure['reason']}")
        if failure["expected"]:
            lines += [f"  Expected: {failure['expected']}", f"  Received: {failure['received']}"]
        if failure["reproduction"]:
            lines.append(f"  Reproduce: {failure['reproduction']}")
        if failure.get("recording"):
            lines.append(f"  Recording: {data['settings']['report_dir']}/{failure['recording']} (conformance replay)")
    baseline = data.get("baseline")
    if baseline:
        for entry in baseline["fixed"]:
            lines.append(f"BASELINE fixed, remove it: {_entry(entry)}")
        for entry in baseline["expired"]:
            lines.append(f"BASELINE EXPIRED (fails the run): {_entry(entry)}")
    for error in data["suite_errors"]:
        lines += ["", f"SUITE ERROR in {error['test']}: {SUITE_ERROR_NOTE}", error["traceback"]]
    score_ = data["score"]["overall"]
    lines += [
        "",
        f"Score: {score_['percent'] if score_['percent'] is not None else '-'}% of {score_['judged']} rules judged",
        f"Seed: {data['seed']} (replay with {data['replay'].removeprefix('make conformance ')})",
        f"Reports: {data['settings']['report_dir']}/junit.xml, summary.json, report.html, summary.md, badge.json",
    ]
    return lines


def _minimum(coverage: dict[str, Any]) -> str:
    minimum = coverage.get("minimum")
    if not minimum:
        return ""
    verdict = "met" if coverage["met"] else "NOT met"
    return f" (minimum {minimum['operations']:g}% operations, {minimum['responses']:g}% responses: {verdict})"


def _entry(entry: dict[str, Any]) -> str:
    named = " ".join(part for part in (entry["operation"], entry["test"]) if part)
    return f"{entry['rule']} {named} (expires {entry['expires']}): {entry['reason']}"


def write(settings: Settings, data: dict[str, Any], environ: Mapping[str, str] | None = None) -> None:
    """Write summary.json, report.html, summary.md and badge.json (and the step summary in GitHub Actions)."""
    settings.report_dir.mkdir(parents=True, exist_ok=True)
    (settings.report_dir / "summary.json").write_text(json.dumps(data, indent=2, default=str))
    (settings.report_dir / "report.html").write_text(render_html(data))
    publish(data, settings.report_dir, os.environ if environ is None else environ)


def write_could_not_judge(report_dir: Path, reason: str, settings: dict[str, Any] | None) -> None:
    """Record a run that could not judge (exit 2), so CI keeps an artefact saying why: summary.json, report.html,
    summary.md and badge.json (and the step summary in GitHub Actions)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "verdict": "could not judge",
        "exit_code": 2,
        "verdict_line": f"could not judge: {reason}",
        "reason": reason,
        "settings": settings,
    }
    (report_dir / "summary.json").write_text(json.dumps(data, indent=2, default=str))
    (report_dir / "report.html").write_text(render_html(data))
    publish(data, report_dir, os.environ)
