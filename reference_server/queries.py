"""List semantics: filter, sort, limit, deprecated bounds and keyset cursors, run as parameterised SQL.

Paging is keyset-based on (sort value, id) and pinned to a snapshot: the first page records the
highest `updated_at` in the table, and later pages only show objects not written since. Every write
stamps `updated_at` above that high-water mark (`records.next_stamp`), so objects created or updated
between pages never appear twice and paging always ends; ties on the sort field break on `id`.
A cursor carries (sort field, direction, last value, last id, filter hash, snapshot) under an HMAC.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from accounting_conformance.reference_server.faults import NO_FAULTS, Fault, Faults
from accounting_conformance.reference_server.filters import Condition, QueryError, condition_sql, parse_filter
from accounting_conformance.reference_server.resources import Document
from accounting_conformance.reference_server.store import Database

__all__ = [
    "Cursor",
    "ListQuery",
    "Page",
    "QueryError",
    "Sort",
    "build_sql",
    "decode_cursor",
    "encode_cursor",
    "list_page",
    "parse_limit",
    "parse_list_query",
    "parse_millis",
    "parse_sort",
]

INVALID_SORT = "INVALID_SORT"
INVALID_CURSOR = "INVALID_CURSOR"
INVALID_LIMIT = "INVALID_LIMIT"
INVALID_PARAMETER = "INVALID_PARAMETER"

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_MILLIS = 253402300799999  # 9999-12-31T23:59:59.999Z
DEFAULT_SECRET = b"reference-server cursor integrity v1"
_MAC_BYTES = 16
_MAX_CURSOR_LENGTH = 4096
_CURSOR_CHARS = re.compile(r"[A-Za-z0-9_-]+")
_DIGITS = re.compile(r"[0-9]{1,15}")
_DEPRECATED = {
    "updated_at_min": ("updated_at_ms", ">="),
    "updated_at_max": ("updated_at_ms", "<="),
    "last_synced_at_min": ("last_synced_at_ms", ">="),
}


@dataclass(frozen=True)
class Sort:
    """A validated sort: field, its column, and direction."""

    field: str
    column: str
    descending: bool


@dataclass(frozen=True)
class Cursor:
    """The decoded position of a page boundary."""

    sort_field: str
    descending: bool
    last_value: str | int | None
    last_id: str
    filter_hash: str
    snapshot_ms: int


@dataclass(frozen=True)
class ListQuery:
    """A fully validated list request for one resource."""

    resource: Document
    conditions: tuple[Condition, ...]
    bounds: tuple[tuple[str, str, int], ...]
    sort: Sort
    limit: int
    cursor: Cursor | None
    filter_hash: str


@dataclass(frozen=True)
class Page:
    """One page of stored documents and the cursor of the next page (None on the last)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def parse_sort(resource: Document, text: str | None, *, faults: Faults = NO_FAULTS) -> Sort:
    """Parse "<field> [ASC|DESC]" (no direction = ASC; absent = updated_at DESC) for a resource."""
    fields = resource.fields
    if text is None or not text.strip():
        return Sort("updated_at", fields["updated_at"].column, True)
    parts = text.split()
    direction = parts[1].upper() if len(parts) == 2 else "ASC"
    if len(parts) > 2 or direction not in ("ASC", "DESC"):
        raise QueryError(INVALID_SORT, f'sort {text!r} must be "<field>" or "<field> ASC|DESC"')
    if parts[0] not in fields:
        raise QueryError(INVALID_SORT, f"cannot sort {resource.plural} by {parts[0]!r}; use one of {', '.join(fields)}")
    descending = direction == "DESC"
    if Fault.SORT_DIRECTION_INVERTED in faults:
        descending = direction == "ASC"
    return Sort(parts[0], fields[parts[0]].column, descending)


def parse_limit(value: str | int | None, *, faults: Faults = NO_FAULTS) -> int:
    """Parse `limit`: an integer 1..500, default 50."""
    if value is None or Fault.LIMIT_IGNORED in faults:
        return DEFAULT_LIMIT
    text = str(value)
    if isinstance(value, bool) or not _DIGITS.fullmatch(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise QueryError(INVALID_LIMIT, f"limit {text[:20]!r} must be an integer from 1 to {MAX_LIMIT}")
    return int(text)


def parse_millis(name: str, value: str | int | None) -> int | None:
    """Parse a deprecated Unix-millisecond bound (an integer 0..253402300799999), or None if absent."""
    if value is None:
        return None
    text = str(value)
    if isinstance(value, bool) or not _DIGITS.fullmatch(text) or int(text) > MAX_MILLIS:
        raise QueryError(INVALID_PARAMETER, f"{name} {text[:20]!r} must be Unix milliseconds, 0 to {MAX_MILLIS}")
    return int(text)


def _mac(payload: bytes, secret: bytes) -> bytes:
    """The truncated HMAC-SHA256 that makes cursors tamper-evident."""
    return hmac.new(secret, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode_cursor(cursor: Cursor, secret: bytes = DEFAULT_SECRET) -> str:
    """An opaque urlsafe-base64 token for a cursor."""
    payload = json.dumps(
        [
            1,
            cursor.sort_field,
            cursor.descending,
            cursor.last_value,
            cursor.last_id,
            cursor.filter_hash,
            cursor.snapshot_ms,
        ],
        separators=(",", ":"),
    ).encode()
    return base64.urlsafe_b64encode(_mac(payload, secret) + payload).rstrip(b"=").decode("ascii")


def decode_cursor(token: str, secret: bytes = DEFAULT_SECRET, *, faults: Faults = NO_FAULTS) -> Cursor:
    """Decode and authenticate a cursor token; anything this server did not issue is INVALID_CURSOR."""
    bad = QueryError(INVALID_CURSOR, "cursor is not one this server issued; copy next_cursor unchanged")
    if Fault.BAD_CURSOR_500 in faults:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))  # unchecked: garbage raises
    else:
        if len(token) > _MAX_CURSOR_LENGTH or not _CURSOR_CHARS.fullmatch(token):
            raise bad
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise bad from None
    mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(payload, secret)):
        raise bad
    try:
        version, field, descending, value, last_id, filter_hash, snapshot = json.loads(payload)
    except (ValueError, TypeError):
        raise bad from None
    if (
        version != 1
        or not isinstance(field, str)
        or not isinstance(descending, bool)
        or not isinstance(last_id, str)
        or not isinstance(filter_hash, str)
        or not isinstance(snapshot, int)
        or isinstance(snapshot, bool)
    ):
        raise bad
    return Cursor(field, descending, value, last_id, filter_hash, snapshot)


def _filter_hash(
    resource: Document, conditions: tuple[Condition, ...], bounds: tuple[tuple[str, str, int], ...]
) -> str:
    """A digest of what a list selects (resource, normalised conditions, deprecated bounds)."""
    canon = [resource.plural, [[c.field, c.op, c.value] for c in conditions], [list(b) for b in bounds]]
    return hashlib.sha256(json.dumps(canon, ensure_ascii=False).encode()).hexdigest()[:32]


def parse_list_query(
    resource: Document, params: Mapping[str, str | None], secret: bytes = DEFAULT_SECRET, *, faults: Faults = NO_FAULTS
) -> ListQuery:
    """Validate the list parameters (filter, sort, limit, cursor, deprecated bounds) for a resource."""
    conditions = parse_filter(resource, params.get("filter"), faults=faults)
    bounds = tuple(
        (column, op, ms)
        for name, (column, op) in _DEPRECATED.items()
        if (ms := parse_millis(name, params.get(name))) is not None
    )
    if Fault.UPDATED_AT_MIN_IGNORED in faults:
        bounds = ()
    sort = parse_sort(resource, params.get("sort"), faults=faults)
    limit = parse_limit(params.get("limit"), faults=faults)
    digest = _filter_hash(resource, conditions, bounds)
    token = params.get("cursor")
    cursor = None if token is None else decode_cursor(token, secret, faults=faults)
    if cursor is not None:
        if (cursor.sort_field, cursor.descending) != (sort.field, sort.descending) or cursor.filter_hash != digest:
            raise QueryError(
                INVALID_CURSOR,
                "cursor was issued for another filter or sort; repeat the original filter and sort with it",
            )
        kind = resource.fields[sort.field].kind
        if not (cursor.last_value is None or isinstance(cursor.last_value, int if kind == "instant" else str)):
            raise QueryError(INVALID_CURSOR, "cursor does not match this sort field")
    return ListQuery(resource, conditions, bounds, sort, limit, cursor, digest)


def _keyset(column: str, cursor: Cursor, faults: Faults) -> tuple[str, list[object]]:
    """Rows strictly after the cursor in (column, id) order; NULLs sort first ASC, last DESC."""
    value, last_id = cursor.last_value, cursor.last_id
    after, before = (">=", "<=") if Fault.PAGES_OVERLAP in faults else (">", "<")
    if Fault.TIES_SKIPPED_WHEN_PAGING in faults and value is not None:
        return f"({column} {'<' if cursor.descending else '>'} ?)", [value]
    if not cursor.descending:
        if value is None:
            return f"({column} IS NOT NULL OR id {after} ?)", [last_id]
        return f"({column} > ? OR ({column} = ? AND id {after} ?))", [value, value, last_id]
    if value is None:
        return f"({column} IS NULL AND id {before} ?)", [last_id]
    return f"({column} < ? OR {column} IS NULL OR ({column} = ? AND id {before} ?))", [value, value, last_id]


def build_sql(query: ListQuery, snapshot_ms: int, *, faults: Faults = NO_FAULTS) -> tuple[str, list[object]]:
    """The parameterised SELECT for one page (one row more than the limit, to detect a next page)."""
    where: list[str] = ["updated_at_ms <= ?"]
    args: list[object] = [snapshot_ms]
    for cond in () if Fault.FILTER_IGNORED in faults else query.conditions:
        sql, values = condition_sql(query.resource, cond, faults=faults)
        where.append(sql)
        args.extend(values)
    for column, op, ms in query.bounds:
        where.append(f"{column} {op} ?")
        args.append(ms)
    if query.cursor is not None:
        sql, values = _keyset(query.sort.column, query.cursor, faults)
        where.append(sql)
        args.extend(values)
    order = "DESC" if query.sort.descending else "ASC"
    column = query.sort.column
    args.append(query.limit + 1)
    return (
        f"SELECT id, {column} AS sort_value, body FROM {query.resource.table} WHERE {' AND '.join(where)} "
        f"ORDER BY {column} {order}, id {order} LIMIT ?"
    ), args


def list_page(db: Database, query: ListQuery, secret: bytes = DEFAULT_SECRET, *, faults: Faults = NO_FAULTS) -> Page:
    """Run a list query in one read snapshot and return its page and next cursor."""
    with db.read() as conn:
        if query.cursor is not None:
            snapshot = query.cursor.snapshot_ms
        else:
            snapshot = conn.execute(f"SELECT COALESCE(MAX(updated_at_ms), 0) FROM {query.resource.table}").fetchone()[0]
        sql, args = build_sql(query, snapshot, faults=faults)
        rows = conn.execute(sql, args).fetchall()
    items = [dict(json.loads(row["body"])) for row in rows[: query.limit]]
    if len(rows) <= query.limit:
        return Page(items, None)
    last = rows[0] if Fault.CURSOR_FROM_FIRST_ROW in faults else rows[query.limit - 1]
    cursor = Cursor(
        query.sort.field, query.sort.descending, last["sort_value"], last["id"], query.filter_hash, snapshot
    )
    return Page(items, encode_cursor(cursor, secret))
