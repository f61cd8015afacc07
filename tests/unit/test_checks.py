"""Each of the suite's schemathesis checks fails on a hand-built bad object and passes the good one."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis import Response

from accounting_conformance.conformance.checks import Checks
from accounting_conformance.conformance.contract import component
from accounting_conformance.conformance.failures import RuleViolation
from accounting_conformance.conformance.redact import Redactor
from accounting_conformance.conformance.resources import contract_path

SCHEMA = schemathesis.openapi.from_path(contract_path(), config=schemathesis.Config())


def _case(path: str, method: str, memo_id: str) -> schemathesis.Case:
    return SCHEMA[path][method].Case(path_parameters={"id": memo_id}, query={"access_token": "tok-secret"})


def _response(body: Any, status: int = 200) -> Response:
    request = requests.Request("GET", "http://target/accounting/x?access_token=tok-secret").prepare()
    return Response(status, {"content-type": ["application/json"]}, json.dumps(body).encode(), request, 0.01, True)


def _memo() -> dict[str, Any]:
    return copy.deepcopy(component("InvoiceCreditMemoFetchExample", "examples")["value"])


def _invoice() -> dict[str, Any]:
    return copy.deepcopy(component("InvoiceFetchExample", "examples")["value"])


def _bad_remaining(body: dict[str, Any]) -> None:
    body["invoice_credit_memo"]["remaining_amount"] = "1"


def _bad_status(body: dict[str, Any]) -> None:
    body["invoice_credit_memo"]["status"] = "OPEN"


def _bad_timestamp(body: dict[str, Any]) -> None:
    body["invoice_credit_memo"]["created_at"] = "2024-01-02T02:34:56.000Z"  # after updated_at


def _bad_currency(body: dict[str, Any]) -> None:
    body["invoice_credit_memo"]["currency_code"] = "XYZ"


def _other_id(body: dict[str, Any]) -> None:
    body["invoice_credit_memo"]["id"] = "someone-else"


CHECKS = Checks(Redactor(["tok-secret"]))
CASES: list[tuple[Callable[..., None], Callable[[dict[str, Any]], None], str]] = [
    (CHECKS.money_rules, _bad_remaining, "MONEY-003"),
    (CHECKS.status_rules, _bad_status, "STATUS-001"),
    (CHECKS.timestamp_rules, _bad_timestamp, "TIME-001"),
    (CHECKS.currency_rules, _bad_currency, "CUR-001"),
    (CHECKS.fetched_id, _other_id, "FETCH-001"),
]


@pytest.mark.parametrize(("check", "breaks", "rule"), CASES, ids=[c[2] for c in CASES])
def test_check_passes_the_good_object_and_fails_the_bad_one(
    check: Callable[..., None], breaks: Callable[[dict[str, Any]], None], rule: str
) -> None:
    case = _case("/accounting/invoice_credit_memos/{id}", "GET", "00000000-0000-0000-0000-000000000000")
    good = _memo()
    check(None, _response(good), case)
    bad = _memo()
    breaks(bad)
    with pytest.raises(RuleViolation) as caught:
        check(None, _response(bad), case)
    failure = caught.value
    assert failure.rule == rule and failure.title.startswith(f"[{rule}]")
    assert "Expected:" in failure.message and "Received:" in failure.message
    assert "curl" in failure.message and "tok-secret" not in failure.message


def test_money_check_catches_an_invoice_whose_amount_due_ignores_payments() -> None:
    case = _case("/accounting/invoices/{id}", "GET", "00000000-0000-0000-0000-000000000000")
    CHECKS.money_rules(None, _response(_invoice()), case)
    bad = _invoice()
    bad["invoice"]["amount_due"] = "14.34"
    with pytest.raises(RuleViolation, match="MONEY-005"):
        CHECKS.money_rules(None, _response(bad), case)


def test_checks_ignore_error_responses() -> None:
    case = _case("/accounting/invoice_credit_memos/{id}", "GET", "x")
    CHECKS.money_rules(None, _response({"error_type": "X", "error_code": "Y", "error_message": "z"}, 400), case)


def test_each_run_masks_its_own_secrets_in_the_reproductions() -> None:
    case = _case("/accounting/invoice_credit_memos/{id}", "GET", "00000000-0000-0000-0000-000000000000")
    bad = _memo()
    _bad_status(bad)
    messages = []
    for secrets in (["tok-secret"], []):
        with pytest.raises(RuleViolation) as caught:
            Checks(Redactor(secrets)).status_rules(None, _response(bad), case)  # type: ignore[arg-type]
        messages.append(caught.value.message)
    masked, plain = messages
    assert "tok-secret" not in masked and "access_token=***" in masked and "access_token=tok-secret" in plain


def test_the_checks_are_named_as_schemathesis_reports_them() -> None:
    assert [check.__name__ for check in CHECKS.all()] == [
        "money_rules",
        "status_rules",
        "timestamp_rules",
        "currency_rules",
        "fetched_id",
        "undeclared_method",
        "server_error",
    ]
