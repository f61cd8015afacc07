"""The interop check (`make interop`): how it judges a run, and the suite against Prism's mocks for real."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from accounting_conformance.conformance import interop
from accounting_conformance.conformance.interop_judge import (
    GUARD_MARK,
    MOCK,
    PROXY,
    Evidence,
    Result,
    details,
    judge,
    prism_violations,
    table,
)

CLEAN_PRISM_LOG = """\
[3:31:20 PM] › [HTTP SERVER] get /accounting/invoice_credit_memos ℹ  info      Request received
[3:31:20 PM] ›     [PROXY] ℹ  info      The upstream call to /accounting/invoice_credit_memos has returned 400
[3:31:20 PM] ›     [VALIDATOR] ✖  error     Violation: request.query.limit Request query parameter limit must be integer
"""
BAD_RESPONSE_LOG = (
    CLEAN_PRISM_LOG
    + """\
[3:31:36 PM] › [HTTP SERVER] get /accounting/invoices/x ℹ  info      Request received
[3:31:36 PM] ›     [VALIDATOR] ✖  error     Violation: response.body Response body must have required property 'error_type'
"""
)


def _failure(
    rule: str = "MONEY-003", title: str = "[MONEY-003] remaining_amount = total_amount - sum"
) -> dict[str, Any]:
    return {"test": "tests/conformance/test_writes.py::test_x", "rule": rule, "title": title, "detail": "d"}


def _summary(*failures: dict[str, Any], verdict: str = "violations") -> dict[str, Any]:
    return {"verdict": verdict, "failures": list(failures), "rules": []}


def _mock_run(*failures: dict[str, Any], output: str = "conformance: exit 1 (violations found)") -> Evidence:
    return Evidence(1, output, _summary(*failures))


def test_a_mock_found_in_violation_under_known_rules_passes_the_interop_check() -> None:
    assert judge(_mock_run(_failure(), _failure("AUTH-001", "API accepts invalid authentication")), MOCK).passed


def test_a_failure_without_a_rule_fails_the_interop_check() -> None:
    judgement = judge(_mock_run(_failure(rule="NO-SUCH-RULE")), MOCK)
    assert not judgement.passed and judgement.unknown_rules == ["NO-SUCH-RULE"]


def test_a_failure_with_an_empty_rule_fails_the_interop_check() -> None:
    assert judge(_mock_run(_failure(rule="")), MOCK).unknown_rules == ["(none)"]


def test_a_failure_titled_with_a_bare_exception_name_is_a_crash_of_the_suite() -> None:
    crash = _failure(rule="WRITE-001", title="IndexError") | {"detail": "list index out of range\nmore"}
    judgement = judge(_mock_run(_failure(), crash), MOCK)
    assert not judgement.passed
    assert judgement.crashes == ["tests/conformance/test_writes.py::test_x: IndexError (list index out of range)"]


def test_an_output_containing_a_traceback_is_a_crash() -> None:
    output = "Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\nKeyError: 'vendor_id'\n"
    judgement = judge(_mock_run(_failure(), output=output), MOCK)
    assert not judgement.passed and judgement.crashes == ["traceback: KeyError: 'vendor_id'"]


def test_pytests_rendering_of_a_failure_group_is_not_a_crash() -> None:
    output = (
        '+ Exception Group Traceback (most recent call last):\n  |   File "case.py", line 1\n'
        "  | schemathesis.core.failures.FailureGroup: Schemathesis found 1 distinct failure\n"
    )
    assert judge(_mock_run(_failure(), output=output), MOCK).crashes == []


def test_a_setup_broken_by_an_exception_is_a_crash_and_could_not_judge() -> None:
    output = (
        "conformance: could not judge: tests/conformance/test_applications.py::test_a[x y]: KeyError: "
        "'invoice_credit_memo'\nconformance: exit 2 (could not judge)\n"
    )
    judgement = judge(Evidence(2, output, _summary(_failure(), verdict="violations")), MOCK)
    assert judgement.crashes == ["tests/conformance/test_applications.py::test_a[x y]: KeyError (could not judge)"]
    assert len(judgement.could_not_judge) == 1 and not judgement.passed


def test_an_unreachable_target_could_not_judge_but_is_no_crash() -> None:
    output = "conformance: could not judge: target unreachable: cannot connect to 127.0.0.1:1\n"
    judgement = judge(Evidence(2, output, {"verdict": "could not judge", "reason": "target unreachable"}), MOCK)
    assert judgement.crashes == [] and judgement.could_not_judge and not judgement.passed


def test_a_suite_error_is_a_crash() -> None:
    judgement = judge(Evidence(2, "conformance: suite error: KeyError in the plugin\n", _summary()), MOCK)
    assert judgement.verdict == "suite error" and judgement.crashes and not judgement.passed


def test_a_labelled_suite_error_is_one_crash_named_by_its_test_and_last_exception() -> None:
    traceback = (
        "tests/conformance/test_links.py:23: in test_l\nE   hypothesis.errors.Flaky: Inconsistent\nE   \nE   more"
    )
    summary = _summary(_failure()) | {
        "verdict": "suite error",
        "suite_errors": [{"test": "tests/conformance/test_links.py::test_l", "traceback": traceback}],
    }
    output = "conformance: suite error: 1 test(s) hit a bug\nconformance: exit 2 (suite error)\n"
    judgement = judge(Evidence(2, output, summary), MOCK)
    assert judgement.crashes == [
        "tests/conformance/test_links.py::test_l: suite error: hypothesis.errors.Flaky: Inconsistent"
    ]
    assert judgement.verdict == "suite error" and judgement.could_not_judge == []


def test_prism_exiting_during_the_run_fails_the_target() -> None:
    evidence = Evidence(
        1, "", _summary(_failure()), target_exit="exit 1: TypeError: Invalid character in header content"
    )
    assert any("Prism exited during the run" in reason for reason in judge(evidence, MOCK).reasons)


def test_the_details_say_how_often_the_guard_kept_prism_from_crashing() -> None:
    log = CLEAN_PRISM_LOG + f"{GUARD_MARK} non-ASCII sl-violations header escaped\n" * 2
    result = Result("proxy", PROXY, judge(Evidence(0, "", _summary(verdict="conformant"), log), PROXY), 1.0)
    assert "  guard of Prism's bugs: 2 x non-ASCII sl-violations header escaped" in details(result)
    [header, row] = table([result])
    assert header.split()[:3] == ["target", "exit", "verdict"] and row.split()[-2:] == ["PASS", "-"]


def test_a_conformant_mock_fails_the_interop_check() -> None:
    assert not judge(Evidence(0, "conformance: exit 0 (conformant)", _summary(verdict="conformant")), MOCK).passed


def test_a_run_without_a_summary_fails_the_interop_check() -> None:
    assert "no summary.json" in judge(Evidence(1, "", None), MOCK).reasons


def test_a_timed_out_run_fails_the_interop_check() -> None:
    judgement = judge(Evidence(None, "", None), PROXY)
    assert judgement.verdict == "timed out" and not judgement.passed


def test_the_interruption_of_a_timed_out_run_is_not_a_crash() -> None:
    summary = {
        "verdict": "suite error",
        "suite_errors": [{"test": "t::x", "traceback": "E   KeyboardInterrupt: signal 15"}],
    }
    assert judge(Evidence(None, "", summary), PROXY).crashes == []


def test_prism_violations_name_the_request_they_were_logged_for() -> None:
    [request, response] = prism_violations(BAD_RESPONSE_LOG)
    assert (request.request, request.location, request.about_response) == (
        "GET /accounting/invoice_credit_memos",
        "request.query.limit",
        False,
    )
    assert (response.request, response.message) == (
        "GET /accounting/invoices/x",
        "Response body must have required property 'error_type'",
    )


def test_the_proxy_passes_with_violations_of_requests_only() -> None:
    judgement = judge(Evidence(1, "", _summary(_failure("MONEY-010", "[MONEY-010] exact")), CLEAN_PRISM_LOG), PROXY)
    assert judgement.passed and len(judgement.violations) == 1 and judgement.rules_failed == ["MONEY-010"]


def test_a_violation_of_a_response_fails_the_proxy() -> None:
    judgement = judge(Evidence(0, "", _summary(verdict="conformant"), BAD_RESPONSE_LOG), PROXY)
    assert not judgement.passed and len(judgement.response_violations) == 1


def _prism_or_skip() -> None:
    if interop.PRISM.exists():
        return
    if shutil.which("npm") is None:
        pytest.skip("Prism is not installed (node_modules/.bin/prism) and npm is not on PATH to install it")
    interop.install_prism()


@pytest.mark.slow
def test_the_suite_finds_prisms_mocks_in_violation_under_known_rules_without_crashing(tmp_path: Path) -> None:
    _prism_or_skip()
    results = interop.check(("mock-static", "mock-dynamic"), profile="quick", seed=11, keep_reports=tmp_path)
    for result in results:
        j = result.judgement
        assert j.exit_code == 1, f"{result.target}: exit {j.exit_code} ({j.reasons})"
        assert j.failures and not j.unknown_rules, f"{result.target}: failures under no rule: {j.unknown_rules}"
        assert not j.crashes, f"{result.target}: the suite crashed: {j.crashes}"
        assert not j.could_not_judge, f"{result.target}: could not judge: {j.could_not_judge}"
