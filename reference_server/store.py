"""SQLite persistence: thread-safe connections, WAL, the schema, write transactions and seeding.

Documents (credit memos, invoices, refunds) are stored whole as JSON text, amounts as decimal
strings, beside indexed scalar columns for filters and sorts (instants as epoch milliseconds).
Row access lives in `records`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from accounting_conformance.reference_server.resources import APPLICATIONS, BILL, DOCUMENTS, JOB

DOCUMENT_TABLES = tuple(resource.table for resource in DOCUMENTS)
#: Reference data seeded from the fixtures: table -> the columns read from each fixture row.
SEEDED = {
    "customers": ("id", "name", "currency_code"),
    "vendors": ("id", "name", "currency_code"),
    "accounts": ("id", "name", "type"),
    "items": ("id", "name"),
    BILL.table: ("id", "vendor_id", "currency_code", "total_amount", "amount_due"),
}
REFERENCE_TABLES = tuple(SEEDED)
_TARGETS = ", ".join(f"'{application.target.kind}'" for application in APPLICATIONS)
INDEX_COLUMNS = (
    "customer_id",
    "vendor_id",
    "document_number",
    "status",
    "due_date_ms",
    "created_at_ms",
    "updated_at_ms",
    "last_synced_at_ms",
)
FIXTURES_PATH = Path(__file__).with_name("fixtures.json")

_DOCUMENT_SCHEMA = """
CREATE TABLE IF NOT EXISTS {t} (
  id TEXT PRIMARY KEY, platform_id TEXT NOT NULL UNIQUE,
  customer_id TEXT, vendor_id TEXT, document_number TEXT, status TEXT, due_date_ms INTEGER,
  created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL, last_synced_at_ms INTEGER NOT NULL,
  body TEXT NOT NULL CHECK (json_valid(body)));
""" + "".join(f"CREATE INDEX IF NOT EXISTS {{t}}_{c} ON {{t}}({c}, id);\n" for c in INDEX_COLUMNS)

_SCHEMA = (
    "".join(_DOCUMENT_SCHEMA.format(t=t) for t in DOCUMENT_TABLES)
    + f"""
CREATE TABLE IF NOT EXISTS connections (access_token TEXT PRIMARY KEY, id TEXT NOT NULL,
  org_id TEXT NOT NULL, platform TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, name TEXT NOT NULL, currency_code TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vendors (id TEXT PRIMARY KEY, name TEXT NOT NULL, currency_code TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {BILL.table} (id TEXT PRIMARY KEY, vendor_id TEXT NOT NULL REFERENCES vendors(id),
  currency_code TEXT NOT NULL, total_amount TEXT NOT NULL, amount_due TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS applications (id TEXT PRIMARY KEY, kind TEXT NOT NULL
  CHECK (kind IN ({_TARGETS})), memo_id TEXT NOT NULL, target_id TEXT NOT NULL,
  amount TEXT NOT NULL, applied_at_ms INTEGER NOT NULL, reverted_at_ms INTEGER);
CREATE INDEX IF NOT EXISTS applications_memo ON applications(memo_id, target_id);
CREATE TABLE IF NOT EXISTS {JOB.table} (id TEXT PRIMARY KEY, status TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL, body TEXT NOT NULL CHECK (json_valid(body)));
CREATE TABLE IF NOT EXISTS idempotency_keys (scope TEXT NOT NULL, key TEXT NOT NULL,
  fingerprint TEXT NOT NULL, response TEXT NOT NULL CHECK (json_valid(response)),
  created_at_ms INTEGER NOT NULL, PRIMARY KEY (scope, key));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
)


class Database:
    """A SQLite database shared by threads: per-thread connections on files, one locked one in memory.

    `write()` serialises writers (an in-process lock plus BEGIN IMMEDIATE across processes);
    `read()` gives a consistent snapshot (WAL readers never block the writer).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.in_memory = path in ("", ":memory:")
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._registry_lock = threading.Lock()
        self._shared = self._connect() if self.in_memory else None

    def _connect(self) -> sqlite3.Connection:
        """Open and configure one connection (autocommit mode; transactions are explicit)."""
        conn = sqlite3.connect(self.path or ":memory:", isolation_level=None, check_same_thread=False, timeout=30.0)
        conn.row_factory = sqlite3.Row
        if not self.in_memory:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        with self._registry_lock:
            self._connections.append(conn)
        return conn

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (the single shared one for an in-memory database)."""
        if self._shared is not None:
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    @contextmanager
    def _transaction(self, mode: str, begin: str) -> Iterator[sqlite3.Connection]:
        """Run a transaction of `mode`; a nested one of the same or weaker mode joins the outer one."""
        current = getattr(self._local, "mode", None)
        if current is not None:
            if mode == "write" and current == "read":
                raise RuntimeError("cannot start a write transaction inside a read transaction")
            yield self.connection()
            return
        conn = self.connection()
        conn.execute(begin)
        self._local.mode = mode
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT" if mode == "write" else "ROLLBACK")
        finally:
            self._local.mode = None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE): commits on success, rolls back on any exception."""
        with self._write_lock, self._transaction("write", "BEGIN IMMEDIATE") as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read-only snapshot transaction (in memory, serialised with writers)."""
        if self.in_memory:
            with self._write_lock, self._transaction("read", "BEGIN") as conn:
                yield conn
        else:
            with self._transaction("read", "BEGIN") as conn:
                yield conn

    def journal_mode(self) -> str:
        """The journal mode SQLite reports for this database ("wal" for files)."""
        return str(self.connection().execute("PRAGMA journal_mode").fetchone()[0])

    def close(self) -> None:
        """Close every connection this database opened."""
        with self._registry_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
        self._shared = None


def open_db(path: str, fixtures: Mapping[str, Any] | None = None) -> Database:
    """Open (creating if needed) a database at `path` or ":memory:", with schema and optional seed data."""
    db = Database(path)
    with db.write() as conn:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
    if fixtures is not None:
        seed(db, fixtures)
    return db


def load_fixtures(path: str | Path = FIXTURES_PATH) -> dict[str, Any]:
    """Read a fixtures file (by default the packaged fixtures.json)."""
    with open(path, encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def seed(db: Database, fixtures: Mapping[str, Any]) -> None:
    """Insert the connection and reference data of `fixtures`; rows already present are kept."""
    link = fixtures["connection"]
    with db.write() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO connections VALUES (?, ?, ?, ?)",
            (fixtures["access_token"], link["id"], link["orgId"], link["platform"]),
        )
        for table, names in SEEDED.items():
            conn.executemany(
                f"INSERT OR IGNORE INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [tuple(str(row[name]) for name in names) for row in fixtures.get(table, [])],
            )
