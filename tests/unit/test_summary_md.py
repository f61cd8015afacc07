"""summary.md says the verdict, the score and the coverage, then failures before everything else, the baseline's
accepted, fixed and expired entries, the rules not claimed apart, and the table by rule; text from the target
cannot inject HTML or break a table; publish writes summary.md and badge.json and appends to the job summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from accounting_conformance.conformance import summary_md
from accounting_conformance.conformance.summary_md import badge, publish, render_markdown

HOSTILE = "<script>alert(1)</script> | `tick` ``` fence"


def _rule(rule_id: str, family: str, status: str, **counts: int) -> dict[str, Any]:
    return {
        "id": rule_id,
        "statement": f"what {rule_id} says",
        "reference": f"openapi/openapi.yaml#/components/schemas/{rule_id}",
        "family": family,
        "status": status,
        **{k: counts.get(k, 0) for k in ("passed", "failed", "skipped", "accepted")},
    }


def _operation(operation_id: str, method: str, path: str, responses: dict[str, int], **extra: Any) -> dict[str, Any]:
    success = any(status.startswith("2") and n for status, n in responses.items())
    return {"operation_id": operation_id, "method": method, "path": path, "responses": responses} | {
        "undocumented": {},
        "success": success,
        **extra,
    }


def conformant_summary() -> dict[str, Any]:
    """A clean run: every rule passed, full coverage, a minimum met."""
    rules = [_rule("MONEY-001", "money", "passed", passed=4), _rule("SHAPE-001", "shape", "passed", passed=2)]
    operations = [
        _operation("listInvoices", "GET", "/accounting/invoices", {"200": 9, "401": 1}),
        _operation("createInvoice", "POST", "/accounting/invoices", {"200": 14, "400": 3}),
    ]
    return {
        "verdict": "conformant",
        "exit_code": 0,
        "verdict_line": "conformant: 2/2 operations, 4/4 documented responses seen",
        "seed": 5,
        "replay": "make conformance SEED=5 PROFILE=quick",
        "settings": {"target": "http://127.0.0.1:8900", "access_token": "***"},
        "tests": {"passed": 6},
        "first_failure_seconds": None,
        "rules": rules,
        "coverage": {
            "operations": operations,
            "operations_total": 2,
            "operations_exercised": 2,
            "responses_total": 4,
            "responses_seen": 4,
            "minimum": {"operations": 100.0, "responses": 80.0},
            "met": True,
        },
        "claims": {"unclaimed_features": [], "not_claimed_rules": [], "not_claimed_tests": []},
        "baseline": None,
        "score": {"overall": {"passed": 2, "judged": 2, "percent": 100.0}, "families": {}},
        "failures": [],
        "skipped": [],
        "suite_errors": [],
        "recordings": [],
    }


def troubled_summary() -> dict[str, Any]:
    """Violations: a new failure, an accepted one, rules not claimed, a fixed and an expired baseline entry, gaps."""
    data = conformant_summary()
    data["verdict"], data["exit_code"] = "violations", 1
    data["verdict_line"] = "violations: 2/3 operations, 4/8 documented responses seen"
    data["tests"] = {"passed": 20, "failed": 2, "skipped": 1}
    data["first_failure_seconds"] = 1.25
    data["rules"] = [
        _rule("MONEY-003", "money", "failed", passed=1, failed=1),
        _rule("APPLY-001", "money", "accepted", accepted=1),
        _rule("SHAPE-001", "shape", "passed", passed=3),
        _rule("ASYNC-001", "state", "not claimed"),
        _rule("SORT-001", "query", "not exercised", skipped=1),
    ]
    data["score"] = {
        "overall": {"passed": 1, "judged": 3, "percent": 33.3},
        "families": {
            "money": {"passed": 0, "judged": 2, "percent": 0.0},
            "shape": {"passed": 1, "judged": 1, "percent": 100.0},
            "state": {"passed": 0, "judged": 0, "percent": None},
        },
    }
    data["coverage"] = {
        "operations": [
            _operation("listInvoices", "GET", "/accounting/invoices", {"200": 40, "401": 1, "429": 0}),
            _operation(
                "createInvoice", "POST", "/accounting/invoices", {"200": 2, "400": 0, "404": 0}, undocumented={"201": 2}
            ),
            _operation("deleteBillCreditMemo", "DELETE", "/accounting/bill-credit-memos/{id}", {"204": 0, "404": 3}),
        ],
        "operations_total": 3,
        "operations_exercised": 2,
        "responses_total": 8,
        "responses_seen": 4,
        "minimum": {"operations": 100.0, "responses": 80.0},
        "met": False,
    }
    data["claims"] = {
        "unclaimed_features": ["async_jobs"],
        "not_claimed_rules": ["ASYNC-001"],
        "not_claimed_tests": ["tests/conformance/test_writes.py::test_async_job"],
    }
    entry = {"rule": "APPLY-001", "operation": "createInvoiceCreditApplication", "test": "", "reason": "ticket 12"}
    data["baseline"] = {
        "file": "baseline.toml",
        "accepted": [entry | {"expires": "2027-01-31"}],
        "fixed": [entry | {"rule": "MONEY-001", "reason": "was ticket 9", "expires": "2027-03-01"}],
        "expired": [entry | {"rule": "SHAPE-002", "operation": "", "test": "t::old", "expires": "2026-01-01"}],
        "new": 1,
    }
    failure = {
        "test": "tests/conformance/test_writes.py::test_apply[invoice]",
        "rule": "MONEY-003",
        "title": "remaining is not lowered by an application " + HOSTILE,
        "expected": "remaining = 5",
        "received": "remaining = 10 | " + HOSTILE,
        "detail": 'POST /accounting/invoices?access_token=***\n\n200 OK\n{"remaining": 10}',
        "reproduction": "curl -sS -X POST 'http://127.0.0.1:8900/accounting/invoices?access_token=***'",
        "operation": "createInvoice",
        "accepted": False,
        "reason": "",
        "recording": "recordings/test_writes-test_apply-invoice.har",
        "reference": "openapi/openapi.yaml#/components/schemas/InvoiceCreditMemo/properties/remaining",
    }
    accepted = failure | {
        "test": "tests/conformance/test_applications.py::test_apply_twice",
        "rule": "APPLY-001",
        "title": "a second application is refused",
        "accepted": True,
        "reason": "ticket 12",
        "recording": "recordings/test_applications-test_apply_twice.har",
    }
    data["failures"] = [failure, accepted]
    data["skipped"] = [{"test": "tests/conformance/test_queries.py::test_sort", "reason": "unsupported: sort"}]
    data["recordings"] = [{"test": failure["test"], "file": failure["recording"], "entries": 7}]
    return data


def could_not_judge_summary() -> dict[str, Any]:
    """What a run that never started its tests leaves."""
    return {"verdict": "could not judge", "reason": "target unreachable: connection refused", "settings": None}


def test_a_conformant_summary_states_the_verdict_line_the_score_and_the_coverage() -> None:
    text = render_markdown(conformant_summary())
    assert text.startswith("## Conformance: \u2705 conformant\n")
    assert "**conformant: 2/2 operations, 4/4 documented responses seen**" in text
    assert "| **overall** | 2 | 2 | **100%** |" in text
    assert "- Operations exercised with a success: 2/2 (100%)" in text
    assert "- Minimum: 100% of operations, 80% of responses: met \u2705" in text
    assert "### Failures" not in text and "### Not claimed" not in text


def test_failures_come_first_then_accepted_baseline_not_claimed_and_the_table_by_rule() -> None:
    text = render_markdown(troubled_summary())
    order = [
        "### Score",
        "### Coverage",
        "### Failures (1)",
        "### Accepted failures (1)",
        "#### Baseline entries fixed",
    ]
    order += ["#### Baseline entries expired", "### Not claimed: 1 rule(s)", "### By rule"]
    positions = [text.index(heading) for heading in order]
    assert positions == sorted(positions)


def test_a_failure_shows_its_rule_test_expected_received_curl_and_recording() -> None:
    text = render_markdown(troubled_summary())
    failure = text[text.index("### Failures (1)") : text.index("### Accepted failures")]
    assert "#### \u274c MONEY-003: remaining is not lowered" in failure
    assert "- Test: `tests/conformance/test_writes.py::test_apply[invoice]`" in failure
    assert "Expected: remaining = 5\nReceived: remaining = 10" in failure
    assert "```sh\ncurl -sS -X POST 'http://127.0.0.1:8900/accounting/invoices?access_token=***'\n```" in failure
    assert "[recordings/test_writes-test_apply-invoice.har](recordings/test_writes-test_apply-invoice.har)" in failure
    assert "APPLY-001" not in failure  # the accepted failure is listed apart


def test_baseline_entries_that_no_longer_fail_say_fixed_remove_it_and_expired_ones_are_listed_apart() -> None:
    text = render_markdown(troubled_summary())
    assert "#### Baseline entries fixed, remove it (1)" in text
    assert "| MONEY-001 | createInvoiceCreditApplication | was ticket 9 | 2027-03-01 |" in text
    assert "#### Baseline entries expired: these fail the run (1)" in text and "| SHAPE-002 | t::old |" in text
    assert "| APPLY-001 | a second application is refused | tests/conformance/test_applications.py" in text


def test_rules_not_claimed_are_listed_with_the_features_and_counted_apart() -> None:
    text = render_markdown(troubled_summary())
    assert "### Not claimed: 1 rule(s), counted apart" in text
    assert "Features the target does not offer: `async_jobs`; 1 test(s) not run." in text
    assert "- ASYNC-001: what ASYNC-001 says" in text
    assert "| ASYNC-001 | state | \u23f8\ufe0f not claimed | 0 | 0 | 0 | 0 | what ASYNC-001 says |" in text


def test_coverage_gaps_are_listed_per_operation() -> None:
    text = render_markdown(troubled_summary())
    assert "- Minimum: 100% of operations, 80% of responses: **not met** \u274c" in text
    assert "<summary>Operations never exercised with a success (1)</summary>" in text
    assert "- `DELETE /accounting/bill-credit-memos/{id}` (deleteBillCreditMemo): 204" in text
    assert "- `POST /accounting/invoices` (createInvoice): 201 \u00d72" in text


def test_text_from_the_target_cannot_inject_html_or_break_a_table_or_a_code_block() -> None:
    text = render_markdown(troubled_summary())
    fence, outside = "", []  # the lines outside fenced code blocks, where GitHub would render HTML
    for line in text.splitlines():
        if line.startswith("```") and (not fence or line.rstrip() == fence):
            fence = "" if fence else line.rstrip("abcdefghijklmnopqrstuvwxyz")
        elif not fence:
            outside.append(line)
    assert "<script>" not in "\n".join(outside) and "&lt;script&gt;" in text
    for line in text.splitlines():
        if line.startswith("| MONEY-003"):
            assert line.count(" | ") - line.count("\\|") == 7  # eight cells, whatever the title holds
    assert "````text\nExpected: remaining = 5\nReceived: remaining = 10 | <script>" in text  # a longer fence


def test_a_summary_that_could_not_judge_gives_the_reason_and_nothing_it_does_not_have() -> None:
    text = render_markdown(could_not_judge_summary())
    assert text == "## Conformance: \u26a0\ufe0f could not judge\n\nWhy: target unreachable: connection refused\n"


@pytest.mark.parametrize("key", sorted(troubled_summary()))
def test_any_key_may_be_missing(key: str) -> None:
    data = troubled_summary()
    del data[key]
    assert render_markdown(data).startswith("## Conformance:")


def test_failures_beyond_the_first_thirty_are_listed_by_rule_and_test_only() -> None:
    data = troubled_summary()
    data["failures"] = [data["failures"][0] | {"test": f"t::case{i}"} for i in range(summary_md.MAX_DETAILED + 2)]
    text = render_markdown(data)
    assert text.count("#### \u274c MONEY-003") == summary_md.MAX_DETAILED
    assert "And 2 more (all in report.html):" in text and "in `t::case31`" in text


def test_publish_writes_summary_md_and_badge_json_into_the_report_directory(tmp_path: Path) -> None:
    written = publish(troubled_summary(), tmp_path / "reports", {})
    assert written == [tmp_path / "reports" / "summary.md", tmp_path / "reports" / "badge.json"]
    assert written[0].read_text(encoding="utf-8") == render_markdown(troubled_summary())
    assert json.loads(written[1].read_text(encoding="utf-8")) == badge(troubled_summary())


def test_publish_appends_to_the_job_summary_and_never_overwrites_it(tmp_path: Path) -> None:
    job_summary = tmp_path / "step_summary.md"
    job_summary.write_text("# an earlier step\n", encoding="utf-8")
    written = publish(conformant_summary(), tmp_path / "reports", {"GITHUB_STEP_SUMMARY": str(job_summary)})
    assert written[-1] == job_summary
    text = job_summary.read_text(encoding="utf-8")
    assert text.startswith("# an earlier step\n## Conformance: \u2705 conformant")
    assert text.count("## Conformance:") == 1


def test_a_job_summary_that_cannot_be_written_is_reported_and_does_not_stop_the_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = publish(conformant_summary(), tmp_path, {"GITHUB_STEP_SUMMARY": str(tmp_path / "missing" / "x.md")})
    assert [p.name for p in written] == ["summary.md", "badge.json"]
    assert "could not append the summary to $GITHUB_STEP_SUMMARY" in capsys.readouterr().err
