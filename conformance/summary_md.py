"""The run's summary where people look: summary.md (GitHub-flavoured Markdown, also appended to the job summary when
$GITHUB_STEP_SUMMARY is set) and badge.json, the shields.io endpoint format, both rendered from summary.json's data.
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from accounting_conformance.conformance.score import badge as badge  # summary_md.badge: the brief's name
from accounting_conformance.conformance.score import percent_text, score, status_of, title_of

VERDICT_MARK = {
    "conformant": "\u2705",
    "violations": "\u274c",
    "insufficient coverage": "\U0001f7e0",
    "could not judge": "\u26a0\ufe0f",
    "suite error": "\U0001f6d1",
}
STATUS_MARK = {
    "passed": "\u2705",
    "failed": "\u274c",
    "accepted": "\U0001f7e1",
    "not claimed": "\u23f8\ufe0f",
    "not exercised": "\u2796",
}
MAX_DETAILED = 30  # failures shown in full; the rest are listed by rule and test (GitHub caps a job summary at 1 MiB)
MAX_BLOCK = 4000  # characters of one code block


def _text(value: Any) -> str:
    """Plain text for Markdown outside code: HTML-escaped, on one line."""
    return html.escape(" ".join(str(value).split()))


def _cell(value: Any) -> str:
    return _text(value).replace("|", "\\|") or " "


def _code(value: Any) -> str:
    """An inline code span that holds any text (the fence outgrows the backticks inside)."""
    text = " ".join(str(value).split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _block(value: Any, lang: str = "text") -> list[str]:
    """A fenced code block that holds any text, cut at MAX_BLOCK characters."""
    text = str(value)
    if len(text) > MAX_BLOCK:
        text = text[:MAX_BLOCK] + "\n... (cut here: the whole text is in report.html)"
    fence = "`" * max(3, max((len(run) for run in re.findall(r"`{3,}", text)), default=0) + 1)
    return [f"{fence}{lang}", text, fence]


def _verdict(data: dict[str, Any]) -> list[str]:
    verdict = str(data.get("verdict") or "could not judge")
    mark = VERDICT_MARK.get(verdict)
    lines = [f"## Conformance: {mark} {_text(verdict)}" if mark else f"## Conformance: {_text(verdict)}", ""]
    if data.get("verdict_line"):
        lines += [f"**{_text(data['verdict_line'])}**", ""]
    if data.get("reason"):
        lines += [f"Why: {_text(data['reason'])}", ""]
    facts = [f"exit code {data['exit_code']}"] if data.get("exit_code") is not None else []
    if data.get("tests"):
        facts.append("tests: " + ", ".join(f"{n} {_text(outcome)}" for outcome, n in data["tests"].items()))
    if data.get("seed") is not None:
        facts.append(f"seed {_text(data['seed'])}")
    if data.get("replay"):
        facts.append(f"replay with {_code(data['replay'])}")
    return lines + ([" \u00b7 ".join(facts), ""] if facts else [])


def _score(data: dict[str, Any]) -> list[str]:
    result = data.get("score") or (score(data["rules"]) if data.get("rules") else None)
    if not result:
        return []
    overall = result.get("overall") or {}
    lines = ["### Score", "", "| Family | Passed | Judged | Score |", "| --- | ---: | ---: | ---: |"]
    lines.append(
        f"| **overall** | {overall.get('passed', 0)} | {overall.get('judged', 0)} | **{percent_text(overall)}** |"
    )
    for family, entry in (result.get("families") or {}).items():
        lines.append(
            f"| {_cell(family)} | {entry.get('passed', 0)} | {entry.get('judged', 0)} | {percent_text(entry)} |"
        )
    return lines + ["", "Accepted failures count as not passed; rules not claimed or not exercised are left out.", ""]


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({round(100 * part / whole, 1):g}%)" if whole else f"{part}/{whole}"


def _operation(row: dict[str, Any]) -> str:
    return _code(f"{row.get('method', '')} {row.get('path', '')}") + f" ({_text(row.get('operation_id', ''))})"


def _coverage(data: dict[str, Any]) -> list[str]:
    cov = data.get("coverage")
    if not cov:
        return []
    lines = [
        "### Coverage",
        "",
        f"- Operations exercised with a success: {_share(cov.get('operations_exercised', 0), cov.get('operations_total', 0))}",
        f"- Documented responses seen: {_share(cov.get('responses_seen', 0), cov.get('responses_total', 0))}",
    ]
    minimum = cov.get("minimum")
    if minimum:
        met = "met \u2705" if cov.get("met") else "**not met** \u274c"
        lines.append(
            f"- Minimum: {minimum['operations']:g}% of operations, {minimum['responses']:g}% of responses: {met}"
        )
    else:
        lines.append("- No minimum asked for (`--min-coverage`)")
    rows = cov.get("operations") or []
    for title, found in (
        ("Operations never exercised with a success", [_operation(r) for r in rows if not r.get("success")]),
        ("Documented responses never seen", [_unseen(r) for r in rows if 0 in (r.get("responses") or {}).values()]),
        ("Undocumented statuses answered", [_undocumented(r) for r in rows if r.get("undocumented")]),
    ):
        if found:
            lines += ["", f"<details><summary>{title} ({len(found)})</summary>", ""]
            lines += [f"- {item}" for item in found] + ["", "</details>"]
    return lines + [""]


def _unseen(row: dict[str, Any]) -> str:
    return _operation(row) + ": " + ", ".join(s for s, n in row["responses"].items() if not n)


def _undocumented(row: dict[str, Any]) -> str:
    return _operation(row) + ": " + ", ".join(f"{s} \u00d7{n}" for s, n in row["undocumented"].items())


def _failure(failure: dict[str, Any]) -> list[str]:
    lines = [f"#### \u274c {_text(failure.get('rule', ''))}: {_text(title_of(failure))}", ""]
    for label, key in (("Test", "test"), ("Operation", "operation"), ("Contract", "reference")):
        if failure.get(key):
            lines.append(f"- {label}: {_code(failure[key])}")
    if failure.get("recording"):
        lines.append(f"- Recording: [{_text(failure['recording'])}]({quote(str(failure['recording']))})")
    lines.append("")
    if failure.get("expected") or failure.get("received"):
        lines += _block(f"Expected: {failure.get('expected', '')}\nReceived: {failure.get('received', '')}")
    if failure.get("reproduction"):
        lines += ["", "Reproduce:", ""] + _block(failure["reproduction"], "sh")
    return lines + [""]


def _failures(data: dict[str, Any]) -> list[str]:
    failures = [f for f in data.get("failures") or [] if not f.get("accepted")]
    lines = [f"### Failures ({len(failures)})", ""] if failures else []
    for failure in failures[:MAX_DETAILED]:
        lines += _failure(failure)
    rest = failures[MAX_DETAILED:]
    if rest:
        lines += [f"And {len(rest)} more (all in report.html):", ""]
        lines += [f"- {_text(f.get('rule', ''))}: {_text(title_of(f))} in {_code(f.get('test', ''))}" for f in rest]
        lines.append("")
    for error in data.get("suite_errors") or []:
        lines += [f"### \U0001f6d1 Suite error in {_code(error.get('test', ''))}", ""]
        lines += ["A bug of the conformance suite itself, not a finding about the target: please report it.", ""]
        lines += _block(error.get("traceback", "")) + [""]
    return lines


def _table(title: str, head: list[str], rows: list[list[Any]]) -> list[str]:
    if not rows:
        return []
    lines = [title, "", "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    return lines + ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows] + [""]


def _accepted(data: dict[str, Any]) -> list[str]:
    accepted = [f for f in data.get("failures") or [] if f.get("accepted")]
    rows = [[f.get("rule", ""), title_of(f), f.get("test", ""), f.get("reason", "")] for f in accepted]
    lines = _table(f"### Accepted failures ({len(accepted)})", ["Rule", "Title", "Test", "Reason"], rows)
    baseline = data.get("baseline")
    if not baseline:
        return lines
    lines += [f"Baseline {_code(baseline.get('file', ''))}: {baseline.get('new', 0)} new failure(s) not in it.", ""]
    head = ["Rule", "Operation or test", "Reason", "Expires"]
    for title, key in (("fixed, remove it", "fixed"), ("expired: these fail the run", "expired")):
        entries = baseline.get(key) or []
        rows = [
            [e.get("rule", ""), e.get("operation") or e.get("test", ""), e.get("reason", ""), e.get("expires", "")]
            for e in entries
        ]
        lines += _table(f"#### Baseline entries {title} ({len(entries)})", head, rows)
    return lines


def _not_claimed(data: dict[str, Any]) -> list[str]:
    claims = data.get("claims") or {}
    rules = {r.get("id"): r for r in data.get("rules") or []}
    names = list(claims.get("not_claimed_rules") or [i for i, r in rules.items() if status_of(r) == "not claimed"])
    if not names:
        return []
    features = ", ".join(_code(f) for f in claims.get("unclaimed_features") or []) or "none named"
    tests = len(claims.get("not_claimed_tests") or [])
    lines = [
        f"### Not claimed: {len(names)} rule(s), counted apart",
        "",
        f"Features the target does not offer: {features}; {tests} test(s) not run.",
        "",
    ]
    return lines + [f"- {_text(n)}: {_text(rules.get(n, {}).get('statement', ''))}" for n in names] + [""]


def _by_rule(data: dict[str, Any]) -> list[str]:
    head = ["Rule", "Family", "Status", "Passed", "Failed", "Skipped", "Accepted", "Statement"]
    rows = [
        [r.get("id", ""), r.get("family", ""), f"{STATUS_MARK.get(status_of(r), '')} {status_of(r)}"]
        + [r.get(k, 0) for k in ("passed", "failed", "skipped", "accepted")]
        + [r.get("statement", "")]
        for r in data.get("rules") or []
    ]
    return _table("### By rule", head, rows)


def render_markdown(data: dict[str, Any]) -> str:
    """The summary as GitHub-flavoured Markdown: verdict, score, coverage, failures first, then the table by rule."""
    parts = [_verdict, _score, _coverage, _failures, _accepted, _not_claimed, _by_rule]
    return "\n".join(line for part in parts for line in part(data)).rstrip() + "\n"


def publish(data: dict[str, Any], report_dir: Path, environ: Mapping[str, str]) -> list[Path]:
    """Write summary.md and badge.json into report_dir and append the summary to $GITHUB_STEP_SUMMARY when set."""
    report_dir.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(data)
    written = [report_dir / "summary.md", report_dir / "badge.json"]
    written[0].write_text(markdown, encoding="utf-8")
    written[1].write_text(json.dumps(badge(data), ensure_ascii=False) + "\n", encoding="utf-8")
    step_summary = environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        try:
            with open(step_summary, "a", encoding="utf-8") as job_summary:  # append: other steps write there too
                job_summary.write(markdown + "\n")
            written.append(Path(step_summary))
        except OSError as exc:
            print(f"conformance: could not append the summary to $GITHUB_STEP_SUMMARY: {exc}", file=sys.stderr)
    return written
