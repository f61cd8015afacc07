"""Row access on a store connection: documents, seeded references, counters, jobs, idempotency keys.

Every function takes the `sqlite3.Connection` of an open `Database.read()` / `Database.write()`
transaction and uses bound parameters only; table names come from the resource table and the store's constants.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from accounting_conformance.reference_server import money, timestamps
from accounting_conformance.reference_server.faults import NO_FAULTS, Fault, Faults
from accounting_conformance.reference_server.resources import BILL, DOCUMENTS, JOB, Application, Document
from accounting_conformance.reference_server.store import INDEX_COLUMNS, REFERENCE_TABLES


def _json_default(value: object) -> str:
    """Serialise Decimals as canonical decimal strings; anything else unknown is a bug."""
    if isinstance(value, Decimal):
        return money.format_amount(value)
    raise TypeError(f"cannot store {type(value).__name__} in a document")


def dump_json(value: Any) -> str:
    """Compact JSON text for storage (Decimals become decimal strings)."""
    return json.dumps(value, default=_json_default, separators=(",", ":"), ensure_ascii=False)


def _table(resource: Document) -> str:
    """The table of a document kind of the resource table; table names never come from requests."""
    if resource not in DOCUMENTS:
        raise ValueError(f"unknown document kind {resource.kind!r}")
    return resource.table


def _index_row(doc: Mapping[str, Any], faults: Faults) -> tuple[Any, ...]:
    """The indexed scalar columns of a document, instants as epoch milliseconds."""

    def instant(key: str) -> int | None:
        """The field as epoch milliseconds, or None when absent."""
        value = doc.get(key)
        return None if value is None else timestamps.parse_ms(value, faults=faults)

    updated = instant("updated_at")
    synced = instant("last_synced_at")
    return (
        doc.get("customer_id"),
        doc.get("vendor_id"),
        doc.get("document_number"),
        doc.get("status"),
        instant("due_date"),
        instant("created_at"),
        updated,
        updated if synced is None else synced,
    )


def save_document(
    conn: sqlite3.Connection, resource: Document, doc: Mapping[str, Any], *, faults: Faults = NO_FAULTS
) -> None:
    """Insert or update a document by id (needs id, platform_id, created_at, updated_at)."""
    if Fault.UNICODE_MEMO_500 in faults:
        (doc.get("memo") or "").encode("latin-1")  # the platform's legacy memo column is Latin-1
    number = doc.get("document_number")
    if Fault.LONG_DOCUMENT_NUMBER_500 in faults and isinstance(number, str) and len(number) > 21:
        raise sqlite3.DataError("value too long for type character varying(21)")  # QuickBooks DocNumber width
    names = ("id", "platform_id", *INDEX_COLUMNS, "body")
    updates = ", ".join(f"{name} = excluded.{name}" for name in names[1:])
    conn.execute(
        f"INSERT INTO {_table(resource)} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
        f"ON CONFLICT(id) DO UPDATE SET {updates}",
        (doc["id"], doc["platform_id"], *_index_row(doc, faults), dump_json(doc)),
    )


def get_document(
    conn: sqlite3.Connection, resource: Document, key: str, *, by_platform_id: bool = False
) -> dict[str, Any] | None:
    """A stored document by id (or by platform_id), or None."""
    column = "platform_id" if by_platform_id else "id"
    row = conn.execute(f"SELECT body FROM {_table(resource)} WHERE {column} = ?", (key,)).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def delete_document(conn: sqlite3.Connection, resource: Document, doc_id: str) -> bool:
    """Delete a document; True if it existed."""
    return conn.execute(f"DELETE FROM {_table(resource)} WHERE id = ?", (doc_id,)).rowcount > 0


def next_stamp(conn: sqlite3.Connection, resource: Document, previous_ms: int | None = None) -> int:
    """A write time (epoch ms) not before now, after `previous_ms` and after every stored updated_at.

    Every document write must stamp updated_at with this: list snapshots rely on it.
    """
    latest = conn.execute(f"SELECT MAX(updated_at_ms) FROM {_table(resource)}").fetchone()[0]
    return timestamps.next_ms(latest, previous_ms)


def next_number(conn: sqlite3.Connection, name: str) -> int:
    """The next value (1, 2, ...) of a named counter, e.g. for document numbers and platform ids."""
    row = conn.execute(
        "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT(name) "
        "DO UPDATE SET value = value + 1 RETURNING value",
        (name,),
    ).fetchone()
    return int(row[0])


def get_reference(conn: sqlite3.Connection, table: str, ref_id: str) -> dict[str, Any] | None:
    """A seeded customer, vendor, account, item or bill by id, or None."""
    if table not in REFERENCE_TABLES:
        raise ValueError(f"unknown table {table!r}")
    row = conn.execute(f"SELECT * FROM {table} WHERE id = ?", (ref_id,)).fetchone()
    return None if row is None else dict(row)


def set_bill_amount_due(conn: sqlite3.Connection, bill_id: str, amount_due: Decimal) -> None:
    """Store a bill's new amount due."""
    conn.execute(f"UPDATE {BILL.table} SET amount_due = ? WHERE id = ?", (money.format_amount(amount_due), bill_id))


def get_connection(conn: sqlite3.Connection, access_token: str, *, faults: Faults = NO_FAULTS) -> dict[str, str] | None:
    """The connection an access token selects, as {id, orgId, platform}, or None."""
    if Fault.TOKEN_PREFIX_ACCEPTED in faults:
        where = "access_token LIKE ? || '%'"
    elif Fault.TOKEN_TRUNCATED in faults:
        where, access_token = "substr(access_token, 1, 32) = ?", access_token[:32]
    else:
        where = "access_token = ?"
    row = conn.execute(f"SELECT id, org_id, platform FROM connections WHERE {where}", (access_token,)).fetchone()
    return None if row is None else {"id": row[0], "orgId": row[1], "platform": row[2]}


def record_application(
    conn: sqlite3.Connection, application: Application, memo_id: str, target_id: str, amount: Decimal, at_ms: int
) -> str:
    """Log one applied share, under the kind of its target ("invoice" or "bill"); returns the log entry's id."""
    entry_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO applications VALUES (?, ?, ?, ?, ?, ?, NULL)",
        (entry_id, application.target.kind, memo_id, target_id, money.format_amount(amount), at_ms),
    )
    return entry_id


def mark_reverted(conn: sqlite3.Connection, memo_id: str, target_id: str, at_ms: int) -> int:
    """Mark the live applications of memo to target as reverted; returns how many."""
    return conn.execute(
        "UPDATE applications SET reverted_at_ms = ? WHERE memo_id = ? AND target_id = ? AND reverted_at_ms IS NULL",
        (at_ms, memo_id, target_id),
    ).rowcount


def save_job(conn: sqlite3.Connection, job: Mapping[str, Any], created_at_ms: int) -> None:
    """Insert or replace a job ({id, status, request, response?})."""
    conn.execute(
        f"INSERT INTO {JOB.table} VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET status = excluded.status, "
        "body = excluded.body",
        (job["id"], job["status"], created_at_ms, dump_json(job)),
    )


def get_job(conn: sqlite3.Connection, job_id: str) -> dict[str, Any] | None:
    """A job by id, or None."""
    row = conn.execute(f"SELECT body FROM {JOB.table} WHERE id = ?", (job_id,)).fetchone()
    return None if row is None else dict(json.loads(row[0]))


def get_idempotent(conn: sqlite3.Connection, scope: str, key: str) -> tuple[str, dict[str, Any]] | None:
    """The (request fingerprint, stored response) for an Idempotency-Key in a scope, or None."""
    row = conn.execute(
        "SELECT fingerprint, response FROM idempotency_keys WHERE scope = ? AND key = ?", (scope, key)
    ).fetchone()
    return None if row is None else (row[0], dict(json.loads(row[1])))


def put_idempotent(
    conn: sqlite3.Connection, scope: str, key: str, fingerprint: str, response: Mapping[str, Any], at_ms: int
) -> None:
    """Store the first accepted outcome for an Idempotency-Key (an existing one is kept)."""
    conn.execute(
        "INSERT OR IGNORE INTO idempotency_keys VALUES (?, ?, ?, ?, ?)",
        (scope, key, fingerprint, dump_json(response), at_ms),
    )
