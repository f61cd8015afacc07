"""The suite's table of document kinds is read from the contract, and refuses a contract it cannot read."""

from __future__ import annotations

import copy

import pytest

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.contract import component, load_spec
from accounting_conformance.conformance.platforms import supported_platforms


def test_the_table_holds_every_listed_kind_in_the_contracts_order() -> None:
    assert kinds.NAMES == ("invoice_credit_memo", "bill_credit_memo", "invoice", "customer_refund")
    assert kinds.MEMOS == ("invoice_credit_memo", "bill_credit_memo")


def test_a_kind_names_its_path_keys_and_schemas_as_the_contract_does() -> None:
    memo = kinds.get("invoice_credit_memo")
    assert (memo.schema, memo.path, memo.plural) == (
        "InvoiceCreditMemo",
        "/accounting/invoice_credit_memos",
        "invoice_credit_memos",
    )
    assert (memo.create_schema, memo.update_schema) == ("InvoiceCreditMemoCreate", "InvoiceCreditMemoUpdate")
    assert (
        memo.item("m-1") == "/accounting/invoice_credit_memos/m-1"
        and memo.operation("delete") == "deleteInvoiceCreditMemo"
    )
    assert kinds.get("customer_refund").update_schema is None and kinds.get("customer_refund").statuses is None


def test_each_memo_kind_knows_how_its_credit_is_applied_and_reverted() -> None:
    icm, bcm = kinds.application("invoice_credit_memo"), kinds.application("bill_credit_memo")
    assert (icm.path, icm.key, icm.memo_field, icm.links, icm.target) == (
        "/accounting/invoice_credit_applications",
        "invoice_credit_application",
        "invoice_credit_memo_id",
        "linked_invoices",
        "invoice",
    )
    assert (bcm.links, bcm.target, icm.revert) == ("linked_bills", None, None)
    revert = kinds.revert("bill_credit_memo")
    assert (revert.path, revert.key, revert.target_field) == (
        "/accounting/bill_credit_applications/unapply",
        "bill_credit_unapplication",
        "bill_id",
    )


def test_every_operation_the_table_names_is_one_of_the_contracts() -> None:
    named = {kind.operation(verb) for kind in kinds.KINDS for verb in ("create", "get")}
    named |= {kinds.application(m).operation for m in kinds.MEMOS} | {kinds.revert("bill_credit_memo").operation}
    assert named <= set(supported_platforms())


@pytest.mark.parametrize("kind", ["invoice_credit_memo", "bill_credit_memo", "invoice"])
def test_the_stated_statuses_are_values_of_the_kinds_status_enum(kind: str) -> None:
    enum = component(kinds.get(kind).schema)["properties"]["status"]["enum"]
    assert set(kinds.statuses(kind)) <= set(enum)


def test_the_filter_and_sort_fields_are_the_lists_parameters() -> None:
    assert kinds.get("customer_refund").filterable == ("created_at", "updated_at", "last_synced_at")
    assert all(kind.sortable == kind.filterable for kind in kinds.KINDS)


def test_an_unknown_kind_or_one_without_applications_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown kind 'bill'; known: invoice_credit_memo"):
        kinds.get("bill")
    with pytest.raises(ValueError, match="not a memo kind"):
        kinds.application("invoice")
    with pytest.raises(ValueError, match="no revert"):
        kinds.revert("invoice_credit_memo")


def test_a_contract_whose_listed_kind_has_no_envelope_is_refused() -> None:
    spec = copy.deepcopy(load_spec())
    del spec["components"]["schemas"]["InvoiceEnvelope"]
    with pytest.raises(KeyError, match="InvoiceEnvelope"):
        kinds.read_kinds(spec)
