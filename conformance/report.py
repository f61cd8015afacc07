"""Reports of a run: the terminal table by rule, summary.json and a self-contained report.html."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from accounting_conformance.conformance.outcomes import TestRecord
from accounting_conformance.conformance.rules import RULES
from accounting_conformance.conformance.settings import Settings
from accounting_conformance.conformance.states import STATES, StateLog


def by_rule(records: Iterable[TestRecord]) -> dict[str, Counter[str]]:
    """Passed / failed / skipped counts per rule ID (a test counts once for each rule it covers)."""
    counts: dict[str, Counter[str]] = {rule.id: Counter() for rule in RULES}
    for record in records:
        failed_rules = {f.rule for f in record.failures}
        for rule in set(record.rules) | failed_rules:
            counts.setdefault(rule, Counter())
            if record.outcome == "skipped":
                counts[rule]["skipped"] += 1
            elif rule in failed_rules:
                counts[rule]["failed"] += 1
            elif record.suite_error:
                continue  # the suite broke before it could judge the rule: counted under suite errors, never as the rule's
            elif record.outcome == "failed" and not failed_rules:
                counts[rule]["failed"] += 1
            else:
                counts[rule]["passed"] += 1
    return counts


def first_failure_seconds(records: Iterable[TestRecord]) -> float | None:
    """Seconds from the start of the run to the end of the first failing test, or None without failures."""
    failed = [r.elapsed for r in records if r.failures or r.outcome == "failed"]
    return round(min(failed), 3) if failed else None


def summary(
    settings: Settings, records: list[TestRecord], exitstatus: int, states: StateLog | None = None
) -> dict[str, Any]:
    """Everything summary.json holds."""
    counts = by_rule(records)
    statements = {rule.id: rule for rule in RULES}
    return {
        "verdict": verdict(records, exitstatus),
        "seed": settings.seed,
        "replay": f"make conformance SEED={settings.seed} PROFILE={settings.profile.name}",
        "settings": settings.redacted(),
        "tests": dict(Counter(r.outcome for r in records)),
        "first_failure_seconds": first_failure_seconds(records),
        "rules": [
            {
                "id": rule_id,
                "statement": statements[rule_id].statement if rule_id in statements else "",
                "reference": statements[rule_id].citation if rule_id in statements else "",
                "passed": c["passed"],
                "failed": c["failed"],
                "skipped": c["skipped"],
            }
            for rule_id, c in counts.items()
        ],
        "failures": [{"test": r.nodeid, **f.__dict__} for r in records for f in r.failures],
        "skipped": [{"test": r.nodeid, "reason": r.skip_reason} for r in records if r.outcome == "skipped"],
        "suite_errors": [{"test": r.nodeid, "traceback": r.suite_error} for r in records if r.suite_error],
        "states": (states or StateLog()).asdict(),
    }


#: What the terminal and the reports say about a bug of the suite itself.
SUITE_ERROR_NOTE = (
    "a bug of the conformance suite itself, not a finding about the target: please report it to the "
    "suite's maintainers with the traceback below (it is also in summary.json)"
)


def verdict(records: Iterable[TestRecord], exitstatus: int) -> str:
    """The run's verdict word: a bug of the suite outranks every finding, since the run is incomplete."""
    if any(r.suite_error for r in records):
        return "suite error"
    return "conformant" if exitstatus == 0 else ("violations" if exitstatus == 1 else "could not judge")


def terminal_lines(settings: Settings, records: list[TestRecord], states: StateLog | None = None) -> list[str]:
    """The run's result table, one line per rule, then the states reached, the failures and the seed."""
    counts = by_rule(records)
    statements = {rule.id: rule.statement for rule in RULES}
    lines = ["", "Conformance by rule (passed / failed / skipped):"]
    for rule_id, c in counts.items():
        if not sum(c.values()):
            continue
        mark = "FAIL" if c["failed"] else ("skip" if c["skipped"] and not c["passed"] else " ok ")
        lines.append(
            f"  [{mark}] {rule_id:<15} {c['passed']:>3} / {c['failed']:>3} / {c['skipped']:>3}  {statements.get(rule_id, '')}"
        )
    if states is not None:
        missing = states.unreached()
        lines += [
            "",
            f"States reached: {len(STATES) - len(missing)}/{len(STATES)}"
            + (f"; never reached: {', '.join(missing)}" if missing else ""),
        ]
    for record in records:
        for failure in record.failures:
            lines += ["", f"FAILED {failure.rule}: {failure.title}", f"  test: {record.nodeid}"]
            if failure.expected:
                lines += [f"  Expected: {failure.expected}", f"  Received: {failure.received}"]
            if failure.reproduction:
                lines.append(f"  Reproduce: {failure.reproduction}")
    for record in records:
        if record.suite_error:
            lines += ["", f"SUITE ERROR in {record.nodeid}: {SUITE_ERROR_NOTE}", record.suite_error]
    lines += [
        "",
        f"Seed: {settings.seed} (replay with SEED={settings.seed} PROFILE={settings.profile.name})",
        f"Reports: {settings.report_dir}/junit.xml, summary.json, report.html",
    ]
    return lines


def write(settings: Settings, records: list[TestRecord], exitstatus: int, states: StateLog | None = None) -> None:
    """Write summary.json and report.html into the report directory."""
    settings.report_dir.mkdir(parents=True, exist_ok=True)
    data = summary(settings, records, exitstatus, states)
    (settings.report_dir / "summary.json").write_text(json.dumps(data, indent=2, default=str))
    (settings.report_dir / "report.html").write_text(render_html(data))


def _e(value: Any) -> str:
    return html.escape(str(value))


def render_html(data: dict[str, Any]) -> str:
    """A self-contained page: failures first, then the table by rule and the settings."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Conformance report</title><style>",
        "body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}pre{background:#f4f4f4;padding:.6em;"
        "white-space:pre-wrap;word-break:break-all}table{border-collapse:collapse}td,th{padding:.2em .6em;"
        "border-bottom:1px solid #ddd;text-align:left}.fail{color:#b00020}.ok{color:#0a7d28}",
        "</style></head><body>",
        f"<h1>Conformance report: {_e(data['verdict'])}</h1>",
        f"<p>Seed <b>{_e(data['seed'])}</b> &mdash; replay with <code>{_e(data['replay'])}</code></p>",
        f"<h2>Failures ({len(data['failures'])})</h2>",
    ]
    for failure in data["failures"]:
        parts += [
            f"<h3 class='fail'>{_e(failure['rule'])}: {_e(failure['title'])}</h3>",
            f"<p>Test <code>{_e(failure['test'])}</code> {_e(failure['operation'])}</p>",
        ]
        if failure["expected"]:
            parts.append(f"<pre>Expected: {_e(failure['expected'])}\nReceived: {_e(failure['received'])}</pre>")
        parts.append(
            f"<details open><summary>Request and response</summary><pre>{_e(failure['detail'])}</pre></details>"
        )
        if failure["reproduction"]:
            parts.append(f"<p>Reproduce:</p><pre>{_e(failure['reproduction'])}</pre>")
    for error in data["suite_errors"]:
        parts += [
            f"<h3 class='fail'>Suite error in <code>{_e(error['test'])}</code></h3>",
            f"<p>{_e(SUITE_ERROR_NOTE)}</p><pre>{_e(error['traceback'])}</pre>",
        ]
    parts.append(
        "<h2>By rule</h2><table><tr><th>Rule</th><th>Statement</th><th>Passed</th><th>Failed</th><th>Skipped</th><th>Contract</th></tr>"
    )
    for rule in data["rules"]:
        css = "fail" if rule["failed"] else "ok"
        parts.append(
            f"<tr class='{css}'><td>{_e(rule['id'])}</td><td>{_e(rule['statement'])}</td><td>{rule['passed']}</td>"
            f"<td>{rule['failed']}</td><td>{rule['skipped']}</td><td><code>{_e(rule['reference'])}</code></td></tr>"
        )
    parts.append("</table>")
    if data["skipped"]:
        parts.append(
            "<h2>Skipped</h2><ul>"
            + "".join(f"<li><code>{_e(s['test'])}</code>: {_e(s['reason'])}</li>" for s in data["skipped"])
            + "</ul>"
        )
    parts.append(f"<h2>Settings</h2><pre>{_e(json.dumps(data['settings'], indent=2))}</pre></body></html>")
    return "\n".join(parts)


def write_could_not_judge(report_dir: Path, reason: str, settings: dict[str, Any] | None) -> None:
    """Record a run that could not judge (exit 2), so CI keeps an artefact saying why."""
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "summary.json").write_text(
        json.dumps({"verdict": "could not judge", "reason": reason, "settings": settings}, indent=2, default=str)
    )
