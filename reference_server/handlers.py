"""One function per operation of the contract: typed inputs in, (status, body) out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from accounting_conformance.reference_server import money, records
from accounting_conformance.reference_server.errors import not_found
from accounting_conformance.reference_server.faults import Fault, Faults
from accounting_conformance.reference_server.render import render
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
PLURAL = {"invoice_credit_memo": "invoice_credit_memos", "bill_credit_memo": "bill_credit_memos",
          "invoice": "invoices", "customer_refund": "customer_refunds"}


def _expand(call: Call, faults: Faults) -> bool:
    if Fault.EXPAND_IGNORED in faults:
        return False
    return call.params.get("expand") == "platform_data"


def lister(kind: str) -> Handler:
    """GET /accounting/<kind>s"""
    def run(service: Service, call: Call) -> tuple[int, Any]:
        keys = ("cursor", "limit", "filter", "sort", "updated_at_min", "updated_at_max", "last_synced_at_min")
        page = service.list(kind, {k: None if call.params.get(k) is None else str(call.params[k]) for k in keys})
        faults = service.faults
        key = "data" if Fault.LIST_ENVELOPE_DATA in faults else PLURAL[kind]
        listed = _expand(call, faults) and Fault.EXPAND_IGNORED_ON_LISTS not in faults
        body: dict[str, Any] = {key: [render(kind, d, expand=listed, faults=faults) for d in page.items],
                                "next_cursor": page.next_cursor, "connection": call.connection}
        return 200, body
    return run


def fetcher(kind: str) -> Handler:
    """GET /accounting/<kind>s/{id}"""
    def run(service: Service, call: Call) -> tuple[int, Any]:
        faults = service.faults
        if Fault.FETCH_CACHED_BY_ROUTE in faults and call.template in service.fetched:
            return service.fetched[call.template]  # the cache key should have been the URL, not the template
        by_platform_id = call.params.get("id_type") == "platform" and Fault.ID_TYPE_IGNORED not in faults
        doc = service.get(kind, call.path["id"], by_platform_id=by_platform_id)
        answer = 200, {kind: render(kind, doc, expand=_expand(call, faults), faults=faults), "connection": call.connection}
        if Fault.FETCH_CACHED_BY_ROUTE in faults:
            service.fetched[call.template] = answer
        return answer
    return run


def creator(kind: str) -> Handler:
    """POST /accounting/<kind>s"""
    def run(service: Service, call: Call) -> tuple[int, Any]:
        status = 201 if Fault.CREATE_ANSWERS_201 in service.faults else 200
        return status, {kind: render(kind, service.create(kind, call.body[kind]), faults=service.faults)}
    return run


def updater(kind: str) -> Handler:
    """PATCH /accounting/<kind>s/{id}"""
    def run(service: Service, call: Call) -> tuple[int, Any]:
        return 200, {kind: render(kind, service.update(kind, call.path["id"], call.body[kind]), faults=service.faults)}
    return run


def deleter(kind: str) -> Handler:
    """DELETE /accounting/<kind>s/{id}"""
    def run(service: Service, call: Call) -> tuple[int, Any]:
        service.delete(kind, call.path["id"])
        return 200, {"code": "deleted", "success": True}
    return run


def apply_invoice_credit(service: Service, call: Call) -> tuple[int, Any]:
    """POST /accounting/invoice_credit_applications"""
    service.apply_invoice_credit(call.body["invoice_credit_application"])
    return 200, {"invoice_credit_application": {"success": True}}


def apply_bill_credit(service: Service, call: Call) -> tuple[int, Any]:
    """POST /accounting/bill_credit_applications"""
    service.apply_bill_credit(call.body["bill_credit_application"])
    return 200, {"bill_credit_application": {"success": True}}


def revert_bill_credit(service: Service, call: Call) -> tuple[int, Any]:
    """POST /accounting/bill_credit_applications/unapply"""
    return 200, {"bill_credit_unapplication": service.revert_bill_credit(call.body["bill_credit_unapplication"])}


def get_job(service: Service, call: Call) -> tuple[int, Any]:
    """GET /jobs/{id}"""
    with service.db.read() as conn:
        job = records.get_job(conn, call.path["id"])
    if job is None:
        raise not_found("job", call.path["id"])
    # Bodies are stored as their exact JSON text, so numbers stay numbers and amounts stay exact.
    request = job["request"]
    request["body"] = money.loads(request.pop("body_json"))
    if "response" in job:
        job["response"]["body"] = money.loads(job["response"].pop("body_json"))
    return 200, job


HANDLERS: dict[str, Handler] = {
    "listInvoiceCreditMemos": lister("invoice_credit_memo"), "createInvoiceCreditMemo": creator("invoice_credit_memo"),
    "getInvoiceCreditMemo": fetcher("invoice_credit_memo"), "updateInvoiceCreditMemo": updater("invoice_credit_memo"),
    "deleteInvoiceCreditMemo": deleter("invoice_credit_memo"), "createInvoiceCreditApplication": apply_invoice_credit,
    "listBillCreditMemos": lister("bill_credit_memo"), "createBillCreditMemo": creator("bill_credit_memo"),
    "getBillCreditMemo": fetcher("bill_credit_memo"), "updateBillCreditMemo": updater("bill_credit_memo"),
    "deleteBillCreditMemo": deleter("bill_credit_memo"), "createBillCreditApplication": apply_bill_credit,
    "revertBillCreditApplication": revert_bill_credit,
    "listInvoices": lister("invoice"), "createInvoice": creator("invoice"), "getInvoice": fetcher("invoice"),
    "updateInvoice": updater("invoice"),
    "listCustomerRefunds": lister("customer_refund"), "createCustomerRefund": creator("customer_refund"),
    "getCustomerRefund": fetcher("customer_refund"), "getJob": get_job,
}
