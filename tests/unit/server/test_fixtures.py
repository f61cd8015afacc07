"""The seed data the server loads and the conformance suite reads as its default FIXTURES."""

from __future__ import annotations

import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from accounting_conformance.reference_server import money
from accounting_conformance.reference_server.store import load_fixtures

FIXTURES = load_fixtures()


def all_ids(data: Any) -> list[str]:
    """Every `id` / `orgId` value in the fixtures."""
    if isinstance(data, dict):
        found = [v for k, v in data.items() if k in ("id", "orgId")]
        return found + [i for v in data.values() for i in all_ids(v)]
    if isinstance(data, list):
        return [i for v in data for i in all_ids(v)]
    return []


def test_access_token_is_the_documented_default() -> None:
    assert FIXTURES["access_token"] == "00000000-0000-4000-8000-000000000000"
    assert FIXTURES["connection"]["platform"] == "NETSUITE"


def test_every_id_is_a_unique_uuid() -> None:
    ids = all_ids(FIXTURES)
    assert len(ids) == len(set(ids))
    for value in ids:
        assert str(uuid.UUID(value)) == value


def test_customers_cover_usd_eur_and_jpy() -> None:
    counts = Counter(c["currency_code"] for c in FIXTURES["customers"])
    assert counts["USD"] >= 3 and counts["EUR"] >= 1 and counts["JPY"] >= 1


def test_vendors_cover_usd_and_eur() -> None:
    counts = Counter(v["currency_code"] for v in FIXTURES["vendors"])
    assert counts["USD"] >= 3 and counts["EUR"] >= 1


@pytest.mark.parametrize("kind", ["accounts_receivable", "accounts_payable", "bank", "income"])
def test_accounts_include_each_needed_type(kind: str) -> None:
    assert any(a["type"] == kind for a in FIXTURES["accounts"])


def test_there_are_three_items() -> None:
    assert len(FIXTURES["items"]) >= 3 and all(i["name"] for i in FIXTURES["items"])


def test_every_vendor_has_three_large_open_bills_in_its_currency() -> None:
    vendors = {v["id"]: v for v in FIXTURES["vendors"]}
    per_vendor = Counter(b["vendor_id"] for b in FIXTURES["bills"])
    assert set(per_vendor) == set(vendors) and min(per_vendor.values()) >= 3
    for bill in FIXTURES["bills"]:
        assert bill["currency_code"] == vendors[bill["vendor_id"]]["currency_code"]
        due = money.parse_amount(bill["amount_due"])
        assert due == money.parse_amount(bill["total_amount"]) and due >= Decimal("1000000")


def test_currencies_are_valid_iso_4217() -> None:
    for row in FIXTURES["customers"] + FIXTURES["vendors"] + FIXTURES["bills"]:
        money.validate_currency(row["currency_code"])
