"""Coverage: each exchange counts under its operation and status; the verdict line states the totals."""

from __future__ import annotations

from accounting_conformance.conformance.contract import load_spec
from accounting_conformance.conformance.coverage import Coverage, Matcher, headline, operations_of
from accounting_conformance.conformance.recorder import Recorder, now

BASE = "http://target.example/v1"


def _recorder() -> tuple[Recorder, Coverage]:
    operations = operations_of(load_spec())
    coverage = Coverage(operations)
    recorder = Recorder(base=BASE, match=Matcher(operations))
    recorder.listeners.append(coverage.observe)
    return recorder, coverage


def _send(recorder: Recorder, method: str, path: str, status: int) -> None:
    recorder.record(method, f"{BASE}{path}?access_token=t", {}, None, status, {}, "", started=now(), elapsed=0.01)


def test_a_literal_path_matches_before_a_template() -> None:
    match = Matcher(operations_of(load_spec()))
    assert match("POST", "/accounting/bill_credit_applications/unapply") == "revertBillCreditApplication"
    assert match("GET", "/accounting/invoices/abc-123") == "getInvoice"
    assert match("GET", "/accounting/invoices") == "listInvoices"
    assert match("PUT", "/accounting/invoices") is None and match("GET", "/nowhere") is None


def test_every_operation_of_the_contract_is_a_row_with_its_documented_statuses() -> None:
    _, coverage = _recorder()
    data = coverage.asdict()
    assert data["operations_total"] == 21 and data["operations_exercised"] == 0 and data["responses_seen"] == 0
    row = next(r for r in data["operations"] if r["operation_id"] == "createInvoice")
    assert set(row["responses"]) >= {"200", "400", "401", "429", "500"} and not row["success"]


def test_exchanges_count_under_their_operation_and_status_and_undocumented_ones_apart() -> None:
    recorder, coverage = _recorder()
    _send(recorder, "POST", "/accounting/invoices", 200)
    _send(recorder, "POST", "/accounting/invoices", 200)
    _send(recorder, "POST", "/accounting/invoices", 400)
    _send(recorder, "POST", "/accounting/invoices", 201)  # not documented
    _send(recorder, "GET", "/accounting/invoices/x", 404)
    _send(recorder, "GET", "/accounting/invoices/x", 0)  # no response: counts nowhere
    data = coverage.asdict()
    create = next(r for r in data["operations"] if r["operation_id"] == "createInvoice")
    fetch = next(r for r in data["operations"] if r["operation_id"] == "getInvoice")
    assert create["responses"]["200"] == 2 and create["responses"]["400"] == 1 and create["undocumented"] == {"201": 1}
    assert create["success"] and not fetch["success"] and fetch["responses"]["404"] == 1
    assert data["operations_exercised"] == 1 and data["responses_seen"] == 3
    assert headline(data) == f"1/21 operations, 3/{data['responses_total']} documented responses seen"


def test_a_minimum_is_met_only_when_both_percentages_reach_it() -> None:
    recorder, coverage = _recorder()
    _send(recorder, "POST", "/accounting/invoices", 200)
    assert coverage.asdict()["met"] and coverage.asdict()["minimum"] is None
    assert not coverage.asdict((100.0, 0.0))["met"]
    assert coverage.asdict((4.0, 0.0))["met"]  # 1 of 21 operations is 4.8 %
    assert not coverage.asdict((4.0, 50.0))["met"]


def test_exchanges_are_kept_per_test_and_let_go_when_it_passes() -> None:
    recorder, _ = _recorder()
    recorder.start("t::a")
    _send(recorder, "POST", "/accounting/invoices", 200)
    recorder.start("t::b")
    _send(recorder, "GET", "/accounting/invoices/x", 404)
    assert [e.operation_id for e in recorder.exchanges_of("t::a")] == ["createInvoice"]
    assert recorder.exchanges_of("t::b")[0].status == 404
    recorder.forget("t::a")
    assert recorder.exchanges_of("t::a") == []


def test_a_new_example_lets_the_earlier_ones_go_but_counts_them() -> None:
    recorder, coverage = _recorder()
    recorder.start("t::machine")
    _send(recorder, "POST", "/accounting/invoices", 200)
    _send(recorder, "POST", "/accounting/invoices", 400)
    recorder.begin_example()
    _send(recorder, "GET", "/accounting/invoices/x", 404)
    assert [e.status for e in recorder.exchanges_of("t::machine")] == [404] and recorder.earlier("t::machine") == 2
    assert recorder.dropped("t::machine") == 0
    assert coverage.asdict()["responses_seen"] == 3  # coverage counts every example
