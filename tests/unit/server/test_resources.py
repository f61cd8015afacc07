"""The server's resource table: its spellings, checked against the contract, and the only place that states them."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accounting_conformance.reference_server import resources
from accounting_conformance.reference_server.handlers import HANDLERS
from accounting_conformance.reference_server.resources import (
    APPLICATIONS,
    BILL_CREDIT,
    CUSTOMER_REFUND,
    DOCUMENTS,
    ENDPOINTS,
    INVOICE,
    INVOICE_CREDIT_MEMO,
    JOB,
    Document,
)
from accounting_conformance.reference_server.validation import Contract

SERVER = Path(resources.__file__).parent
SPEC: dict[str, Any] = Contract().spec
#: How the contract routes each verb (the suffix after the kind's path); the server itself routes by the contract.
ROUTES = {
    "list": ("GET", ""),
    "create": ("POST", ""),
    "get": ("GET", "/{id}"),
    "update": ("PATCH", "/{id}"),
    "delete": ("DELETE", "/{id}"),
    "revert": ("POST", "/unapply"),
}


def resolve_ref(node: Any) -> Any:
    """`node` with its $ref chain followed to the end."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """Every (operationId, METHOD, path template, operation) of the contract."""
    for template, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "patch", "delete", "put"):
                yield operation["operationId"], method.upper(), template, operation


OPERATIONS = {operation_id: operation for operation_id, _, _, operation in operations()}


def properties(schema: Any) -> dict[str, Any]:
    """The properties of an object schema, across its oneOf / anyOf / allOf branches."""
    schema = resolve_ref(schema)
    found = dict(schema.get("properties", {}))
    for key in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(key, []):
            found.update(properties(branch))
    return found


def answer(operation_id: str) -> dict[str, Any]:
    """The properties of the 200 answer of an operation."""
    response = resolve_ref(OPERATIONS[operation_id]["responses"]["200"])
    return properties(response["content"]["application/json"]["schema"])


def request(operation_id: str) -> dict[str, Any]:
    """The properties of the request body of an operation."""
    body = resolve_ref(OPERATIONS[operation_id]["requestBody"])
    return properties(body["content"]["application/json"]["schema"])


def document_schema(resource: Document) -> dict[str, Any]:
    """The schema of one document, as its fetch answers it."""
    return properties(answer(resource.operation_id("get"))[resource.kind])


def types(schema: Any) -> set[str]:
    """The JSON types a (possibly nullable) schema allows."""
    schema = resolve_ref(schema)
    declared = schema.get("type", [])
    found = {declared} if isinstance(declared, str) else set(declared)
    for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
        found |= types(branch)
    return found


def test_the_table_names_exactly_the_operations_of_the_contract() -> None:
    ours = {
        operation_id: (ROUTES[endpoint.verb][0], endpoint.resource.path + ROUTES[endpoint.verb][1])
        for operation_id, endpoint in ENDPOINTS.items()
    }
    contract = {operation_id: (method, template) for operation_id, method, template, _ in operations()}
    assert ours == contract


def test_every_operation_of_the_table_has_a_handler() -> None:
    assert set(HANDLERS) == set(ENDPOINTS)


def test_spellings_follow_from_the_one_spelling_of_a_kind() -> None:
    assert (
        INVOICE_CREDIT_MEMO.plural,
        INVOICE_CREDIT_MEMO.table,
        INVOICE_CREDIT_MEMO.path,
        INVOICE_CREDIT_MEMO.word,
    ) == ("invoice_credit_memos", "invoice_credit_memos", "/accounting/invoice_credit_memos", "invoice credit memo")
    assert [INVOICE_CREDIT_MEMO.operation_id(verb) for verb in ("list", "get")] == [
        "listInvoiceCreditMemos",
        "getInvoiceCreditMemo",
    ]
    assert (CUSTOMER_REFUND.party, BILL_CREDIT.memo_id, JOB.path, JOB.table) == (
        "customer_id",
        "bill_credit_memo_id",
        "/jobs",
        "jobs",
    )


@pytest.mark.parametrize("resource", DOCUMENTS, ids=lambda r: r.kind)
def test_a_document_is_enveloped_by_its_kind_and_listed_under_its_plural(resource: Document) -> None:
    assert "array" in types(answer(resource.operation_id("list"))[resource.plural])
    assert resource.kind in answer(resource.operation_id("get"))
    for verb in ("create", "update"):
        if verb in resource.verbs:
            assert resource.kind in request(resource.operation_id(verb))
            assert resource.kind in answer(resource.operation_id(verb))


@pytest.mark.parametrize("application", APPLICATIONS, ids=lambda a: a.kind)
def test_an_application_is_enveloped_by_its_kind_and_names_its_memo(application: resources.Application) -> None:
    body = request(application.operation_id("create"))
    assert application.kind in answer(application.operation_id("create"))
    shares = application.memo.settled()
    assert {application.memo_id, shares.links} <= set(properties(body[application.kind]))
    assert shares.amount in properties(properties(body[application.kind])[shares.links]["items"])
    if application.revert is not None:
        assert application.revert in request(application.operation_id("revert"))
        assert application.revert in answer(application.operation_id("revert"))


@pytest.mark.parametrize("resource", DOCUMENTS, ids=lambda r: r.kind)
def test_filterable_and_sortable_fields_are_the_contract_s_in_its_order(resource: Document) -> None:
    parameters = [resolve_ref(p) for p in OPERATIONS[resource.operation_id("list")]["parameters"]]
    by_name = {p["name"]: p for p in parameters}
    assert by_name["filter"]["x-filterable-fields"] == list(resource.fields)
    assert by_name["sort"]["x-sortable-fields"] == list(resource.fields)
    schema = document_schema(resource)
    for name, field in resource.fields.items():
        instant = resolve_ref(schema[name]).get("pattern", "").startswith("^[0-9]{4}-[0-9]{2}-[0-9]{2}")
        assert "string" in types(schema[name]) and instant == (field.kind == "instant"), name


@pytest.mark.parametrize("resource", DOCUMENTS, ids=lambda r: r.kind)
def test_amounts_are_json_numbers_exactly_on_numeric_kinds(resource: Document) -> None:
    schema = document_schema(resource)
    wanted = "number" if resource.numeric else "string"
    for field in resource.amounts:
        assert wanted in types(schema[field]) and ({"number", "string"} - {wanted}).isdisjoint(types(schema[field])), (
            field
        )
    if resource.balance is not None:
        link = properties(schema[resource.balance.links]["items"])
        assert wanted in types(link[resource.balance.amount])


@pytest.mark.parametrize("resource", DOCUMENTS, ids=lambda r: r.kind)
def test_party_and_balance_are_fields_of_the_document(resource: Document) -> None:
    schema = document_schema(resource)
    assert resource.party in schema
    if resource.balance is not None:
        assert {resource.balance.links, resource.balance.open_field} <= set(schema)
        assert "array" in types(schema[resource.balance.links])


def test_only_memos_and_invoices_carry_a_balance() -> None:
    assert [r.kind for r in DOCUMENTS if r.balance is not None] == [
        "invoice_credit_memo",
        "bill_credit_memo",
        "invoice",
    ]
    with pytest.raises(ValueError, match="customer refund"):
        CUSTOMER_REFUND.settled()
    assert INVOICE.settled().open_field == "amount_due"


# Modules that do not read the table: the variation proxy sits in front of the server and is kept apart;
# ledger is the rule layer below the table (the table holds its status rules) and names a side's targets itself.
NOT_READERS = {"resources.py", "ledger.py"}
SPELLINGS = {
    spelling
    for r in (*DOCUMENTS, *APPLICATIONS, JOB)
    for spelling in (r.kind, r.plural, *(r.operation_id(v) for v in r.verbs))
} | {BILL_CREDIT.revert}
SQL_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE|EXISTS)\s+(" + "|".join(r.table for r in (*DOCUMENTS, JOB)) + r")\b")
PATH = re.compile(r"/(" + "|".join(r.plural for r in (*DOCUMENTS, *APPLICATIONS, JOB)) + r")\b")


def spelled_kinds(path: Path) -> list[str]:
    """The string literals of a module (docstrings aside) that spell a kind, a path, a table or an operationId."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        f"{path.name}:{node.lineno} {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and (node.value in SPELLINGS or SQL_TABLE.search(node.value) or PATH.search(node.value))
    ]


def test_no_server_module_but_the_table_spells_a_kind() -> None:
    modules = [
        p for p in sorted(SERVER.glob("*.py")) if p.name not in NOT_READERS and not p.name.startswith("variations")
    ]
    assert len(modules) > 10
    assert [hit for module in modules for hit in spelled_kinds(module)] == []
