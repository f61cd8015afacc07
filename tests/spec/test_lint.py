"""`make validate`: each lint rule finds nothing in the real spec and catches a deliberately broken copy."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from accounting_conformance.conformance.contract import load_spec
from tests.spec import lint

ICM_ITEM = "/accounting/invoice_credit_memos/{id}"


@pytest.fixture
def spec() -> dict[str, Any]:
    """A deep copy of the real spec, free to break."""
    return copy.deepcopy(load_spec())


def schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["components"]["schemas"][name]


def example(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["components"]["examples"][name]["value"]


# (a) OpenAPI 3.1 meta-schema
def test_the_spec_is_valid_openapi_3_1() -> None:
    assert lint.spec_is_valid_openapi_31(load_spec()) == []


def test_a_spec_without_an_info_title_is_invalid(spec: dict[str, Any]) -> None:
    del spec["info"]["title"]
    assert any("title" in problem for problem in lint.spec_is_valid_openapi_31(spec))


def test_a_dangling_ref_is_reported_not_raised(spec: dict[str, Any]) -> None:
    spec["paths"]["/accounting/invoices"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/Nope"
    }
    assert lint.spec_is_valid_openapi_31(spec) != []


# (b) operationIds and the operation count
def test_operation_ids_are_unique_and_there_are_21_operations() -> None:
    assert lint.operation_ids_are_unique(load_spec()) == []
    assert len(list(lint.operations(load_spec()))) == 21


def test_a_duplicated_operation_id_is_reported(spec: dict[str, Any]) -> None:
    spec["paths"]["/accounting/invoices/{id}"]["get"]["operationId"] = "listInvoices"
    assert lint.operation_ids_are_unique(spec) == [
        "GET /accounting/invoices/{id}: operationId 'listInvoices' already used by GET /accounting/invoices"
    ]


def test_a_removed_operation_breaks_the_count(spec: dict[str, Any]) -> None:
    del spec["paths"]["/jobs/{id}"]
    assert lint.operation_ids_are_unique(spec) == ["20 operations, expected 21"]


# (c) error responses
def test_every_operation_documents_its_error_responses() -> None:
    assert lint.error_responses_are_documented(load_spec()) == []


def test_a_dropped_400_is_reported(spec: dict[str, Any]) -> None:
    del spec["paths"]["/accounting/customer_refunds"]["get"]["responses"]["400"]
    assert lint.error_responses_are_documented(spec) == ["listCustomerRefunds: no 400 response"]


def test_a_dropped_410_on_an_id_path_is_reported(spec: dict[str, Any]) -> None:
    del spec["paths"]["/jobs/{id}"]["get"]["responses"]["410"]
    assert lint.error_responses_are_documented(spec) == ["getJob: no 410 response"]


def test_a_dropped_409_on_an_idempotent_write_is_reported(spec: dict[str, Any]) -> None:
    del spec["paths"][ICM_ITEM]["patch"]["responses"]["409"]
    assert lint.error_responses_are_documented(spec) == ["updateInvoiceCreditMemo: no 409 response"]


# (d) examples against their schemas
def test_every_example_matches_its_schema() -> None:
    assert lint.examples_match_their_schemas(load_spec()) == []


def test_a_broken_component_example_is_reported(spec: dict[str, Any]) -> None:
    example(spec, "InvoiceExample")["invoice"]["status"] = "settled"
    problems = lint.examples_match_their_schemas(spec)
    assert problems and all("InvoiceExample/value" in p and "settled" in p for p in problems)


def test_a_broken_request_example_is_reported(spec: dict[str, Any]) -> None:
    body = spec["paths"]["/accounting/invoice_credit_applications"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    body["example"]["invoice_credit_application"]["linked_invoices"][0]["allocated_amount"] = 0
    assert any("linked_invoices/0/allocated_amount" in p for p in lint.examples_match_their_schemas(spec))


def test_an_impossible_date_is_caught_by_format_checking(spec: dict[str, Any]) -> None:
    example(spec, "BillCreditMemoExample")["bill_credit_memo"]["issue_date"] = "2023-02-30T00:00:00Z"
    assert any("date-time" in p for p in lint.examples_match_their_schemas(spec))


def test_a_broken_parameter_example_is_reported(spec: dict[str, Any]) -> None:
    spec["components"]["parameters"]["FilterInvoices"]["examples"]["equality"]["value"] = "total_amount>3"
    assert any("FilterInvoices/examples/equality" in p for p in lint.examples_match_their_schemas(spec))


def test_an_example_matching_no_branch_of_a_one_of_is_reported(spec: dict[str, Any]) -> None:
    media = spec["paths"][ICM_ITEM]["delete"]["responses"]["200"]["content"]["application/json"]
    media["example"] = {"code": "deleted", "success": "yes"}
    assert any("oneOf" in p for p in lint.examples_match_their_schemas(spec))


# (e) amount rules in the response examples
def test_every_response_example_keeps_the_amount_rules() -> None:
    assert lint.response_examples_keep_the_amount_rules(load_spec()) == []


def test_an_example_whose_amounts_do_not_add_up_is_reported(spec: dict[str, Any]) -> None:
    example(spec, "InvoiceFetchExample")["invoice"]["amount_due"] = "10"
    problems = lint.response_examples_keep_the_amount_rules(spec)
    assert problems == [
        "/components/examples/InvoiceFetchExample/value: Invoice.amount_due: MONEY-005: "
        "expected amount_due = 14.34 - 5 = 9.34, received amount_due = 10"
    ]


def test_the_page_example_of_a_paid_memo_with_credit_remaining_is_reported(spec: dict[str, Any]) -> None:
    example(spec, "BillCreditMemoListExample")["bill_credit_memos"][0]["remaining_amount"] = 3
    rules = {p.split(": ")[2] for p in lint.response_examples_keep_the_amount_rules(spec)}
    assert rules == {"MONEY-003", "STATUS-001"}


# (f) filterable fields
def test_filterable_fields_agree_with_the_filter_and_sort_parameters() -> None:
    assert lint.filterable_fields_agree(load_spec()) == []


def test_a_non_existent_field_listed_as_filterable_is_reported(spec: dict[str, Any]) -> None:
    spec["components"]["parameters"]["FilterInvoices"]["x-filterable-fields"].append("colour")
    problems = lint.filterable_fields_agree(spec)
    assert "listInvoices filter x-filterable-fields: colour is not a field of Invoice" in problems


def test_an_unmarked_filterable_field_is_reported(spec: dict[str, Any]) -> None:
    del schema(spec, "CustomerRefund")["properties"]["created_at"]["x-filterable"]
    assert lint.filterable_fields_agree(spec) == [
        "listCustomerRefunds filter x-filterable-fields: lists created_at but CustomerRefund.created_at is not x-filterable",
        "listCustomerRefunds sort x-sortable-fields: lists created_at but CustomerRefund.created_at is not x-filterable",
    ]


def test_a_sort_list_that_lacks_a_field_is_reported(spec: dict[str, Any]) -> None:
    spec["components"]["parameters"]["SortBillCreditMemos"]["x-sortable-fields"].remove("vendor_id")
    assert lint.filterable_fields_agree(spec) == [
        "listBillCreditMemos sort x-sortable-fields: lacks vendor_id, which BillCreditMemo marks x-filterable"
    ]


def test_a_field_missing_from_the_filter_description_is_reported(spec: dict[str, Any]) -> None:
    param = spec["components"]["parameters"]["FilterInvoiceCreditMemos"]
    param["description"] = param["description"].replace("customer_id", "the customer")
    assert lint.filterable_fields_agree(spec) == [
        "listInvoiceCreditMemos filter x-filterable-fields: customer_id does not appear in the filter description"
    ]


def test_a_filterable_field_on_an_unlisted_object_is_reported(spec: dict[str, Any]) -> None:
    schema(spec, "Connection")["properties"]["platform"]["x-filterable"] = True
    assert lint.filterable_fields_agree(spec) == [
        "Connection.platform is x-filterable but no list operation filters Connection"
    ]
