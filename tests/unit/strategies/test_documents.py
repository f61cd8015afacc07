"""strategies.documents: every body the strategies make is valid under the contract and fits the fixtures."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis.errors import InvalidArgument

from accounting_conformance.strategies import documents
from accounting_conformance.strategies.money import minor_unit
from tests.unit.strategies.spec_helpers import errors, reference_fixtures

TAG = "cst-1f-0a0b0c"
FIND = settings(max_examples=300, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
#: (kind, is an update) -> (request schema, party field)
STRATEGIES: dict[tuple[str, bool], tuple[str, str]] = {
    ("invoice_credit_memo", False): ("InvoiceCreditMemoCreateRequest", "customer_id"),
    ("bill_credit_memo", False): ("BillCreditMemoCreateRequest", "vendor_id"),
    ("invoice", False): ("InvoiceCreateRequest", "customer_id"),
    ("customer_refund", False): ("CustomerRefundCreateRequest", "customer_id"),
    ("invoice_credit_memo", True): ("InvoiceCreditMemoUpdateRequest", "customer_id"),
    ("bill_credit_memo", True): ("BillCreditMemoUpdateRequest", "vendor_id"),
    ("invoice", True): ("InvoiceUpdateRequest", "customer_id"),
}


def _name(which: tuple[str, bool]) -> str:
    return f"{which[0]}_{'updates' if which[1] else 'creates'}"


def _make(which: tuple[str, bool]) -> Callable[..., Any]:
    kind, update = which
    return lambda **options: (documents.updates if update else documents.creates)(kind, **options)


@pytest.mark.parametrize("which", list(STRATEGIES), ids=_name)
def test_every_body_validates_against_its_request_schema(which: tuple[str, bool]) -> None:
    schema = STRATEGIES[which][0]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=_make(which)(fixtures=reference_fixtures(), tag=TAG))
    def check(body: dict[str, Any]) -> None:
        assert errors(schema, body) == []

    check()


def _lines_total(attrs: dict[str, Any]) -> Decimal:
    return sum((Decimal(str(line["total_amount"])) for line in attrs["line_items"]), Decimal(0))


@pytest.mark.parametrize("which", [w for w in STRATEGIES if not w[1]], ids=_name)
def test_creates_carry_the_tag_and_a_party_and_lines_of_the_documents_currency(which: tuple[str, bool]) -> None:
    key, party_field = which[0], STRATEGIES[which][1]
    fixtures = reference_fixtures()
    parties = {p.id: p for p in (fixtures.vendors() if party_field == "vendor_id" else fixtures.customers())}

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=documents.creates(key, fixtures=fixtures, tag=TAG))
    def check(body: dict[str, Any]) -> None:
        attrs = body[key]
        assert attrs["document_number"].startswith(f"{TAG}-g")
        assert key == "customer_refund" or TAG in attrs["memo"]
        currency = parties[attrs[party_field]].currency_code
        assert attrs.get("currency_code", currency) == currency
        assert all(Decimal(str(line["total_amount"])) % minor_unit(currency) == 0 for line in attrs["line_items"])
        assert _lines_total(attrs) > 0

    check()


def test_a_currency_given_fixes_the_party_and_the_minor_units() -> None:
    fixtures = reference_fixtures()
    yen = {c.id for c in fixtures.customers("JPY")}
    strategy = documents.creates("invoice", fixtures=fixtures, tag=TAG, currency="JPY", spelling="string")
    body = find(strategy, lambda b: len(b["invoice"]["line_items"]) == 3, settings=FIND)["invoice"]
    assert body["customer_id"] in yen and body["currency_code"] == "JPY"
    assert all(line["total_amount"].isdigit() for line in body["line_items"])


def test_updates_in_a_currency_name_only_parties_of_that_currency() -> None:
    fixtures = reference_fixtures()
    euro = {v.id for v in fixtures.vendors("EUR")}
    strategy = documents.updates("bill_credit_memo", fixtures=fixtures, tag=TAG, currency="EUR")
    body = find(strategy, lambda b: "vendor_id" in b["bill_credit_memo"], settings=FIND)["bill_credit_memo"]
    assert body["vendor_id"] in euro and body["currency_code"] == "EUR"


def test_updates_shrink_to_the_empty_update_and_creates_to_one_line() -> None:
    fixtures = reference_fixtures()
    assert find(documents.updates("invoice", fixtures=fixtures, tag=TAG), lambda b: True) == {"invoice": {}}
    body = find(documents.creates("invoice_credit_memo", fixtures=fixtures, tag=TAG), lambda b: True)
    assert body["invoice_credit_memo"]["line_items"] == [{"total_amount": "0.01"}]


def test_lines_reach_items_with_quantity_times_unit_amount_equal_to_the_total() -> None:
    def has_priced_item(body: dict[str, Any]) -> bool:
        return any(
            "quantity" in line.get("item", {}) and line["item"]["quantity"] > 1
            for line in body["invoice_credit_memo"]["line_items"]
        )

    body = find(
        documents.creates("invoice_credit_memo", fixtures=reference_fixtures(), tag=TAG), has_priced_item, settings=FIND
    )
    for line in body["invoice_credit_memo"]["line_items"]:
        if "quantity" in line.get("item", {}):
            item = line["item"]
            assert Decimal(str(item["unit_amount"])) * item["quantity"] == Decimal(str(line["total_amount"]))


def test_line_totals_reach_both_json_spellings() -> None:
    strategy = documents.creates("bill_credit_memo", fixtures=reference_fixtures(), tag=TAG)
    for kind in (str, float):
        find(
            strategy,
            lambda b, kind=kind: any(
                isinstance(line["total_amount"], kind) for line in b["bill_credit_memo"]["line_items"]
            ),
            settings=FIND,
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"currency": "GBP"}, r"has no customer in GBP \(currencies present: \['EUR', 'JPY', 'USD'\]\)"),
        ({"currency": "gbp"}, r"not an ISO 4217 code"),
        ({"tag": ""}, r"tag='' must be a non-blank string"),
        ({"tag": "x" * 201}, r"at most 200 characters"),
        ({"max_lines": 0}, r"max_lines=0 must be an integer from 1 to 100"),
        ({"spelling": "roman"}, r"spelling='roman'"),
        ({"fixtures": {"customers": []}}, r"must be a conformance\.fixtures\.Fixtures"),
    ],
)
def test_bad_options_fail_when_the_strategy_is_made(kwargs: dict[str, Any], message: str) -> None:
    options: dict[str, Any] = {"fixtures": reference_fixtures(), "tag": TAG, **kwargs}
    with pytest.raises(InvalidArgument, match=message):
        documents.creates("invoice_credit_memo", **options)


def test_a_vendor_currency_missing_from_the_fixtures_fails_when_the_strategy_is_made() -> None:
    with pytest.raises(InvalidArgument, match=r"has no vendor in JPY"):
        documents.creates("bill_credit_memo", fixtures=reference_fixtures(), tag=TAG, currency="JPY")


def test_an_unknown_kind_or_an_update_the_contract_lacks_fails_when_the_strategy_is_made() -> None:
    with pytest.raises(InvalidArgument, match=r"kind='bill' must be one of"):
        documents.creates("bill", fixtures=reference_fixtures(), tag=TAG)
    with pytest.raises(InvalidArgument, match=r"no update of a customer_refund"):
        documents.updates("customer_refund", fixtures=reference_fixtures(), tag=TAG)
