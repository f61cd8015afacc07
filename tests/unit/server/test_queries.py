"""Sort, limit, deprecated bounds, cursors, and paging against a real SQLite store."""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from typing import Any

import pytest

from accounting_conformance.reference_server import queries, records
from accounting_conformance.reference_server.queries import Cursor, QueryError, list_page, parse_list_query
from accounting_conformance.reference_server.resources import CUSTOMER_REFUND, INVOICE_CREDIT_MEMO
from accounting_conformance.reference_server.store import Database, open_db
from accounting_conformance.reference_server.timestamps import format_ms

ICM = INVOICE_CREDIT_MEMO
BASE_MS = 1_700_000_000_000


@pytest.fixture()
def db() -> Iterator[Database]:
    database = open_db(":memory:")
    yield database
    database.close()


def memo(
    n: int, *, customer: str | None = "c1", number: str | None = None, created: int = 0, updated: int | None = None
) -> dict[str, Any]:
    """A minimal stored invoice credit memo."""
    updated_ms = BASE_MS + (created if updated is None else updated)
    return {
        "id": f"id-{n:04d}",
        "platform_id": f"p{n}",
        "customer_id": customer,
        "document_number": f"CUSTCRED-{n}" if number is None else number,
        "created_at": format_ms(BASE_MS + created),
        "updated_at": format_ms(updated_ms),
        "last_synced_at": format_ms(updated_ms),
        "total_amount": "1",
    }


def put(db: Database, *docs: dict[str, Any]) -> None:
    with db.write() as conn:
        for doc in docs:
            records.save_document(conn, ICM, doc)


def ids(db: Database, **params: str) -> list[str]:
    """Ids of every object a list query yields, following cursors to the end."""
    found: list[str] = []
    cursor = None
    while True:
        query = parse_list_query(ICM, {**params, **({"cursor": cursor} if cursor else {})})
        page = list_page(db, query)
        found.extend(item["id"] for item in page.items)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def test_default_sort_is_updated_at_descending() -> None:
    assert queries.parse_sort(ICM, None) == queries.Sort("updated_at", "updated_at_ms", True)


@pytest.mark.parametrize(
    ("text", "desc"),
    [("created_at", False), ("created_at ASC", False), ("created_at DESC", True), ("  created_at   desc ", True)],
)
def test_sort_direction_defaults_to_ascending(text: str, desc: bool) -> None:
    assert queries.parse_sort(ICM, text).descending is desc


@pytest.mark.parametrize("text", ["status", "vendor_id DESC", "created_at UP", "created_at ASC id", "id"])
def test_bad_sorts_are_rejected(text: str) -> None:
    with pytest.raises(QueryError) as info:
        queries.parse_sort(ICM, text)
    assert info.value.code == queries.INVALID_SORT


@pytest.mark.parametrize(("value", "limit"), [(None, 50), ("1", 1), ("500", 500), (25, 25)])
def test_limit_is_1_to_500_defaulting_to_50(value: str | int | None, limit: int) -> None:
    assert queries.parse_limit(value) == limit


@pytest.mark.parametrize("value", ["0", "501", "-1", "1.5", "", " 5", "ten", "1e2", True, 10**20])
def test_bad_limits_are_rejected(value: object) -> None:
    with pytest.raises(QueryError) as info:
        queries.parse_limit(value)  # type: ignore[arg-type]
    assert info.value.code == queries.INVALID_LIMIT


@pytest.mark.parametrize("value", ["-1", "1.0", "abc", "253402300800000", ""])
def test_bad_deprecated_bounds_are_rejected(value: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_list_query(ICM, {"updated_at_min": value})
    assert info.value.code == queries.INVALID_PARAMETER


def test_cursor_round_trips() -> None:
    cursor = Cursor("document_number", False, "CUSTCRED-7", "id-7", "f" * 32, 123)
    assert queries.decode_cursor(queries.encode_cursor(cursor)) == cursor


def test_cursor_is_urlsafe_without_padding() -> None:
    token = queries.encode_cursor(Cursor("updated_at", True, None, "i/d+?", "h", 1))
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_tampered_cursor_is_rejected() -> None:
    token = queries.encode_cursor(Cursor("updated_at", True, 5, "id-1", "h", 1))
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-5] ^= 0x01
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(QueryError) as info:
        queries.decode_cursor(forged)
    assert info.value.code == queries.INVALID_CURSOR


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not a cursor",
        "abc",
        "====",
        "A" * 5000,
        "x" * 21,
        "🙂",
        base64.urlsafe_b64encode(b"x" * 16 + b"[1]").decode(),
    ],
)
def test_garbage_cursors_are_rejected(token: str) -> None:
    with pytest.raises(QueryError) as info:
        queries.decode_cursor(token)
    assert info.value.code == queries.INVALID_CURSOR


def test_cursor_signed_with_another_secret_is_rejected() -> None:
    token = queries.encode_cursor(Cursor("updated_at", True, 5, "id-1", "h", 1), secret=b"other")
    with pytest.raises(QueryError):
        queries.decode_cursor(token)


def first_cursor(db: Database, params: dict[str, str]) -> str:
    put(db, *(memo(n, created=n) for n in range(3)))
    page = list_page(db, parse_list_query(ICM, {**params, "limit": "1"}))
    assert page.next_cursor is not None
    return page.next_cursor


@pytest.mark.parametrize(
    "change", [{"sort": "created_at DESC"}, {"filter": 'customer_id = "c2"'}, {"updated_at_min": "1"}]
)
def test_cursor_for_another_sort_or_filter_is_rejected(db: Database, change: dict[str, str]) -> None:
    params = {"sort": "created_at", "filter": 'customer_id = "c1"'}
    token = first_cursor(db, params)
    with pytest.raises(QueryError) as info:
        parse_list_query(ICM, {**params, **change, "cursor": token})
    assert info.value.code == queries.INVALID_CURSOR


def test_cursor_for_another_resource_is_rejected(db: Database) -> None:
    token = first_cursor(db, {})
    with pytest.raises(QueryError):
        parse_list_query(CUSTOMER_REFUND, {"cursor": token})


def test_equivalent_filter_spelling_keeps_the_cursor_valid(db: Database) -> None:
    token = first_cursor(db, {"filter": 'created_at >= "2000-01-01T00:00:00Z"'})
    parse_list_query(ICM, {"filter": 'created_at>="2000-01-01T01:00:00+01:00"', "cursor": token})


@pytest.mark.parametrize(
    "sort",
    [
        "updated_at DESC",
        "created_at",
        "created_at DESC",
        "document_number",
        "document_number DESC",
        "customer_id",
        "customer_id DESC",
    ],
)
def test_pages_cover_every_object_once_in_order(db: Database, sort: str) -> None:
    docs = [
        memo(
            n, created=n // 3, customer=None if n % 4 == 0 else f"c{n % 3}", number=None if n % 5 == 0 else f"N{n % 7}"
        )
        for n in range(37)
    ]
    put(db, *docs)
    for limit in ("1", "4", "36", "37", "500"):
        found = ids(db, sort=sort, limit=limit)
        field, _, direction = sort.partition(" ")
        expected = sorted(
            docs, key=lambda d: (d[field] is not None, d[field] or "", d["id"]), reverse=direction == "DESC"
        )
        assert found == [d["id"] for d in expected]


def test_writes_between_pages_cause_no_duplicates_and_paging_ends(db: Database) -> None:
    put(db, *(memo(n, created=n) for n in range(40)))
    rng = random.Random(7)
    for sort in ("updated_at", "updated_at DESC", "created_at", "document_number DESC"):
        seen: list[str] = []
        cursor, pages = None, 0
        while True:
            query = parse_list_query(ICM, {"sort": sort, "limit": "3", **({"cursor": cursor} if cursor else {})})
            page = list_page(db, query)
            seen.extend(item["id"] for item in page.items)
            pages += 1
            with db.write() as conn:  # update two random objects, create one new one
                for doc_id in rng.sample([f"id-{n:04d}" for n in range(40)], 2):
                    doc = records.get_document(conn, ICM, doc_id)
                    assert doc is not None
                    doc["updated_at"] = format_ms(records.next_stamp(conn, ICM))
                    doc["document_number"] = f"Z{rng.randint(0, 99)}"
                    records.save_document(conn, ICM, doc)
                fresh = memo(1000 + pages * 10 + len(seen), created=0)
                fresh["updated_at"] = format_ms(records.next_stamp(conn, ICM))
                records.save_document(conn, ICM, fresh)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
            assert pages < 100
        assert len(seen) == len(set(seen))


def populated(db: Database) -> None:
    put(
        db,
        memo(1, customer="Acme", number="INV-Alpha", created=1),
        memo(2, customer="acme", number="inv-alpha", created=2),
        memo(3, customer=None, number="X'; DROP TABLE invoice_credit_memos; --", created=3),
    )


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        ('document_number ~ "Alpha"', ["id-0001"]),
        ('document_number ~ "alpha"', ["id-0002"]),
        ('customer_id = "Acme"', ["id-0001"]),
        ('customer_id != "Acme"', ["id-0002", "id-0003"]),
        ("customer_id = null", ["id-0003"]),
        ("customer_id != null", ["id-0001", "id-0002"]),
        ('document_number = "X\'; DROP TABLE invoice_credit_memos; --"', ["id-0003"]),
        ("customer_id = \"x' OR '1'='1\"", []),
        ('document_number ~ "%"', []),
        (f'created_at > "{format_ms(BASE_MS + 1)}"', ["id-0002", "id-0003"]),
        (f'created_at >= "{format_ms(BASE_MS + 2)}" AND created_at <= "{format_ms(BASE_MS + 2)}"', ["id-0002"]),
        ('created_at = "2023-11-14T23:13:20.002+01:00"', ["id-0002"]),
        ('created_at = "2023-11-15T00:13:20.002+01:00"', []),
        ('created_at > "2023-11-14T22:13:20.0015Z"', ["id-0002", "id-0003"]),
        ('created_at < "2023-11-14T22:13:20.0015Z"', ["id-0001"]),
    ],
)
def test_filters_select_the_right_rows(db: Database, filter_text: str, expected: list[str]) -> None:
    populated(db)
    assert sorted(ids(db, filter=filter_text)) == expected
    with db.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM invoice_credit_memos").fetchone()[0] == 3


def test_deprecated_bounds_are_inclusive_unix_milliseconds(db: Database) -> None:
    populated(db)
    assert sorted(ids(db, updated_at_min=str(BASE_MS + 2))) == ["id-0002", "id-0003"]
    assert sorted(ids(db, updated_at_max=str(BASE_MS + 2))) == ["id-0001", "id-0002"]
    assert sorted(ids(db, last_synced_at_min=str(BASE_MS + 3), updated_at_max=str(BASE_MS + 3))) == ["id-0003"]


def test_built_sql_binds_every_user_value(db: Database) -> None:
    query = parse_list_query(ICM, {"filter": 'document_number ~ "\'--"', "updated_at_min": "5", "limit": "9"})
    sql, args = queries.build_sql(query, 99)
    assert "'" not in sql and "--" not in sql
    assert args == [99, "'--", 5, 10]
