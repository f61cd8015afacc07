"""A bug of the suite is never dressed as a rule; what the target did on the wire always is one."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
import requests

from accounting_conformance.conformance import report
from accounting_conformance.conformance.failures import violation
from accounting_conformance.conformance.outcomes import TestRecord, classify, suite_bugs
from accounting_conformance.conformance.redact import Redactor
from accounting_conformance.conformance.run_record import RunRecord
from accounting_conformance.conformance.settings import DEFAULT_TOKEN, REPO, resolve
from accounting_conformance.conformance.states import StateLog

REDACT = Redactor(["tok-1"])


def test_a_keyerror_of_ours_is_a_suite_bug_and_no_rule_failure() -> None:
    bug = KeyError("invoice_credit_memo")
    assert suite_bugs(bug) == [bug]
    assert classify(bug, "WRITE-001", REDACT) == []


@pytest.mark.parametrize(
    "raised",
    [
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ContentDecodingError("bad gzip"),
        httpx.RemoteProtocolError("peer closed"),
        ConnectionResetError("reset"),
    ],
)
def test_a_transport_error_fails_the_rule_under_test_and_is_not_a_suite_bug(raised: BaseException) -> None:
    assert suite_bugs(raised) == []
    [record] = classify(raised, "SCHEMA-002", REDACT)
    assert record.rule == "SCHEMA-002" and record.title.startswith("No usable response") and record.expected


def test_a_group_with_a_violation_and_a_bug_keeps_the_violation_and_names_the_bug() -> None:
    found = violation("MONEY-003", expected="remaining = 5", received="remaining = 10")
    group = ExceptionGroup("two", [found, IndexError("list index out of range")])
    assert [r.rule for r in classify(group, "MONEY-001", REDACT)] == ["MONEY-003"]
    assert [type(b) for b in suite_bugs(group)] == [IndexError]


def test_a_suite_error_counts_against_no_rule_and_sets_the_verdict(tmp_path: Path) -> None:
    broken = TestRecord(
        "t::broken", "failed", ["APPLY-002"], suite_error="Traceback ...\nIndexError: list index out of range"
    )
    records = [broken, TestRecord("t::good", "passed", ["PAGE-001"])]
    assert report.by_rule(records)["APPLY-002"] == {}
    settings = resolve({"access_token": "tok-1", "seed": "5", "report_dir": str(tmp_path)}, env={})
    report.write(
        settings, RunRecord(settings, REDACT).conclude(records, 1, broken=False, states=StateLog()), environ={}
    )
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["verdict"] == "suite error" and data["failures"] == []
    assert data["suite_errors"] == [{"test": "t::broken", "traceback": broken.suite_error}]
    lines = "\n".join(report.terminal_lines(data))
    assert "SUITE ERROR in t::broken" in lines and "please report" in lines and "FAILED APPLY-002" not in lines


@pytest.mark.slow
def test_a_crash_of_a_conformance_test_exits_2_labelled_suite_error_with_its_traceback(tmp_path: Path) -> None:
    # A conformance module of ours with a bug in it, run by the real command against the embedded server.
    plugin = tmp_path / "buggy_plugin.py"
    plugin.write_text(
        textwrap.dedent("""
        import pytest

        @pytest.hookimpl(trylast=True)
        def pytest_collection_modifyitems(items):
            items[:] = [i for i in items if i.name.startswith("test_create_echoes")][:1]
            items[0].obj = lambda *a, **k: [][0]  # an IndexError of the suite's own making
    """)
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "accounting_conformance.conformance",
            "--profile",
            "quick",
            "--seed",
            "1",
            "--report-dir",
            str(tmp_path / "r"),
            "--",
            "-p",
            "buggy_plugin",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        env={**_env(), "PYTHONPATH": str(tmp_path)},
    )
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "conformance: exit 2 (suite error)" in done.stdout
    assert "please report" in done.stderr and "IndexError" in done.stderr and "could not judge" not in done.stderr
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["verdict"] == "suite error" and summary["failures"] == []
    assert DEFAULT_TOKEN not in done.stdout + done.stderr


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("TARGET", "ACCESS_TOKEN", "FIXTURES", "PROFILE", "SEED")}


def test_a_replay_made_flaky_by_the_target_reports_what_the_target_first_did() -> None:
    from hypothesis.errors import FlakyStrategyDefinition

    first = violation("PAGE-001", expected="at most 2 objects", received="3 objects")
    try:
        try:
            raise first
        except AssertionError:
            raise FlakyStrategyDefinition("Inconsistent data generation!")  # noqa: B904 - the context is what is tested
    except FlakyStrategyDefinition as flaky:
        assert suite_bugs(flaky) == [] and [r.rule for r in classify(flaky, "SCHEMA-001", REDACT)] == ["PAGE-001"]
    lone = FlakyStrategyDefinition("Inconsistent data generation!")
    assert suite_bugs(lone) == [lone]  # with nothing from the target behind it, our strategies are to blame


def test_an_interruption_is_neither_a_suite_bug_nor_a_rule_failure() -> None:
    stopped = KeyboardInterrupt("signal 15")
    assert suite_bugs(stopped) == [] and classify(stopped, "SCHEMA-001", REDACT) == []
