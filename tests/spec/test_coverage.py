"""`make validate` rule (g): every fact of the source pages (tests/spec/source_facts.yaml) is in the spec."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from accounting_conformance.conformance.contract import load_spec
from tests.spec import lint
from tests.spec.coverage import accepted, compare_fields, coverage, load_facts
from tests.spec.report import summary_lines


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    """The transcribed facts (read-only)."""
    return load_facts()


@pytest.fixture
def spec() -> dict[str, Any]:
    """A deep copy of the real spec, free to break."""
    return copy.deepcopy(load_spec())


def props(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["components"]["schemas"][name]["properties"]


def test_every_fact_of_the_source_pages_is_in_the_spec(facts: dict[str, Any]) -> None:
    problems = lint.source_pages_are_covered(load_spec(), facts)
    assert problems == [], "the spec disagrees with the source pages:\n" + "\n".join(problems)


def test_a_dropped_field_the_pages_have_is_reported(spec: dict[str, Any], facts: dict[str, Any]) -> None:
    del props(spec, "InvoiceCreditMemo")["memo"]
    assert "InvoiceCreditMemo.memo: missing from components/schemas/InvoiceCreditMemo" in (
        lint.source_pages_are_covered(spec, facts)
    )


def test_a_response_field_made_nullable_is_reported(spec: dict[str, Any], facts: dict[str, Any]) -> None:
    props(spec, "BillCreditMemo")["total_amount"]["type"] = ["number", "null"]
    assert "BillCreditMemo.total_amount: nullability differs: the page says not nullable, the spec allows null" in (
        lint.source_pages_are_covered(spec, facts)
    )


def test_a_changed_type_is_reported(spec: dict[str, Any], facts: dict[str, Any]) -> None:
    props(spec, "CustomerRefund")["total_amount"] = {"$ref": "#/components/schemas/DecimalString"}
    assert "CustomerRefund.total_amount: type differs: the page says number, the spec accepts string" in (
        lint.source_pages_are_covered(spec, facts)
    )


def test_a_lost_filterable_mark_is_reported(spec: dict[str, Any], facts: dict[str, Any]) -> None:
    del props(spec, "BillCreditMemo")["vendor_id"]["x-filterable"]
    assert any(
        line.startswith("BillCreditMemo.vendor_id: filterability differs")
        for line in lint.source_pages_are_covered(spec, facts)
    )


def test_a_lost_enum_value_is_reported(spec: dict[str, Any], facts: dict[str, Any]) -> None:
    props(spec, "Invoice")["status"]["enum"].remove("submitted")
    assert "Invoice.status: enum values of the page missing from the spec: submitted" in (
        lint.source_pages_are_covered(spec, facts)
    )


def test_an_unmapped_component_is_a_failure_not_a_skip(facts: dict[str, Any]) -> None:
    renamed = copy.deepcopy(facts)
    renamed["components"]["CreditMemoLineInput"] = renamed["components"].pop("CreditMemoLineItemInput")
    problems = lint.source_pages_are_covered(load_spec(), renamed)
    assert (
        "CreditMemoLineInput.total_amount: no component 'CreditMemoLineInput' in the spec (map it in COMPONENT_NAMES)"
        in problems
    )


def test_a_dropped_operation_is_reported(spec: dict[str, Any], facts: dict[str, Any]) -> None:
    del spec["paths"]["/accounting/bill_credit_applications/unapply"]
    assert "operation POST /accounting/bill_credit_applications/unapply: missing from the spec" in (
        lint.source_pages_are_covered(spec, facts)
    )


def test_changed_supported_platforms_are_reported(spec: dict[str, Any], facts: dict[str, Any]) -> None:
    spec["paths"]["/accounting/customer_refunds"]["post"]["x-supported-platforms"] = ["XERO"]
    assert any(
        "POST /accounting/customer_refunds: supported platforms differ" in line
        for line in lint.source_pages_are_covered(spec, facts)
    )


def test_an_amount_input_accepts_a_number_or_a_string_fact() -> None:
    spec = load_spec()
    types, nullable, _ = accepted(spec, {"$ref": "#/components/schemas/AmountInput"})
    assert types == {"number", "string"} and not nullable


def test_one_of_with_a_null_branch_is_nullable() -> None:
    spec = load_spec()
    types, nullable, enum = accepted(spec, {"$ref": "#/components/schemas/NullableCurrencyCodeEnum"})
    assert types == {"string"} and nullable and enum is not None and "USD" in enum


def test_an_unknown_nullability_fact_is_not_compared(spec: dict[str, Any], facts: dict[str, Any]) -> None:
    props(spec, "InvoiceLinkedPayment")["amount"] = {"type": ["string", "null"]}
    assert not [line for line in lint.source_pages_are_covered(spec, facts) if line.startswith("InvoiceLinkedPayment")]


def test_the_report_prints_the_operation_count_and_the_coverage_figure(facts: dict[str, Any]) -> None:
    spec = load_spec()
    covered, total = coverage(compare_fields(spec, facts))
    lines = summary_lines(spec, facts)
    assert lines[0] == "operations: 21"
    assert lines[1] == f"field coverage of the source pages: {100.0 * covered / total:.1f} % ({covered}/{total} fields)"
    assert len(lines) == 2 if covered == total else lines[2] == "uncovered fields:"
