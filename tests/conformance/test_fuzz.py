"""Every operation fuzzed from the contract, with schemathesis' checks and ours."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis

from accounting_conformance.conformance.checks import CheckFunction
from accounting_conformance.conformance.fuzz_stream import fuzzed, session
from accounting_conformance.conformance.platforms import require

pytestmark = pytest.mark.phase("fuzz")


@pytest.mark.rules(
    "SCHEMA-001",
    "SCHEMA-002",
    "SCHEMA-003",
    "SCHEMA-004",
    "AUTH-001",
    "METHOD-001",
    "MONEY-001",
    "MONEY-002",
    "MONEY-003",
    "MONEY-004",
    "MONEY-005",
    "MONEY-006",
    "MONEY-007",
    "MONEY-008",
    "MONEY-009",
    "STATUS-001",
    "STATUS-002",
    "TIME-001",
    "CUR-001",
    "FETCH-001",
)
@fuzzed("api_schema")  # schemathesis.pytest.from_fixture("api_schema").parametrize(), the operations side by side
def test_operation_conforms_to_the_contract(
    case: schemathesis.Case[Any], settings, our_checks: tuple[CheckFunction, ...]
) -> None:  # type: ignore[no-untyped-def]
    require(settings.platform, case.operation.definition.raw["operationId"])
    case.call_and_validate(session=session(), additional_checks=list(our_checks))
