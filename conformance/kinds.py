"""The API's document kinds, one table for the suite, read from the contract.

A kind is named by the key of its single-object envelope (`invoice_credit_memo`): that is the one spelling
of a kind anywhere in the suite. The contract gives everything else: each list operation `list<Schema>s`
names a kind's collection path, its page key (the array of `<Schema>List`), its schema and, through
`<Schema>Envelope`, its envelope key; `update<Schema>` its update schema; `create<Credit>Application` and
`revert<Credit>Application` how a memo kind's credit is applied and reverted. Only what the contract says in
prose is stated here: the three statuses a document's amounts imply (its status `description`s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accounting_conformance.conformance.contract import load_spec, resolve

__all__ = ["Application", "KINDS", "Kind", "MEMOS", "NAMES", "Revert", "application", "get", "revert", "statuses"]

#: kind -> the status when nothing is applied (paid), when part is, and when all is: the adopted values of each
#: status `description` ("OPEN (nothing applied), PARTIALLY_APPLIED, APPLIED (nothing remaining)").
_STATUSES: dict[str, tuple[str, str, str]] = {
    "invoice_credit_memo": ("OPEN", "PARTIALLY_APPLIED", "APPLIED"),
    "bill_credit_memo": ("open", "partially_paid", "paid"),
    "invoice": ("open", "partially_paid", "paid"),
}


@dataclass(frozen=True)
class Revert:
    """How an application is reverted: the operation, its path, the body's key and the target's id field."""

    operation: str  # revertBillCreditApplication
    path: str  # /accounting/bill_credit_applications/unapply
    key: str  # bill_credit_unapplication
    target_field: str  # bill_id


@dataclass(frozen=True)
class Application:
    """How a memo kind's credit is applied: the operation, its path, the body's key, the memo id field and links."""

    operation: str  # createInvoiceCreditApplication
    path: str  # /accounting/invoice_credit_applications
    key: str  # invoice_credit_application
    memo_field: str  # invoice_credit_memo_id
    links: str  # linked_invoices: on the request and on the memo
    target: str | None  # the kind the links point at (invoice), None for documents the suite does not create (bills)
    revert: Revert | None  # where the contract lets an application be reverted


@dataclass(frozen=True)
class Kind:
    """One document kind: its names in the contract, where it lives and, for memos, how its credit is applied."""

    name: str  # invoice_credit_memo: the envelope key
    schema: str  # InvoiceCreditMemo
    path: str  # /accounting/invoice_credit_memos
    plural: str  # invoice_credit_memos: the page key
    filterable: tuple[str, ...]  # the list's `filter` fields (x-filterable-fields), in the contract's order
    sortable: tuple[str, ...]  # the list's `sort` fields (x-sortable-fields)
    create_schema: str | None  # InvoiceCreditMemoCreate
    update_schema: str | None  # InvoiceCreditMemoUpdate, None when the contract has no update
    statuses: tuple[str, str, str] | None  # see _STATUSES
    application: Application | None

    def operation(self, verb: str) -> str:
        """The contract's operationId for a verb on this kind: create -> createInvoiceCreditMemo."""
        return f"{verb}{self.schema}"

    def item(self, object_id: str) -> str:
        """The path of one object of this kind."""
        return f"{self.path}/{object_id}"


class _Contract:
    """The contract's operations by operationId, and the schemas behind their bodies."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.schemas: dict[str, Any] = spec["components"]["schemas"]
        self.operations: dict[str, tuple[str, str, dict[str, Any]]] = {
            op["operationId"]: (path, method, op)
            for path, item in spec["paths"].items()
            for method, op in item.items()
            if isinstance(op, dict) and "operationId" in op
        }

    def ref_name(self, node: Any) -> str:
        """The component name a `{$ref: #/components/schemas/X}` node names."""
        if not isinstance(node, dict) or not str(node.get("$ref", "")).startswith("#/components/schemas/"):
            raise ValueError(f"expected a $ref to a schema, found {node!r}")
        return str(node["$ref"]).rsplit("/", 1)[-1]

    def body(self, operation_id: str) -> tuple[str, str]:
        """(envelope key, schema name) of an operation's request body `{key: {$ref: Schema}}`."""
        node = self.operations[operation_id][2]["requestBody"]["content"]["application/json"]["schema"]
        envelope = resolve(self.spec, node)
        (key,) = [k for k in envelope.get("required", []) if k in envelope["properties"]]
        return key, self.ref_name(envelope["properties"][key])

    def listed(self, operation_id: str) -> tuple[str, str]:
        """(page key, item schema name) of a list operation's 200 response."""
        node = self.operations[operation_id][2]["responses"]["200"]["content"]["application/json"]["schema"]
        page = resolve(self.spec, node)
        (key,) = [k for k, v in page["properties"].items() if v.get("type") == "array"]
        return key, self.ref_name(page["properties"][key]["items"])

    def list_fields(self, operation_id: str, name: str, extension: str) -> tuple[str, ...]:
        """The fields a list operation's query parameter `name` lists under `extension` (empty without one)."""
        for node in self.operations[operation_id][2].get("parameters", []):
            parameter = resolve(self.spec, node)
            if parameter.get("name") == name:
                return tuple(parameter.get(extension, ()))
        return ()

    def envelope_key(self, schema: str) -> str:
        """The key under which `<schema>Envelope` carries one object."""
        envelope = self.schemas[f"{schema}Envelope"]["properties"]
        (key,) = [str(k) for k, v in envelope.items() if v.get("$ref") == f"#/components/schemas/{schema}"]
        return key


def _application(contract: _Contract, schema: str, name: str, plurals: dict[str, str]) -> Application | None:
    """A memo kind's application, when the contract has `create<Credit>Application` for it."""
    credit = schema.removesuffix("Memo")
    operation, revert = f"create{credit}Application", f"revert{credit}Application"
    if schema == credit or operation not in contract.operations:
        return None
    key, create = contract.body(operation)
    fields = contract.schemas[create]
    if f"{name}_id" not in fields.get("required", []):
        raise ValueError(f"{create} does not require {name}_id")
    (links,) = [f for f in fields["required"] if fields["properties"][f].get("type") == "array"]
    return Application(
        operation=operation,
        path=contract.operations[operation][0],
        key=key,
        memo_field=f"{name}_id",
        links=links,
        target=plurals.get(links.removeprefix("linked_")),
        revert=_revert(contract, revert, f"{name}_id") if revert in contract.operations else None,
    )


def _revert(contract: _Contract, operation: str, memo_field: str) -> Revert:
    """The revert operation of an application: `{key: {<memo>_id, <target>_id}}`."""
    key, schema = contract.body(operation)
    (target,) = [f for f in contract.schemas[schema].get("required", []) if f != memo_field]
    return Revert(operation=operation, path=contract.operations[operation][0], key=key, target_field=target)


def read_kinds(spec: dict[str, Any]) -> tuple[Kind, ...]:
    """Every kind the contract lists (`list<Schema>s`), in the contract's order; ValueError when a part is missing."""
    contract = _Contract(spec)
    listed = [
        (op_id, path)
        for op_id, (path, method, _) in contract.operations.items()
        if method == "get" and op_id.startswith("list")
    ]
    pages = {op_id: contract.listed(op_id) for op_id, _ in listed}
    plurals = {plural: contract.envelope_key(schema) for plural, schema in pages.values()}
    found = []
    for op_id, path in listed:
        plural, schema = pages[op_id]
        name = plurals[plural]
        create, update = f"create{schema}", f"update{schema}"
        found.append(
            Kind(
                name=name,
                schema=schema,
                path=path,
                plural=plural,
                filterable=contract.list_fields(op_id, "filter", "x-filterable-fields"),
                sortable=contract.list_fields(op_id, "sort", "x-sortable-fields"),
                create_schema=contract.body(create)[1] if create in contract.operations else None,
                update_schema=contract.body(update)[1] if update in contract.operations else None,
                statuses=_STATUSES.get(name),
                application=_application(contract, schema, name, plurals),
            )
        )
    return tuple(found)


KINDS: tuple[Kind, ...] = read_kinds(load_spec())
NAMES: tuple[str, ...] = tuple(kind.name for kind in KINDS)
#: The kinds whose credit is applied (the credit memos).
MEMOS: tuple[str, ...] = tuple(kind.name for kind in KINDS if kind.application is not None)
_BY_NAME = {kind.name: kind for kind in KINDS}


def get(name: str) -> Kind:
    """The kind of this name, failing loudly on an unknown one."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown kind {name!r}; known: {', '.join(NAMES)}") from None


def statuses(name: str) -> tuple[str, str, str]:
    """A kind's statuses when nothing, part and all is applied (paid); ValueError for a kind without them."""
    found = get(name).statuses
    if found is None:
        raise ValueError(f"a {name} has no status that follows its amounts")
    return found


def application(name: str) -> Application:
    """How a memo kind's credit is applied; ValueError for a kind whose credit is not applied."""
    found = get(name).application
    if found is None:
        raise ValueError(f"a {name} is not a memo kind: nothing of it is applied")
    return found


def revert(name: str) -> Revert:
    """How a memo kind's application is reverted; ValueError where the contract has no revert."""
    found = application(name).revert
    if found is None:
        raise ValueError(f"the contract has no revert of a {name}'s application")
    return found
