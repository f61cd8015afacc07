"""One function per operation of the contract: typed inputs in, (status, body) out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounting_conformance.reference_server import money, records
from accounting_conformance.reference_server.errors import not_found
from accounting_conformance.reference_server.faults import Fault, Faults
from accounting_conformance.reference_server.render import render
from accounting_conformance.reference_server.resources import BILL_CREDIT, ENDPOINTS, INVOICE_CREDIT, JOB, Document
from accounting_conformance.reference_server.service import Service


@dataclass(frozen=True)
class Call:
    """A validated request."""

    operation_id: str
    path: dict[str, str]
    params: dict[str, Any]
    body: dict[str, Any]
    connection: dict[str, str]
    template: str


Handler = Callable[[Service, Call], tuple[int, Any]]


def _expand(call: Call, faults: Faults) -> bool:
    if Fault.EXPAND_IGNORED in faults:
        return False
    return call.params.get("expand") == "platform_data"


def lister(resource: Document) -> Handler:
    """GET /accounting/<plural>"""

    def run(service: Service, call: Call) -> tuple[int, Any]:
        keys = ("cursor", "limit", "filter", "sort", "updated_at_min", "updated_at_max", "last_synced_at_min")
        page = service.list(resource, {k: None if call.params.get(k) is None else str(call.params[k]) for k in keys})
        faults = service.faults
        key = "data" if Fault.LIST_ENVELOPE_DATA in faults else resource.plural
        listed = _expand(call, faults) and Fault.EXPAND_IGNORED_ON_LISTS not in faults
        body: dict[str, Any] = {
            key: [render(resource, d, expand=listed, faults=faults) for d in page.items],
            "next_cursor": page.next_cursor,
            "connection": call.connection,
        }
        return 200, body

    return run


def fetcher(resource: Document) -> Handler:
    """GET /accounting/<plural>/{id}"""

    def run(service: Service, call: Call) -> tuple[int, Any]:
        faults = service.faults
        if Fault.FETCH_CACHED_BY_ROUTE in faults and call.template in service.fetched:
            return service.fetched[call.template]  # the cache key should have been the URL, not the template
        by_platform_id = call.params.get("id_type") == "platform" and Fault.ID_TYPE_IGNORED not in faults
        doc = service.get(resource, call.path["id"], by_platform_id=by_platform_id)
        answer = (
            200,
            {
                resource.kind: render(resource, doc, expand=_expand(call, faults), faults=faults),
                "connection": call.connection,
            },
        )
        if Fault.FETCH_CACHED_BY_ROUTE in faults:
            service.fetched[call.template] = answer
        return answer

    return run


def creator(resource: Document) -> Handler:
    """POST /accounting/<plural>"""

    def run(service: Service, call: Call) -> tuple[int, Any]:
        status = 201 if Fault.CREATE_ANSWERS_201 in service.faults else 200
        created = service.create(resource, call.body[resource.kind])
        return status, {resource.kind: render(resource, created, faults=service.faults)}

    return run


def updater(resource: Document) -> Handler:
    """PATCH /accounting/<plural>/{id}"""

    def run(service: Service, call: Call) -> tuple[int, Any]:
        updated = service.update(resource, call.path["id"], call.body[resource.kind])
        return 200, {resource.kind: render(resource, updated, faults=service.faults)}

    return run


def deleter(resource: Document) -> Handler:
    """DELETE /accounting/<plural>/{id}"""

    def run(service: Service, call: Call) -> tuple[int, Any]:
        service.delete(resource, call.path["id"])
        return 200, {"code": "deleted", "success": True}

    return run


def apply_invoice_credit(service: Service, call: Call) -> tuple[int, Any]:
    """POST /accounting/invoice_credit_applications"""
    service.apply_invoice_credit(call.body[INVOICE_CREDIT.kind])
    return 200, {INVOICE_CREDIT.kind: {"success": True}}


def apply_bill_credit(service: Service, call: Call) -> tuple[int, Any]:
    """POST /accounting/bill_credit_applications"""
    service.apply_bill_credit(call.body[BILL_CREDIT.kind])
    return 200, {BILL_CREDIT.kind: {"success": True}}


def revert_bill_credit(service: Service, call: Call) -> tuple[int, Any]:
    """POST /accounting/bill_credit_applications/unapply"""
    envelope = BILL_CREDIT.revert
    assert envelope is not None
    return 200, {envelope: service.revert_bill_credit(call.body[envelope])}


def get_job(service: Service, call: Call) -> tuple[int, Any]:
    """GET /jobs/{id}"""
    with service.db.read() as conn:
        job = records.get_job(conn, call.path["id"])
    if job is None:
        raise not_found(JOB.word, call.path["id"])
    # Bodies are stored as their exact JSON text, so numbers stay numbers and amounts stay exact.
    request = job["request"]
    request["body"] = money.loads(request.pop("body_json"))
    if "response" in job:
        job["response"]["body"] = money.loads(job["response"].pop("body_json"))
    return 200, job


_DOCUMENT_HANDLERS: dict[str, Callable[[Document], Handler]] = {
    "list": lister,
    "create": creator,
    "get": fetcher,
    "update": updater,
    "delete": deleter,
}
_OTHER_HANDLERS: dict[str, Handler] = {
    INVOICE_CREDIT.operation_id("create"): apply_invoice_credit,
    BILL_CREDIT.operation_id("create"): apply_bill_credit,
    BILL_CREDIT.operation_id("revert"): revert_bill_credit,
    JOB.operation_id("get"): get_job,
}
#: operationId -> its handler, for every operation of the resource table.
HANDLERS: dict[str, Handler] = {
    operation_id: _DOCUMENT_HANDLERS[endpoint.verb](endpoint.resource)
    if isinstance(endpoint.resource, Document)
    else _OTHER_HANDLERS[operation_id]
    for operation_id, endpoint in ENDPOINTS.items()
}
