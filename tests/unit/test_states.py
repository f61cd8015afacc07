"""Document states: recorded by name, derived from amounts, reported per run, and a clean run missing one fails selftest."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from accounting_conformance.conformance import report, selftest_states
from accounting_conformance.conformance.outcomes import TestRecord
from accounting_conformance.conformance.redact import Redactor
from accounting_conformance.conformance.run_record import RunRecord
from accounting_conformance.conformance.selftest_runs import Run
from accounting_conformance.conformance.settings import resolve
from accounting_conformance.conformance.states import STATES, StateLog


def test_a_memo_state_follows_its_amounts() -> None:
    log = StateLog()
    log.memo("bill_credit_memo", Decimal("10"), Decimal("10"))
    log.memo("bill_credit_memo", Decimal("10"), Decimal("4"))
    log.memo("bill_credit_memo", Decimal("10"), Decimal("0"))
    log.invoice(Decimal("5"), Decimal("0"))
    assert {n for n, c in log.counts.items() if c} == {
        "bill_credit_memo open",
        "bill_credit_memo partly applied",
        "bill_credit_memo used up exactly",
        "invoice paid",
    }


def test_an_unknown_state_is_a_bug_of_the_suite() -> None:
    with pytest.raises(KeyError, match="unknown state"):
        StateLog().reached("memo half applied")


def test_summary_and_terminal_say_which_states_were_never_reached(tmp_path: Path) -> None:
    log = StateLog()
    log.reached("invoice paid")
    settings = resolve({"access_token": "t", "seed": "1", "report_dir": str(tmp_path)}, env={})
    data = RunRecord(settings, Redactor([])).conclude(
        [TestRecord("t::x", "passed", ["PAGE-001"])], 0, broken=False, states=log
    )
    report.write(settings, data, environ={})
    states = json.loads((tmp_path / "summary.json").read_text())["states"]
    assert states["reached"]["invoice paid"] == 1 and "invoice paid" not in states["unreached"]
    assert len(states["unreached"]) == len(STATES) - 1
    line = next(line for line in report.terminal_lines(data) if line.startswith("States reached"))
    assert line.startswith(f"States reached: 1/{len(STATES)}; never reached: ")


def test_a_clean_run_that_left_a_state_unreached_is_named_by_the_selftest() -> None:
    full = Run("suite", None, 1, exit_code=0, states=dict.fromkeys(STATES, 2))
    partial = Run("suite", None, 2, exit_code=0, states={**dict.fromkeys(STATES, 1), "invoice paid": 0})
    assert selftest_states.short([full]) == {}
    assert selftest_states.short([full, partial]) == {2: ["invoice paid"]}
    lines = selftest_states.table([full, partial])
    assert any(line.split()[:2] == ["invoice", "paid"] and "1/2" in line for line in lines)


def test_selftest_fails_when_a_clean_run_leaves_a_state_unreached(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from accounting_conformance.conformance import selftest

    def suite(
        fault: str | None, seed: int, profile: str, workdir: Path, timeout: float, *, stop_first: bool = False
    ) -> Run:
        reached = dict.fromkeys(STATES, 1) if fault else {**dict.fromkeys(STATES, 1), "delete refused while used up": 0}
        return Run("suite", fault, seed, exit_code=1 if fault else 0, found=["X-001"] if fault else [], states=reached)

    monkeypatch.setattr(selftest, "run_suite", suite)
    args = [
        "--profile",
        "quick",
        "--seed",
        "3",
        "--clean-runs",
        "1",
        "--faults",
        "limit-ignored",
        "--variations",
        "none",
        "--report-dir",
        str(tmp_path),
    ]
    assert selftest.main(args) == 1
    assert (
        "STATES UNREACHED" in capsys.readouterr().err
        and "delete refused while used up" in (tmp_path / "table.txt").read_text()
    )
