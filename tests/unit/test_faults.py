"""The fault catalogue of the reference server, what its faults do, and the selftest's own logic."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from accounting_conformance.conformance import outcomes, selftest, selftest_runs
from accounting_conformance.conformance.report import first_failure_seconds
from accounting_conformance.conformance.resources import fixtures_path
from accounting_conformance.reference_server.app import Settings, create_app
from accounting_conformance.reference_server.faults import CATEGORIES, Fault, Faults

REPO = Path(__file__).resolve().parents[2]
FIXTURES = json.loads((fixtures_path()).read_text())
TOKEN = FIXTURES["access_token"]
CUSTOMER = next(c["id"] for c in FIXTURES["customers"] if c["currency_code"] == "USD")


# ------------------------------------------------------------------------------------------ catalogue


def test_the_catalogue_has_at_least_35_unique_named_and_described_faults() -> None:
    assert len(Fault) >= 35
    for fault in Fault:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", fault.value), fault
        assert fault.name == fault.value.upper().replace("-", "_"), "a member is spelled as its --fault name"
        assert len(fault.description) > 20 and "\n" not in fault.description, fault
        assert fault.category in CATEGORIES, fault


def test_every_category_is_covered() -> None:
    assert {fault.category for fault in Fault} == set(CATEGORIES)
    assert set(CATEGORIES) == {"shape", "money", "state", "queries", "security", "subtle"}


# ------------------------------------------------------------------------------- faults change behaviour


class InProcessClient:
    """A synchronous client of an in-process app (httpx over ASGI), authenticated with the fixtures' token."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app), base_url="http://test", params={"access_token": TOKEN}
            ) as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(send())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)


@pytest.fixture
def serve() -> Callable[..., InProcessClient]:
    """Make an in-process app (in-memory database) with exactly the given faults."""

    def make(*chosen: Fault) -> InProcessClient:
        return InProcessClient(create_app(Settings(db_path=":memory:", faults=Faults.of(*chosen))))

    return make


def _memo(client: InProcessClient, amount: str) -> dict[str, Any]:
    body = {
        "invoice_credit_memo": {
            "customer_id": CUSTOMER,
            "currency_code": "USD",
            "line_items": [{"total_amount": amount}],
        }
    }
    response = client.post("/accounting/invoice_credit_memos", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json()["invoice_credit_memo"])


def _over_apply(client: InProcessClient) -> int:
    memo = _memo(client, "10.00")
    invoice = client.post(
        "/accounting/invoices",
        json={"invoice": {"customer_id": CUSTOMER, "currency_code": "USD", "line_items": [{"total_amount": "50.00"}]}},
    ).json()["invoice"]
    response = client.post(
        "/accounting/invoice_credit_applications",
        json={
            "invoice_credit_application": {
                "invoice_credit_memo_id": memo["id"],
                "linked_invoices": [{"id": invoice["id"], "allocated_amount": "10.01"}],
            }
        },
    )
    return response.status_code


def test_over_application_accepted_lets_a_memo_go_below_zero(serve: Any) -> None:
    assert _over_apply(serve()) == 400
    assert _over_apply(serve(Fault.OVER_APPLICATION_ACCEPTED)) == 200


def test_access_token_not_checked_answers_an_unknown_token(serve: Any) -> None:
    params = {"access_token": "not-a-token"}
    assert serve().get("/accounting/invoices", params=params).status_code == 401
    assert serve(Fault.ACCESS_TOKEN_NOT_CHECKED).get("/accounting/invoices", params=params).status_code == 200


def test_icm_amounts_as_numbers_changes_the_json_type_of_amounts(serve: Any) -> None:
    assert _memo(serve(), "14.34")["total_amount"] == "14.34"
    assert _memo(serve(Fault.ICM_AMOUNTS_AS_NUMBERS), "14.34")["total_amount"] == 14.34


def test_sort_direction_inverted_reverses_an_explicit_sort(serve: Any) -> None:
    def order(client: InProcessClient) -> list[str]:
        numbers = [_memo(client, amount)["total_amount"] for amount in ("1", "2", "3")]
        assert numbers == ["1", "2", "3"]
        page = client.get("/accounting/invoice_credit_memos", params={"sort": "created_at ASC"}).json()
        return [memo["total_amount"] for memo in page["invoice_credit_memos"]]

    assert order(serve()) == ["1", "2", "3"]
    assert order(serve(Fault.SORT_DIRECTION_INVERTED)) == ["3", "2", "1"]


def test_two_apps_in_one_process_keep_their_own_faults(serve: Any) -> None:
    faulty, clean = serve(Fault.OVER_APPLICATION_ACCEPTED), serve()
    assert [_over_apply(faulty), _over_apply(clean), _over_apply(faulty)] == [200, 400, 200]


# ------------------------------------------------------------------------------------------- selftest


def test_rotation_is_deterministic_per_key_and_a_handful_covers_every_category() -> None:
    handful = len(CATEGORIES)
    first = selftest.rotate(handful, "abc123")
    assert first == selftest.rotate(handful, "abc123")
    assert len(set(first)) == handful
    assert {Fault.named(name).category for name in first} == set(CATEGORIES)
    assert sorted(selftest.rotate(1000, "x")) == sorted(fault.value for fault in Fault)
    assert any(selftest.rotate(handful, key) != first for key in ("def456", "2026-01-01", "2026-01-02"))


def test_selftest_rejects_an_unknown_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert selftest.main(["--faults", "limit-ignored,no-such-fault", "--report-dir", "unused"]) == 2
    assert "unknown fault 'no-such-fault'" in capsys.readouterr().err


def test_first_failure_seconds_is_the_end_of_the_earliest_failing_test() -> None:
    records = [
        outcomes.TestRecord("a", "passed", [], elapsed=1.0),
        outcomes.TestRecord("b", "failed", ["X"], elapsed=2.5, failures=[outcomes.FailureRecord("SCHEMA-001", "t")]),
        outcomes.TestRecord("c", "failed", ["Y"], elapsed=4.0),
    ]
    assert first_failure_seconds(records) == 2.5
    assert first_failure_seconds(records[:1]) is None


def test_cli_findings_reads_failed_checks_and_the_time_of_the_first(tmp_path: Path) -> None:
    def finished(stamp: float, statuses: dict[str, str], status_code: int = 200, body: Any = None) -> str:
        checks = {"case": [{"name": name, "status": status} for name, status in statuses.items()]}
        content = {"$base64": base64.b64encode(json.dumps(body).encode()).decode()}
        interactions = {"case": {"response": {"status_code": status_code, "content": content}}}
        status = "failure" if "failure" in statuses.values() else "success"
        return json.dumps(
            {
                "ScenarioFinished": {
                    "timestamp": stamp,
                    "status": status,
                    "recorder": {"checks": checks, "interactions": interactions},
                }
            }
        )

    refusal = {"error_type": "INVALID_REQUEST", "error_code": "CURRENCY_MISMATCH", "error_message": "m"}
    invalid = {"error_type": "INVALID_REQUEST", "error_code": "INVALID_FIELD", "error_message": "m"}
    events = tmp_path / "run.ndjson"
    events.write_text(
        "\n".join(
            [
                json.dumps({"EngineStarted": {"timestamp": 100.0}}),
                finished(101.0, {"not_a_server_error": "success"}),
                finished(102.0, {"positive_data_acceptance": "failure"}, 400, refusal),
                finished(103.5, {"response_schema_conformance": "failure", "not_a_server_error": "success"}),
                finished(104.0, {"not_a_server_error": "failure"}),
            ]
        )
        + "\n"
    )
    assert selftest_runs._cli_findings(events) == (
        ["response_schema_conformance", "not_a_server_error"],
        ["positive_data_acceptance"],
        3.5,
    )
    events.write_text(finished(1.0, {"positive_data_acceptance": "failure"}, 400, invalid) + "\n")
    assert selftest_runs._cli_findings(events) == (["positive_data_acceptance"], [], None)


def test_a_cli_run_that_only_flagged_rule_refusals_is_not_a_catch() -> None:
    assert selftest.Run("cli", "x", 1, exit_code=1, noise=["positive_data_acceptance"]).verdict == selftest.MISSED
    assert selftest.Run("cli", "x", 1, exit_code=1, found=["ignored_auth"]).verdict == selftest.CAUGHT
    assert selftest.Run("suite", "x", 1, exit_code=1).verdict == selftest.CAUGHT
    assert selftest.Run("suite", None, 1, exit_code=None).verdict == selftest.ERROR


def test_selftest_list_shows_the_rotated_choice_without_running(capsys: pytest.CaptureFixture[str]) -> None:
    assert selftest.main(["--list", "--rotate", "5", "--rotate-key", "date"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("# 5 rotated by date ")
    assert {line.split()[0] for line in lines[1:]} <= {fault.value for fault in Fault} and len(lines) == 6


def test_selftest_rejects_a_negative_count_of_cli_clean_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert selftest.main(["--compare-cli", "--cli-clean-runs", "-1", "--faults", "limit-ignored"]) == 2
    assert "--cli-clean-runs must be >= 0" in capsys.readouterr().err


def test_a_faulty_suite_run_stops_at_its_first_failing_test_unless_asked_for_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []

    def fake(command: list[str], *args: Any) -> tuple[int, float]:
        commands.append(command)
        args[1].write_text("")  # the log
        return 0, 0.0

    monkeypatch.setattr(selftest_runs, "_run_process", fake)
    selftest_runs.run_suite("limit-ignored", 1, "quick", tmp_path, 10, stop_first=True)
    selftest_runs.run_suite("limit-ignored", 1, "quick", tmp_path, 10)
    assert commands[0][-2:] == ["--", "-x"] and "-x" not in commands[1]
