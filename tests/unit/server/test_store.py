"""SQLite store: WAL, write transactions, concurrency, seeding and row access."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from accounting_conformance.reference_server import records
from accounting_conformance.reference_server.resources import BILL_CREDIT, INVOICE_CREDIT_MEMO
from accounting_conformance.reference_server.store import Database, load_fixtures, open_db, seed
from accounting_conformance.reference_server.timestamps import format_ms, parse_ms

ICM = INVOICE_CREDIT_MEMO


@pytest.fixture(params=["memory", "file"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database = open_db(":memory:" if request.param == "memory" else str(tmp_path / "ref.db"))
    yield database
    database.close()


def doc(doc_id: str, **extra: object) -> dict[str, object]:
    return {
        "id": doc_id,
        "platform_id": f"p-{doc_id}",
        "created_at": "2024-01-01T00:00:00.000Z",
        "updated_at": "2024-01-01T00:00:00.000Z",
        "last_synced_at": "2024-01-01T00:00:00.000Z",
        **extra,
    }


def test_file_databases_use_wal(tmp_path: Path) -> None:
    database = open_db(str(tmp_path / "wal.db"))
    assert database.journal_mode() == "wal"
    database.close()


def test_memory_database_is_shared_across_threads() -> None:
    database = open_db(":memory:")
    with database.write() as conn:
        records.save_document(conn, ICM, doc("a"))
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(records.get_document(database.connection(), ICM, "a")))
    thread.start()
    thread.join()
    assert result and result[0] is not None
    database.close()


def test_write_commits_on_success(db: Database) -> None:
    with db.write() as conn:
        records.save_document(conn, ICM, doc("a", total_amount=Decimal("1.50")))
    with db.read() as conn:
        assert records.get_document(conn, ICM, "a") == doc("a", total_amount="1.5")


def test_write_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as conn:
        records.save_document(conn, ICM, doc("a"))
        raise RuntimeError("boom")
    with db.read() as conn:
        assert records.get_document(conn, ICM, "a") is None


def test_write_takes_begin_immediate(db: Database) -> None:
    with db.write() as conn:
        assert conn.in_transaction
        if not db.in_memory:  # a second connection cannot even start a write meanwhile
            other = sqlite3.connect(db.path, timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()


def test_nested_write_joins_the_outer_transaction(db: Database) -> None:
    with pytest.raises(ValueError), db.write():
        with db.write() as inner:
            records.save_document(inner, ICM, doc("a"))
        raise ValueError
    with db.read() as conn:
        assert records.get_document(conn, ICM, "a") is None


def test_write_inside_read_is_refused(db: Database) -> None:
    with db.read(), pytest.raises(RuntimeError):
        with db.write():
            pass


def test_concurrent_writers_do_not_interleave(db: Database) -> None:
    with db.write() as conn:
        conn.execute("INSERT INTO counters VALUES ('n', 0)")

    def bump() -> None:
        for _ in range(25):
            with db.write() as conn:  # read-modify-write: lost updates would show as a short count
                value = conn.execute("SELECT value FROM counters WHERE name = 'n'").fetchone()[0]
                conn.execute("UPDATE counters SET value = ? WHERE name = 'n'", (value + 1,))

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with db.read() as conn:
        assert conn.execute("SELECT value FROM counters WHERE name = 'n'").fetchone()[0] == 200


def test_separate_database_objects_on_one_file_serialise_writes(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    first, second = open_db(path), open_db(path)

    def bump(database: Database) -> None:
        for _ in range(30):
            with database.write() as conn:
                records.next_number(conn, "n")

    threads = [threading.Thread(target=bump, args=(d,)) for d in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with first.write() as conn:
        assert records.next_number(conn, "n") == 121
    first.close()
    second.close()


def test_reads_see_a_stable_snapshot_in_wal(tmp_path: Path) -> None:
    database = open_db(str(tmp_path / "snap.db"))
    with database.read() as conn:
        assert records.get_document(conn, ICM, "a") is None
        done = threading.Event()

        def write() -> None:
            with database.write() as wconn:
                records.save_document(wconn, ICM, doc("a"))
            done.set()

        threading.Thread(target=write).start()
        assert done.wait(5)
        assert records.get_document(conn, ICM, "a") is None
    with database.read() as conn:
        assert records.get_document(conn, ICM, "a") is not None
    database.close()


def test_amounts_are_stored_as_text(db: Database) -> None:
    db_fixtures = load_fixtures()
    seed(db, db_fixtures)
    with db.write() as conn:
        bill = db_fixtures["bills"][0]["id"]
        records.set_bill_amount_due(conn, bill, Decimal("999999.50"))
        row = conn.execute("SELECT typeof(amount_due), amount_due FROM bills WHERE id = ?", (bill,)).fetchone()
    assert tuple(row) == ("text", "999999.5")


def test_seeding_is_idempotent_and_readable(db: Database) -> None:
    fixtures = load_fixtures()
    seed(db, fixtures)
    seed(db, fixtures)
    with db.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] == len(fixtures["customers"])
        customer = fixtures["customers"][0]
        assert records.get_reference(conn, "customers", customer["id"]) == customer
        assert records.get_connection(conn, fixtures["access_token"]) == fixtures["connection"]
        assert records.get_connection(conn, "nope") is None


def test_reference_lookups_refuse_foreign_tables(db: Database) -> None:
    with db.read() as conn, pytest.raises(ValueError):
        records.get_reference(conn, "sqlite_master", "x")


def test_document_access_refuses_kinds_outside_the_resource_table(db: Database) -> None:
    foreign = dataclasses.replace(INVOICE_CREDIT_MEMO, kind="sqlite_master")
    with db.read() as conn, pytest.raises(ValueError):
        records.get_document(conn, foreign, "x")


def test_documents_are_found_by_platform_id_and_deleted(db: Database) -> None:
    with db.write() as conn:
        records.save_document(conn, ICM, doc("a"))
        assert records.get_document(conn, ICM, "p-a", by_platform_id=True) is not None
        assert records.delete_document(conn, ICM, "a") is True
        assert records.delete_document(conn, ICM, "a") is False


def test_platform_ids_are_unique(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError), db.write() as conn:
        records.save_document(conn, ICM, doc("a"))
        records.save_document(conn, ICM, {**doc("b"), "platform_id": "p-a"})


def test_next_stamp_moves_strictly_forward(db: Database) -> None:
    future = "2999-01-01T00:00:00.000Z"
    with db.write() as conn:
        records.save_document(conn, ICM, {**doc("a"), "updated_at": future})
        stamp = records.next_stamp(conn, ICM)
        assert stamp == parse_ms(future) + 1
        assert records.next_stamp(conn, ICM, previous_ms=stamp) == stamp + 1
        assert format_ms(stamp) == "2999-01-01T00:00:00.001Z"


def test_jobs_and_idempotency_keys_round_trip(db: Database) -> None:
    with db.write() as conn:
        records.save_job(conn, {"id": "j1", "status": "pending", "request": {"method": "POST"}}, 1)
        records.save_job(conn, {"id": "j1", "status": "success", "request": {"method": "POST"}}, 1)
        records.put_idempotent(conn, "tok", "key", "fp1", {"status": 200}, 1)
        records.put_idempotent(conn, "tok", "key", "fp2", {"status": 500}, 2)
    with db.read() as conn:
        assert records.get_job(conn, "j1") == {"id": "j1", "status": "success", "request": {"method": "POST"}}
        assert records.get_idempotent(conn, "tok", "key") == ("fp1", {"status": 200})
        assert records.get_idempotent(conn, "other", "key") is None


def test_application_log_records_and_reverts(db: Database) -> None:
    with db.write() as conn:
        records.record_application(conn, BILL_CREDIT, "m", "b", Decimal("2.50"), 1)
        records.record_application(conn, BILL_CREDIT, "m", "b", Decimal("1"), 2)
        assert records.mark_reverted(conn, "m", "b", 3) == 2
        assert records.mark_reverted(conn, "m", "b", 4) == 0
