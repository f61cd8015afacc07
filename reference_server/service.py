"""The operations of the contract over the store, each write one transaction (BEGIN IMMEDIATE)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from accounting_conformance.reference_server import documents, ledger, money, queries, records, timestamps, totals
from accounting_conformance.reference_server.errors import ApiError, invalid, not_found
from accounting_conformance.reference_server.faults import Fault, Faults
from accounting_conformance.reference_server.resources import (
    BILL,
    BILL_CREDIT,
    BILL_CREDIT_MEMO,
    INVOICE,
    INVOICE_CREDIT,
    INVOICE_CREDIT_MEMO,
    Document,
)
from accounting_conformance.reference_server.store import Database


def _rule(exc: ledger.RuleViolation | money.MoneyError) -> ApiError:
    if isinstance(exc, money.MoneyError):
        return invalid(exc.code, str(exc))
    return invalid(exc.code, exc.violation.message)


class Service:
    """Business operations of the reference server; HTTP lives elsewhere. `faults`: its deliberate bugs."""

    def __init__(self, db: Database, faults: Faults) -> None:
        self.db = db
        self.faults = faults
        self.fetched: dict[str, tuple[int, Any]] = {}  # only used by the fetch-cached-by-route fault
        with db.read() as conn:
            row = conn.execute("SELECT id FROM accounts WHERE type = 'accounts_receivable' LIMIT 1").fetchone()
        self.receivable = row[0] if row else None

    def _dec(self, value: Any) -> Decimal:
        """A stored or requested amount as an exact Decimal (as this server's faults parse it)."""
        return documents.dec(value, faults=self.faults)

    def connection(self, token: str) -> dict[str, str] | None:
        """The connection an access token names."""
        with self.db.read() as conn:
            return records.get_connection(conn, token, faults=self.faults)

    def default_connection(self) -> dict[str, str] | None:
        """The first connection (a fallback only a faulty server uses, see faults.py)."""
        with self.db.read() as conn:
            row = conn.execute("SELECT access_token FROM connections ORDER BY rowid LIMIT 1").fetchone()
            return None if row is None else records.get_connection(conn, row[0], faults=self.faults)

    def _load(self, conn: Any, resource: Document, key: str, by_platform_id: bool = False) -> dict[str, Any]:
        doc = records.get_document(conn, resource, key, by_platform_id=by_platform_id)
        if doc is not None and Fault.DELETED_STILL_LISTED in self.faults and doc.get("deleted_at"):
            doc = None  # soft-deleted
        if doc is None:
            raise not_found(resource.word, key)
        return doc

    def get(self, resource: Document, key: str, *, by_platform_id: bool = False) -> dict[str, Any]:
        """One document by id or platform id."""
        with self.db.read() as conn:
            if (
                Fault.UNKNOWN_ID_PLACEHOLDER in self.faults
                and records.get_document(conn, resource, key, by_platform_id=by_platform_id) is None
            ):
                # "not synced yet": a stub instead of 404
                return {"id": key, "platform_id": key, "line_items": [], "status": None}
            return self._load(conn, resource, key, by_platform_id)

    def list(self, resource: Document, params: Mapping[str, str | None]) -> queries.Page:
        """One page of documents."""
        try:
            query = queries.parse_list_query(resource, params, faults=self.faults)
        except queries.QueryError as exc:
            raise invalid(exc.code, str(exc)) from None
        return queries.list_page(self.db, query, faults=self.faults)

    def create(self, resource: Document, attrs: Mapping[str, Any]) -> dict[str, Any]:
        """Create a document."""
        with self.db.write() as conn:
            number = 10_000_000 + records.next_number(conn, f"platform:{resource.kind}")
            try:
                doc = documents.new_document(
                    resource,
                    attrs,
                    platform_number=number,
                    now_ms=records.next_stamp(conn, resource),
                    default_account=self.receivable if resource is INVOICE else None,
                    faults=self.faults,
                )
            except (ledger.RuleViolation, money.MoneyError) as exc:
                raise _rule(exc) from None
            records.save_document(conn, resource, doc, faults=self.faults)
            return doc

    def update(self, resource: Document, key: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH a document: fields sent replace, fields left out persist."""
        with self.db.write() as conn:
            doc = self._load(conn, resource, key)
            previous = timestamps.parse_ms(doc["updated_at"], faults=self.faults)
            try:
                updated = documents.update_document(
                    resource, doc, attrs, now_ms=records.next_stamp(conn, resource, previous), faults=self.faults
                )
            except (ledger.RuleViolation, money.MoneyError) as exc:
                raise _rule(exc) from None
            if Fault.UPDATE_NOT_PERSISTED not in self.faults:
                records.save_document(conn, resource, updated, faults=self.faults)
            return updated

    def delete(self, resource: Document, key: str) -> None:
        """Delete a memo that has nothing applied."""
        with self.db.write() as conn:
            doc = self._load(conn, resource, key)
            violation = ledger.check_deletable(documents.applied(resource, doc), faults=self.faults)
            if Fault.USED_UP_MEMO_DELETABLE in self.faults and self._dec(doc["remaining_amount"]) == 0:
                violation = None  # the guard looked at status PARTIALLY_APPLIED only
            if violation is not None:
                raise invalid(violation.code, violation.message)
            if Fault.DELETE_NOT_DELETING in self.faults:
                return
            if Fault.DELETED_STILL_LISTED in self.faults:  # soft delete; the list query forgets to filter it
                doc["deleted_at"] = documents.stamp(timestamps.now_ms())
                records.save_document(conn, resource, doc, faults=self.faults)
                return
            records.delete_document(conn, resource, doc["id"])

    def apply_invoice_credit(self, request: Mapping[str, Any]) -> None:
        """Apply an invoice credit memo to invoices: both sides move in one transaction."""
        shares, payments = INVOICE_CREDIT_MEMO.settled(), INVOICE.settled()  # the memo's links, each invoice's links
        plan = [(link["id"], self._dec(link[shares.amount])) for link in request[shares.links]]
        with self.db.write() as conn:
            memo = self._load(conn, INVOICE_CREDIT_MEMO, request[INVOICE_CREDIT.memo_id])
            invoices = {}
            for invoice_id, _ in plan:
                if invoice_id not in invoices:
                    invoices[invoice_id] = self._load(conn, INVOICE, invoice_id)
            targets = {
                i: ledger.Balance(i, d.get(INVOICE.party), d.get("currency_code"), self._dec(d[payments.open_field]))
                for i, d in invoices.items()
            }
            self._check(memo, INVOICE_CREDIT_MEMO, plan, targets, request)
            now_ms = records.next_stamp(conn, INVOICE, records.next_stamp(conn, INVOICE_CREDIT_MEMO))
            now = documents.stamp(now_ms)
            for index, (invoice_id, amount) in enumerate(plan):
                memo[shares.links] = totals.add_link(
                    memo[shares.links], {"id": invoice_id}, shares.amount, amount, faults=self.faults
                )
                invoice = invoices[invoice_id]
                payment_type = (
                    "INVOICE_PAYMENT" if Fault.LINKED_PAYMENT_WRONG_TYPE in self.faults else "INVOICE_CREDIT_MEMO"
                )
                invoice[payments.links] = totals.add_link(
                    invoice[payments.links],
                    {"id": memo["id"], "type": payment_type},
                    payments.amount,
                    amount,
                    {"date": now},
                    faults=self.faults,
                )
                if Fault.AMOUNT_DUE_NOT_LOWERED not in self.faults:
                    documents.refresh(INVOICE, invoice, faults=self.faults)
                invoice["updated_at"] = invoice["last_synced_at"] = now
                first_only = index and Fault.SEVERAL_TARGETS_FIRST_SAVED in self.faults
                if Fault.APPLICATION_ONE_SIDE not in self.faults and not first_only:
                    records.save_document(conn, INVOICE, invoice, faults=self.faults)
                records.record_application(conn, INVOICE_CREDIT, memo["id"], invoice_id, amount, now_ms)
            if Fault.REMAINING_NOT_LOWERED not in self.faults:
                documents.refresh(INVOICE_CREDIT_MEMO, memo, faults=self.faults)
            memo["allocated_at"] = memo["updated_at"] = memo["last_synced_at"] = now
            records.save_document(conn, INVOICE_CREDIT_MEMO, memo, faults=self.faults)

    def apply_bill_credit(self, request: Mapping[str, Any]) -> None:
        """Apply a bill credit memo to bills: the memo and each bill's open amount move together."""
        shares = BILL_CREDIT_MEMO.settled()
        plan = [(link["id"], self._dec(link[shares.amount])) for link in request[shares.links]]
        with self.db.write() as conn:
            memo = self._load(conn, BILL_CREDIT_MEMO, request[BILL_CREDIT.memo_id])
            bills = {}
            for bill_id, _ in plan:
                bill = records.get_reference(conn, BILL.table, bill_id)
                if bill is None:
                    raise not_found(BILL.word, bill_id)
                bills[bill_id] = bill
            targets = {
                i: ledger.Balance(i, b["vendor_id"], b["currency_code"], self._dec(b["amount_due"]))
                for i, b in bills.items()
            }
            self._check(memo, BILL_CREDIT_MEMO, plan, targets, request)
            now_ms = records.next_stamp(conn, BILL_CREDIT_MEMO)
            now = documents.stamp(now_ms)
            for bill_id, amount in plan:
                memo[shares.links] = totals.add_link(
                    memo[shares.links],
                    {"id": bill_id},
                    shares.amount,
                    amount,
                    {"allocated_date": now},
                    faults=self.faults,
                )
                records.set_bill_amount_due(conn, bill_id, targets[bill_id].open_amount - amount)
                records.record_application(conn, BILL_CREDIT, memo["id"], bill_id, amount, now_ms)
            documents.refresh(BILL_CREDIT_MEMO, memo, faults=self.faults)
            memo["updated_at"] = memo["last_synced_at"] = now
            records.save_document(conn, BILL_CREDIT_MEMO, memo, faults=self.faults)

    def _check(
        self,
        memo: Mapping[str, Any],
        memos: Document,
        plan: Sequence[tuple[str, Decimal]],
        targets: Mapping[str, ledger.Balance],
        request: Mapping[str, Any],
    ) -> None:
        party, remaining = memos.party, memos.settled().open_field
        balance = ledger.Balance(memo["id"], memo.get(party), memo.get("currency_code"), self._dec(memo[remaining]))
        violation = ledger.check_application(
            balance,
            [ledger.Allocation(t, a) for t, a in plan],
            targets,
            memos.side,
            currency_code=request.get("currency_code"),
            party_id=request.get(party),
            faults=self.faults,
        )
        if violation is not None:
            raise invalid(violation.code, violation.message)

    def revert_bill_credit(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Revert what a bill credit memo applied to one bill."""
        shares = BILL_CREDIT_MEMO.settled()
        with self.db.write() as conn:
            memo = self._load(conn, BILL_CREDIT_MEMO, request[BILL_CREDIT.memo_id])
            bill = records.get_reference(conn, BILL.table, request["bill_id"])
            if bill is None:
                raise not_found(BILL.word, request["bill_id"])
            try:
                memo[shares.links], restored = totals.remove_link(memo[shares.links], bill["id"], shares.amount)
            except (ledger.RuleViolation, money.MoneyError) as exc:
                raise _rule(exc) from None
            if Fault.REVERT_DOES_NOTHING in self.faults:
                return {"id": str(uuid.uuid4()), "success": True}
            previous = timestamps.parse_ms(memo["updated_at"], faults=self.faults)
            now_ms = records.next_stamp(conn, BILL_CREDIT_MEMO, previous)
            records.set_bill_amount_due(conn, bill["id"], self._dec(bill["amount_due"]) + restored)
            records.mark_reverted(conn, memo["id"], bill["id"], now_ms)
            was = memo["status"]
            if Fault.REVERT_KEEPS_REMAINING not in self.faults:
                documents.refresh(BILL_CREDIT_MEMO, memo, faults=self.faults)
            if was == "paid" and Fault.REVERT_KEEPS_PAID_STATUS in self.faults:
                memo["status"] = was
            memo["updated_at"] = memo["last_synced_at"] = documents.stamp(now_ms)
            records.save_document(conn, BILL_CREDIT_MEMO, memo, faults=self.faults)
            return {"id": str(uuid.uuid4()), "success": True}
