"""A baseline accepts known failures until they expire, names the ones that were fixed, and is written from a run."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from accounting_conformance.conformance import baseline
from accounting_conformance.conformance.contract import load_spec
from accounting_conformance.conformance.coverage import Matcher, operations_of

TODAY = date(2026, 12, 1)
OPERATIONS = [op.operation_id for op in operations_of(load_spec())]


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.toml"
    path.write_text(text)
    return path


def _entry(
    rule: str = "APPLY-001", expires: str = "2027-01-31", where: str = 'operation = "createInvoiceCreditApplication"'
) -> str:
    return f'[[accepted]]\nrule = "{rule}"\n{where}\nreason = "TICKET-1"\nexpires = {expires}\n'


def test_a_matching_failure_is_accepted_and_an_unmatched_entry_is_reported_fixed(tmp_path: Path) -> None:
    entries = baseline.load(
        _file(tmp_path, _entry() + _entry("IDEM-001", where='test = "test_writes.py::test_x"')), OPERATIONS
    )
    failures = [
        baseline.Failure("APPLY-001", "createInvoiceCreditApplication", "test_writes.py::test_apply[icm]"),
        baseline.Failure("MONEY-003", "getInvoiceCreditMemo", "test_links.py::test_links"),
    ]
    accepting, result = baseline.judge(entries, failures, TODAY)
    assert accepting[0] is entries[0] and accepting[1] is None
    assert result["new"] == 1 and [e["rule"] for e in result["accepted"]] == ["APPLY-001"]
    assert [e["rule"] for e in result["fixed"]] == ["IDEM-001"] and result["expired"] == []


def test_a_test_entry_matches_every_parametrisation_of_that_test(tmp_path: Path) -> None:
    entry = baseline.load(_file(tmp_path, _entry(where='test = "test_writes.py::test_apply"')), OPERATIONS)[0]
    assert entry.matches("APPLY-001", "anything", "test_writes.py::test_apply[bill_credit_memo]")
    assert not entry.matches("APPLY-001", "anything", "test_writes.py::test_apply_more")
    assert not entry.matches("APPLY-002", "anything", "test_writes.py::test_apply")


def test_an_expired_entry_accepts_nothing_and_is_reported_expired(tmp_path: Path) -> None:
    entries = baseline.load(_file(tmp_path, _entry(expires="2026-11-30")), OPERATIONS)
    accepting, result = baseline.judge(
        entries, [baseline.Failure("APPLY-001", "createInvoiceCreditApplication", "t")], TODAY
    )
    assert accepting == [None] and result["new"] == 1 and len(result["expired"]) == 1 and result["accepted"] == []


def test_an_entry_expiring_today_still_accepts(tmp_path: Path) -> None:
    entries = baseline.load(_file(tmp_path, _entry(expires="2026-12-01")), OPERATIONS)
    accepting, _ = baseline.judge(
        entries, [baseline.Failure("APPLY-001", "createInvoiceCreditApplication", "t")], TODAY
    )
    assert accepting == entries


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_entry(rule="NOPE-001"), "rule must be one of the suite's rule IDs"),
        (_entry(expires='"soon"'), "expires must be a TOML date"),
        (_entry(where=""), "name the failure with operation"),
        (_entry(where='operation = "createUnicorn"'), "not an operationId of the contract"),
        ('[[accepted]]\nrule = "APPLY-001"\noperation = "getInvoice"\nexpires = 2027-01-01\n', "reason must say why"),
        ("[[accepted]]\nrule = 'APPLY-001'\ncolour = 'red'\n", "unknown key"),
        ("accepted = 3\n", "array of tables"),
        ("[[accepted", "not a readable TOML file"),
    ],
)
def test_a_bad_baseline_is_refused_saying_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(baseline.BaselineError, match=message):
        baseline.load(_file(tmp_path, text), OPERATIONS)


def test_a_written_baseline_reads_back_and_accepts_the_failures_it_was_written_from(tmp_path: Path) -> None:
    failures = [
        baseline.Failure("APPLY-001", "createInvoiceCreditApplication", "test_writes.py::test_apply[a]"),
        baseline.Failure("APPLY-001", "createInvoiceCreditApplication", "test_writes.py::test_apply[b]"),
        baseline.Failure("SCHEMA-001", "", 'test_fuzz.py::test_op[POST /x "quoted"]'),
    ]
    path = tmp_path / "out" / "baseline.toml"
    assert baseline.write(path, failures, ["t1", "t2", "t3"], TODAY) == 2
    assert len(tomllib.loads(path.read_text())["accepted"]) == 2
    entries = baseline.load(path, OPERATIONS)
    assert all(e.expires == date(2027, 3, 1) and "--baseline-write on 2026-12-01" in e.reason for e in entries)
    accepting, result = baseline.judge(entries, failures, TODAY)
    assert None not in accepting and result["new"] == 0 and result["fixed"] == []


def test_a_failures_operation_text_is_named_by_its_operation_id() -> None:
    name = baseline.operation_namer(Matcher(operations_of(load_spec())))
    assert name("POST /accounting/invoice_credit_applications") == "createInvoiceCreditApplication"
    assert name("GET /accounting/invoices/abc?x=1") == "getInvoice"
    assert name("createInvoice") == "createInvoice" and name("") == ""
