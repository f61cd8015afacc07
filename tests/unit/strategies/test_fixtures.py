"""conformance.fixtures: the reference data loads, looks things up, and every defect is named eagerly."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from accounting_conformance.conformance.fixtures import DEFAULT_PATH, Fixtures, FixturesError, load_fixtures


def _document() -> dict[str, Any]:
    return {
        "access_token": "tok",
        "connection": {"id": "c1", "orgId": "o1", "platform": "NETSUITE"},
        "customers": [
            {"id": "cu1", "name": "A", "currency_code": "USD"},
            {"id": "cu2", "name": "B", "currency_code": "EUR"},
        ],
        "vendors": [{"id": "v1", "currency_code": "USD"}],
        "accounts": [{"id": "a1", "name": "Bank", "type": "bank"}],
        "items": [{"id": "i1", "name": "Thing"}],
        "bills": [{"id": "b1", "vendor_id": "v1", "currency_code": "USD", "total_amount": "10.00", "amount_due": 4.5}],
    }


def _write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "fixtures.json"
    path.write_text(json.dumps(document))
    return path


def test_the_reference_servers_fixtures_load_by_default() -> None:
    fixtures = load_fixtures(None)
    assert fixtures.path == DEFAULT_PATH
    assert fixtures.customers() and fixtures.vendors() and fixtures.bills and fixtures.items
    assert all(isinstance(b.amount_due, Decimal) for b in fixtures.bills)
    assert all(fixtures.bills_for(v.id) for v in fixtures.vendors())


def test_lookups_select_by_currency_vendor_and_account_type(tmp_path: Path) -> None:
    fixtures = load_fixtures(str(_write(tmp_path, _document())))
    assert [c.id for c in fixtures.customers("EUR")] == ["cu2"]
    assert [c.id for c in fixtures.customers()] == ["cu1", "cu2"]
    assert [v.id for v in fixtures.vendors("USD")] == ["v1"]
    assert fixtures.vendors("USD")[0].name is None
    assert [b.id for b in fixtures.bills_for("v1")] == ["b1"] and fixtures.bills_for("nobody") == ()
    assert fixtures.bill_ids == frozenset({"b1"})
    assert fixtures.bills[0].amount_due == Decimal("4.5")
    assert fixtures.account("bank").id == "a1"
    assert fixtures.connection is not None and fixtures.connection.org_id == "o1"


def test_a_lookup_that_finds_nothing_names_the_file_and_what_is_present(tmp_path: Path) -> None:
    fixtures = load_fixtures(_write(tmp_path, _document()))
    with pytest.raises(FixturesError, match=r"fixtures\.json: vendors has no entry in JPY .*\['USD'\]"):
        fixtures.vendors("JPY")
    with pytest.raises(FixturesError, match=r"no account of type 'income' \(types present: \['bank'\]\)"):
        fixtures.account("income")


def test_token_and_connection_may_be_left_out(tmp_path: Path) -> None:
    document = _document()
    del document["access_token"], document["connection"]
    fixtures = load_fixtures(_write(tmp_path, document))
    assert isinstance(fixtures, Fixtures) and fixtures.access_token is None and fixtures.connection is None


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FixturesError, match=r"nope\.json: cannot read the fixtures file"):
        load_fixtures(tmp_path / "nope.json")


def test_malformed_json_is_located(tmp_path: Path) -> None:
    path = tmp_path / "fixtures.json"
    path.write_text('{\n  "customers": [,]\n}')
    with pytest.raises(FixturesError, match=r"not valid JSON at line 2 column"):
        load_fixtures(path)


@pytest.mark.parametrize("key", ["customers", "vendors", "accounts", "items", "bills"])
def test_a_missing_list_is_named(tmp_path: Path, key: str) -> None:
    document = _document()
    del document[key]
    with pytest.raises(FixturesError, match=rf"fixtures\.json: {key} is missing"):
        load_fixtures(_write(tmp_path, document))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["customers"][1].pop("currency_code"), r"customers\[1\]\.currency_code is missing"),
        (lambda d: d["customers"][0].update(currency_code="usd"), r"customers\[0\]\.currency_code must be a 3-letter"),
        (lambda d: d["customers"][0].update(name=""), r"customers\[0\]\.name must be a non-empty string"),
        (lambda d: d["accounts"][0].pop("type"), r"accounts\[0\]\.type is missing"),
        (lambda d: d["items"].append({"id": "i1", "name": "Again"}), r"items\[1\]\.id repeats id 'i1'"),
        (
            lambda d: d["bills"][0].update(vendor_id="ghost"),
            r"bills\[0\]\.vendor_id 'ghost' is not the id of any vendor",
        ),
        (lambda d: d["bills"][0].update(total_amount="ten"), r"bills\[0\]\.total_amount must be a decimal"),
        (lambda d: d["bills"][0].update(amount_due="-1"), r"bills\[0\]\.amount_due must be a finite amount >= 0"),
        (lambda d: d["bills"][0].update(amount_due="11"), r"bills\[0\]\.amount_due 11 exceeds total_amount 10\.00"),
        (lambda d: d["connection"].pop("orgId"), r"connection\.orgId is missing"),
        (lambda d: d.update(vendors={}), r"vendors must be a JSON array, got dict"),
        (lambda d: d.update(access_token=7), r"access_token must be a non-empty string"),
    ],
)
def test_each_bad_value_is_named_with_its_key_path(tmp_path: Path, mutate: Any, message: str) -> None:
    document = _document()
    mutate(document)
    with pytest.raises(FixturesError, match=message):
        load_fixtures(_write(tmp_path, document))


def test_a_top_level_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FixturesError, match=r"the top level must be a JSON object, got list"):
        load_fixtures(_write(tmp_path, []))
