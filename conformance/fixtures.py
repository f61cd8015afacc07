"""The target's reference data (FIXTURES): customers, vendors, accounts, items and bills the suite may use."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.settings import DEFAULT_FIXTURES


class FixturesError(ValueError):
    """The fixtures file is missing, not JSON, or lacks something the suite needs."""


@dataclass(frozen=True)
class Party:
    """A customer or a vendor."""

    id: str
    name: str
    currency_code: str


@dataclass(frozen=True)
class Account:
    """A ledger account."""

    id: str
    name: str
    type: str


@dataclass(frozen=True)
class Item:
    """A product or service."""

    id: str
    name: str


@dataclass(frozen=True)
class Bill:
    """A vendor bill with an open amount that bill credit can be applied to."""

    id: str
    vendor_id: str
    currency_code: str
    total_amount: str
    amount_due: str


@dataclass(frozen=True)
class Fixtures:
    """Everything a create or application request may refer to on the target."""

    source: str
    all_customers: tuple[Party, ...]
    all_vendors: tuple[Party, ...]
    accounts: tuple[Account, ...]
    items: tuple[Item, ...]
    bills: tuple[Bill, ...]

    @property
    def bill_ids(self) -> frozenset[str]:
        """The ids of every bill."""
        return frozenset(bill.id for bill in self.bills)

    def customers(self, currency: str | None = None) -> list[Party]:
        """Customers, optionally of one currency; fails clearly when there is none."""
        found = [c for c in self.all_customers if currency is None or c.currency_code == currency]
        if not found:
            raise FixturesError(f"{self.source}: no customer{'' if currency is None else ' in ' + currency}")
        return found

    def vendors(self, currency: str | None = None) -> list[Party]:
        """Vendors, optionally of one currency; fails clearly when there is none."""
        found = [v for v in self.all_vendors if currency is None or v.currency_code == currency]
        if not found:
            raise FixturesError(f"{self.source}: no vendor{'' if currency is None else ' in ' + currency}")
        return found

    def bills_for(self, vendor_id: str) -> list[Bill]:
        """The bills of one vendor."""
        return [bill for bill in self.bills if bill.vendor_id == vendor_id]

    def account(self, kind: str) -> Account:
        """The first account of a type (accounts_receivable, accounts_payable, bank, income)."""
        for account in self.accounts:
            if account.type == kind:
                return account
        raise FixturesError(f"{self.source}: no account of type {kind!r}")


def _rows(data: dict[str, Any], key: str, fields: tuple[str, ...], source: str) -> list[dict[str, str]]:
    rows = data.get(key)
    if not isinstance(rows, list) or not rows:
        raise FixturesError(f"{source}: {key!r} must be a non-empty list")
    for index, row in enumerate(rows):
        missing = [f for f in fields if not isinstance(row, dict) or not isinstance(row.get(f), str)]
        if missing:
            raise FixturesError(f"{source}: {key}[{index}] lacks {', '.join(missing)} (strings)")
    return rows


def load_fixtures(path: str | Path | None = None) -> Fixtures:
    """Read and check a fixtures file (default: the reference server's)."""
    source = Path(path) if path is not None else DEFAULT_FIXTURES
    try:
        data = json.loads(source.read_text())
    except OSError as exc:
        raise FixturesError(f"cannot read fixtures file {source}: {exc.strerror}") from None
    except ValueError as exc:
        raise FixturesError(f"fixtures file {source} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise FixturesError(f"{source}: the top level must be an object")
    name = str(source)
    party = ("id", "name", "currency_code")
    return Fixtures(
        source=name,
        all_customers=tuple(Party(r["id"], r["name"], r["currency_code"]) for r in _rows(data, "customers", party, name)),
        all_vendors=tuple(Party(r["id"], r["name"], r["currency_code"]) for r in _rows(data, "vendors", party, name)),
        accounts=tuple(Account(r["id"], r["name"], r["type"]) for r in _rows(data, "accounts", ("id", "name", "type"), name)),
        items=tuple(Item(r["id"], r["name"]) for r in _rows(data, "items", ("id", "name"), name)),
        bills=tuple(Bill(r["id"], r["vendor_id"], r["currency_code"], r["total_amount"], r["amount_due"])
                    for r in _rows(data, "bills", ("id", "vendor_id", "currency_code", "total_amount", "amount_due"), name)),
    )
