"""Reports group results by rule, put failures first, and carry the seed and masked settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from accounting_conformance.conformance import report
from accounting_conformance.conformance.conclusion import conclude
from accounting_conformance.conformance.contract import load_spec
from accounting_conformance.conformance.coverage import Coverage, operations_of
from accounting_conformance.conformance.failures import violation
from accounting_conformance.conformance.outcomes import TestRecord, classify
from accounting_conformance.conformance.redact import Redactor
from accounting_conformance.conformance.settings import Settings, resolve


def _records() -> list[TestRecord]:
    failing = TestRecord("t::bad", "failed", ["MONEY-003", "MONEY-001"])
    failing.failures = classify(
        violation(
            "MONEY-003",
            expected="remaining = 5",
            received="remaining = 10",
            reproduction="curl -sS x?access_token=tok-1",
        ),
        "MONEY-001",
        Redactor(["tok-1"]),
    )
    return [
        failing,
        TestRecord("t::good", "passed", ["MONEY-003", "PAGE-001"]),
        TestRecord("t::skip", "skipped", ["IDTYPE-001"], skip_reason="unsupported: x"),
    ]


def test_counts_are_grouped_by_rule() -> None:
    counts = report.by_rule(_records())
    assert counts["MONEY-003"] == {"failed": 1, "passed": 1}
    assert counts["MONEY-001"] == {"passed": 1}
    assert counts["IDTYPE-001"] == {"skipped": 1}


def _summary(settings: Settings, records: list[TestRecord], **findings: Any) -> dict[str, Any]:
    coverage = Coverage(operations_of(load_spec())).asdict()
    done = conclude(records, pytest_code=1, broken=False, coverage=coverage, baseline=None, not_claimed=0)
    return report.summary(settings, records, report.Findings(done, coverage, **findings))


def test_reports_put_failures_first_with_expected_received_and_a_masked_reproduction(tmp_path: Path) -> None:
    settings = resolve({"access_token": "tok-1", "seed": "5", "report_dir": str(tmp_path)}, env={})
    data = _summary(settings, _records())
    report.write(settings, data, environ={})
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["verdict"] == "violations" and data["seed"] == 5 and data["settings"]["access_token"] == "***"
    assert data["failures"][0]["rule"] == "MONEY-003" and "tok-1" not in json.dumps(data)
    assert data["exit_code"] == 1 and data["verdict_line"].startswith("violations found: 0/21 operations")
    page = (tmp_path / "report.html").read_text()
    assert "remaining = 5" in page and "access_token=***" in page and "tok-1" not in page
    assert {"summary.md", "badge.json"} <= {p.name for p in tmp_path.iterdir()}
    lines = report.terminal_lines(data)
    assert any(line.startswith("  [FAIL] MONEY-003") for line in lines) and any("SEED=5" in line for line in lines)
    assert any(line.startswith("Coverage: 0/21 operations") for line in lines)


def test_each_rule_has_a_status_and_accepted_failures_do_not_count_as_failed() -> None:
    settings = resolve({"access_token": "tok-1", "seed": "5"}, env={})
    records = _records()
    records[0].failures[0].accepted = True
    records.append(TestRecord("t::async", "not claimed", ["ASYNC-001"], skip_reason="not claimed"))
    data = _summary(settings, records, unclaimed=frozenset({"async_jobs"}))
    status = {rule["id"]: rule["status"] for rule in data["rules"]}
    assert status["MONEY-003"] == "accepted" and status["PAGE-001"] == "passed" and status["ASYNC-001"] == "not claimed"
    assert status["IDTYPE-001"] == "not exercised" and status["SORT-001"] == "not exercised"
    assert data["claims"] == {
        "unclaimed_features": ["async_jobs"],
        "not_claimed_rules": ["ASYNC-001"],
        "not_claimed_tests": ["t::async"],
    }
    families = data["score"]["families"]
    assert families["money"]["judged"] >= 2 and data["score"]["overall"]["passed"] >= 1


def test_the_pointed_phases_run_before_the_generated_ones_and_unmarked_tests_last(pytestconfig: pytest.Config) -> None:
    from accounting_conformance.conformance.plugin import phase_rank, register_markers

    register_markers(pytestconfig)  # as a run registers them: the suite's markers are strict

    class Item:
        def __init__(self, nodeid: str, phase: str | None) -> None:
            self.nodeid, self.phase = nodeid, phase

        def get_closest_marker(self, name: str) -> object:
            return pytest.mark.phase(self.phase).mark if name == "phase" and self.phase else None

    items = [
        Item("test_anything.py::a", "fuzz"),
        Item("test_new.py::t", None),
        Item("test_x.py::b", "writes"),
        Item("test_y.py::c", "model"),
    ]
    assert [i.nodeid for i in sorted(items, key=phase_rank)] == [  # type: ignore[arg-type]
        "test_x.py::b",
        "test_y.py::c",
        "test_anything.py::a",
        "test_new.py::t",
    ]
    with pytest.raises(pytest.UsageError, match="unknown phase 'pointy'"):
        phase_rank(Item("test_z.py::d", "pointy"))  # type: ignore[arg-type]


def test_operation_ids_are_built_from_verb_and_kind_as_the_contract_names_them() -> None:
    from accounting_conformance.conformance import kinds
    from accounting_conformance.conformance.platforms import operation_id, supported_platforms

    assert {operation_id("create", k) for k in kinds.NAMES} <= set(supported_platforms())
    assert operation_id("delete", "bill_credit_memo") == "deleteBillCreditMemo"
