"""The target's reference data (customers, vendors, accounts, items, bills), loaded and checked eagerly.

The file is JSON: `{"access_token", "connection": {id, orgId, platform}, "customers": [{id, name,
currency_code}], "vendors": [{id, name?, currency_code}], "accounts": [{id, name, type}],
"items": [{id, name}], "bills": [{id, vendor_id, currency_code, total_amount, amount_due}]}`;
`access_token` and `connection` may be left out (the run's settings supply the token). The five lists
must be present, possibly empty; lookups that find nothing fail loudly. Every problem raises
`FixturesError` naming the file and the key at fault. Amounts become `Decimal`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from accounting_conformance.conformance.resources import fixtures_path

__all__ = [
    "Account",
    "Bill",
    "Connection",
    "Fixtures",
    "FixturesError",
    "Item",
    "Party",
    "load_fixtures",
    "DEFAULT_PATH",
]

DEFAULT_PATH = fixtures_path()
_CURRENCY = re.compile(r"[A-Z]{3}")


class FixturesError(ValueError):
    """A fixtures file that cannot be used; the message names the file and the key at fault."""


@dataclass(frozen=True)
class Connection:
    """The connection the access token selects."""

    id: str
    org_id: str
    platform: str


@dataclass(frozen=True)
class Party:
    """A customer or a vendor, with the currency its documents use."""

    id: str
    name: str | None
    currency_code: str


@dataclass(frozen=True)
class Account:
    """A ledger account of the target."""

    id: str
    name: str
    type: str


@dataclass(frozen=True)
class Item:
    """A product or service item of the target."""

    id: str
    name: str


@dataclass(frozen=True)
class Bill:
    """A pre-existing bill that bill credit memos can be applied to."""

    id: str
    vendor_id: str
    currency_code: str
    total_amount: Decimal
    amount_due: Decimal


@dataclass(frozen=True)
class Fixtures:
    """Everything a run may refer to by id, with lookups that fail loudly."""

    path: Path
    access_token: str | None
    connection: Connection | None
    all_customers: tuple[Party, ...]
    all_vendors: tuple[Party, ...]
    accounts: tuple[Account, ...]
    items: tuple[Item, ...]
    bills: tuple[Bill, ...]

    def customers(self, currency: str | None = None) -> tuple[Party, ...]:
        """The customers (of `currency` if given), in file order; FixturesError if there is none."""
        return self._parties("customers", self.all_customers, currency)

    def vendors(self, currency: str | None = None) -> tuple[Party, ...]:
        """The vendors (of `currency` if given), in file order; FixturesError if there is none."""
        return self._parties("vendors", self.all_vendors, currency)

    def _parties(self, key: str, parties: tuple[Party, ...], currency: str | None) -> tuple[Party, ...]:
        """Parties of a currency, or FixturesError naming the currencies present."""
        found = tuple(p for p in parties if currency is None or p.currency_code == currency)
        if not found:
            present = sorted({p.currency_code for p in parties})
            raise FixturesError(
                f"{self.path}: {key} has no entry"
                + ("" if currency is None else f" in {currency} (currencies present: {present})")
            )
        return found

    def bills_for(self, vendor_id: str) -> tuple[Bill, ...]:
        """The bills of one vendor, in file order (empty if it has none)."""
        return tuple(b for b in self.bills if b.vendor_id == vendor_id)

    @property
    def bill_ids(self) -> frozenset[str]:
        """The ids of every bill."""
        return frozenset(b.id for b in self.bills)

    def accounts_of(self, type: str) -> tuple[Account, ...]:
        """The accounts of one type (e.g. `bank`), in file order."""
        return tuple(a for a in self.accounts if a.type == type)

    def account(self, type: str) -> Account:
        """The first account of a type; FixturesError naming the file if there is none."""
        found = self.accounts_of(type)
        if not found:
            known = sorted({a.type for a in self.accounts})
            raise FixturesError(f"{self.path}: accounts has no account of type {type!r} (types present: {known})")
        return found[0]


class _Reader:
    """Typed access to the parsed JSON that names the file and the key path in every error."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> FixturesError:
        """An error naming the file, the key path and the problem."""
        return FixturesError(f"{self.path}: {where} {problem}")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        """The value as a JSON object."""
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a JSON object, got {type(value).__name__}")
        return value

    def text(self, record: dict[str, Any], key: str, where: str, *, optional: bool = False) -> Any:
        """A non-empty string under key (None if optional and absent or null)."""
        if key not in record:
            if optional:
                return None
            raise self.fail(f"{where}.{key}", "is missing")
        value = record[key]
        if (value is None and optional) or (isinstance(value, str) and value):
            return value
        raise self.fail(f"{where}.{key}", f"must be a non-empty string, got {value!r}")

    def currency(self, record: dict[str, Any], where: str) -> str:
        """The record's `currency_code`, three capital letters."""
        code = self.text(record, "currency_code", where)
        if not _CURRENCY.fullmatch(code):
            raise self.fail(f"{where}.currency_code", f"must be a 3-letter ISO 4217 code, got {code!r}")
        return str(code)

    def amount(self, record: dict[str, Any], key: str, where: str) -> Decimal:
        """A non-negative exact amount (decimal string or JSON number) under key."""
        if key not in record:
            raise self.fail(f"{where}.{key}", "is missing")
        value = record[key]
        try:
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise InvalidOperation
            amount = Decimal(str(value))
        except InvalidOperation:
            raise self.fail(f"{where}.{key}", f"must be a decimal string or number, got {value!r}") from None
        if not amount.is_finite() or amount < 0:
            raise self.fail(f"{where}.{key}", f"must be a finite amount >= 0, got {value!r}")
        return amount

    def records(self, data: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
        """The objects of a top-level list, each with its key path; ids must be unique."""
        if key not in data:
            raise self.fail(key, "is missing (use [] if the target has none)")
        if not isinstance(data[key], list):
            raise self.fail(key, f"must be a JSON array, got {type(data[key]).__name__}")
        found = [(f"{key}[{i}]", self.obj(r, f"{key}[{i}]")) for i, r in enumerate(data[key])]
        seen: set[str] = set()
        for where, record in found:
            ident = self.text(record, "id", where)
            if ident in seen:
                raise self.fail(f"{where}.id", f"repeats id {ident!r}")
            seen.add(ident)
        return found


def _connection(reader: _Reader, data: dict[str, Any]) -> Connection | None:
    """The optional `connection` object (the run's settings supply the token when the file does not)."""
    if data.get("connection") is None:
        return None
    conn = reader.obj(data["connection"], "connection")
    return Connection(
        reader.text(conn, "id", "connection"),
        reader.text(conn, "orgId", "connection"),
        reader.text(conn, "platform", "connection"),
    )


def _parse(reader: _Reader, data: dict[str, Any]) -> Fixtures:
    """Build Fixtures from the parsed document, checking every key."""
    customers = tuple(
        Party(reader.text(r, "id", w), reader.text(r, "name", w), reader.currency(r, w))
        for w, r in reader.records(data, "customers")
    )
    vendors = tuple(
        Party(reader.text(r, "id", w), reader.text(r, "name", w, optional=True), reader.currency(r, w))
        for w, r in reader.records(data, "vendors")
    )
    accounts = tuple(
        Account(reader.text(r, "id", w), reader.text(r, "name", w), reader.text(r, "type", w))
        for w, r in reader.records(data, "accounts")
    )
    items = tuple(Item(reader.text(r, "id", w), reader.text(r, "name", w)) for w, r in reader.records(data, "items"))
    vendor_ids = {v.id for v in vendors}
    bills = []
    for where, record in reader.records(data, "bills"):
        bill = Bill(
            reader.text(record, "id", where),
            reader.text(record, "vendor_id", where),
            reader.currency(record, where),
            reader.amount(record, "total_amount", where),
            reader.amount(record, "amount_due", where),
        )
        if bill.vendor_id not in vendor_ids:
            raise reader.fail(f"{where}.vendor_id", f"{bill.vendor_id!r} is not the id of any vendor")
        if bill.amount_due > bill.total_amount:
            raise reader.fail(f"{where}.amount_due", f"{bill.amount_due} exceeds total_amount {bill.total_amount}")
        bills.append(bill)
    token = reader.text(data, "access_token", "the top level", optional=True)
    return Fixtures(reader.path, token, _connection(reader, data), customers, vendors, accounts, items, tuple(bills))


def load_fixtures(path: str | Path | None = None) -> Fixtures:
    """Load and check a fixtures file (None: the reference server's); FixturesError says what is wrong."""
    source = Path(path) if path is not None else DEFAULT_PATH
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixturesError(f"{source}: cannot read the fixtures file ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FixturesError(f"{source}: not valid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})") from None
    reader = _Reader(source)
    return _parse(reader, reader.obj(data, "the top level"))
