"""The contract check on every response the suite's own tests accept (conformance/responses.py)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from accounting_conformance.conformance.client import Exchange
from accounting_conformance.conformance.contract import component
from accounting_conformance.conformance.failures import RuleViolation
from accounting_conformance.conformance.redact import Redactor
from accounting_conformance.conformance.resources import contract_path
from accounting_conformance.conformance.responses import ResponseContract

BASE = "http://target.test/versioned"
ERROR = {"error_type": "INVALID_REQUEST", "error_code": "NOT_FOUND", "error_message": "no such memo"}


@pytest.fixture(scope="module")
def contract() -> ResponseContract:
    return ResponseContract(schemathesis.openapi.from_path(contract_path(), config=SchemathesisConfig()))


def exchange(
    status: int,
    body: Any,
    path: str = "/accounting/invoice_credit_memos/abc",
    *,
    method: str = "GET",
    content_type: str = "application/json",
) -> Exchange:
    return Exchange(
        method,
        f"{BASE}{path}?access_token=secret-token",
        {},
        None,
        status,
        {"content-type": content_type, "x-rutter-request-id": "r1"},
        json.dumps(body),
    )


CLIENT = SimpleNamespace(base=BASE, redactor=Redactor(["secret-token"]))


def test_a_documented_error_body_passes(contract: ResponseContract) -> None:
    contract.check(CLIENT, exchange(404, ERROR))  # type: ignore[arg-type]


def test_an_error_body_of_another_shape_is_a_schema_violation(contract: ResponseContract) -> None:
    with pytest.raises(RuleViolation) as caught:
        contract.check(CLIENT, exchange(404, {"error": "not found", "code": 404}))  # type: ignore[arg-type]
    text = str(caught.value)
    assert "SCHEMA-001" in text and "GET /accounting/invoice_credit_memos/{id}" in text and "error_type" in text
    assert "secret-token" not in text and "access_token=***" in text


def test_the_contracts_own_example_passes_and_a_numeric_amount_in_it_does_not(contract: ResponseContract) -> None:
    example = component("InvoiceCreditMemoFetchExample", "examples")["value"]
    contract.check(CLIENT, exchange(200, example))  # type: ignore[arg-type]
    broken = {"invoice_credit_memo": {**example["invoice_credit_memo"], "total_amount": 3}}
    with pytest.raises(RuleViolation):
        contract.check(CLIENT, exchange(200, broken))  # type: ignore[arg-type]


def test_a_path_outside_the_contract_is_left_to_the_test_that_asked(contract: ResponseContract) -> None:
    contract.check(CLIENT, exchange(404, "nope", "/not/in/the/contract"))  # type: ignore[arg-type]


def test_a_body_that_arrived_gzipped_is_validated_as_the_decoded_text(contract: ResponseContract) -> None:
    gzipped = exchange(404, ERROR)
    gzipped.headers.update({"content-encoding": "gzip", "content-length": "31", "transfer-encoding": "chunked"})
    contract.check(CLIENT, gzipped)  # type: ignore[arg-type]


def test_the_client_takes_its_contract_check_and_does_not_import_it() -> None:
    import subprocess
    import sys

    code = (
        "import sys, accounting_conformance.conformance.client as c; "
        "print('accounting_conformance.conformance.responses' in sys.modules)"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )
