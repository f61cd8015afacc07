"""strategies.money: amounts sit on the currency grid, reach their boundaries, and spell exactly."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from accounting_conformance.strategies.money import (
    CURRENCY_CODES,
    amounts,
    currencies,
    minor_unit,
    minor_units,
    spelled,
)
from tests.unit.strategies.spec_helpers import errors, spec

FIND = settings(max_examples=400, database=None, derandomize=True, suppress_health_check=list(HealthCheck))


def test_the_currency_list_is_the_contracts_enum() -> None:
    assert set(CURRENCY_CODES) == set(spec()["components"]["schemas"]["CurrencyCodeEnum"]["enum"])
    assert len(CURRENCY_CODES) == len(set(CURRENCY_CODES)) and CURRENCY_CODES[0] == "USD"


@pytest.mark.parametrize(
    ("currency", "places"),
    [
        ("USD", 2),
        ("EUR", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("OMR", 3),
        ("JOD", 3),
        ("TND", 3),
        ("CLF", 4),
    ],
)
def test_minor_units_follow_iso_4217(currency: str, places: int) -> None:
    assert minor_units(currency) == places
    assert minor_unit(currency) == Decimal(1).scaleb(-places)


@settings(max_examples=60)
@given(data=st.data(), currency=currencies())
def test_amounts_lie_within_bounds_on_the_currency_grid(data: st.DataObject, currency: str) -> None:
    amount = data.draw(amounts(currency=currency, min_value=Decimal("0.5"), max_value=Decimal("2500")))
    assert isinstance(amount, Decimal)
    assert Decimal("0.5") <= amount <= Decimal("2500")
    assert amount.as_tuple().exponent == -minor_units(currency)
    assert amount % minor_unit(currency) == 0


@pytest.mark.parametrize(
    ("currency", "low", "high", "boundary"),
    [
        ("USD", "0.01", "100000", "0.01"),
        ("USD", "0.01", "100000", "100000.00"),
        ("USD", "5", "9", "5.00"),
        ("USD", "5", "9", "9.00"),
        ("JPY", "0.01", "100000", "1"),
        ("KWD", "0.01", "1", "0.010"),
        ("KWD", "0", "1", "0.001"),
        ("USD", "0", "100", "99.99"),
        ("USD", "0", "100", "0.01"),
    ],
)
def test_amounts_reach_their_boundaries(currency: str, low: str, high: str, boundary: str) -> None:
    strategy = amounts(currency=currency, min_value=Decimal(low), max_value=Decimal(high))
    assert find(strategy, lambda a: a == Decimal(boundary), settings=FIND) == Decimal(boundary)


def test_amounts_shrink_towards_the_minimum() -> None:
    assert find(amounts(currency="JPY", min_value=Decimal("12.5")), lambda a: True, settings=FIND) == Decimal(13)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: amounts(currency="usd"), "not an ISO 4217 code"),
        (lambda: amounts(currency="XYZ"), "not an ISO 4217 code"),
        (lambda: amounts(min_value=Decimal(5), max_value=Decimal(1)), "greater than max_value"),
        (lambda: amounts(min_value=0.01), "never a float"),  # type: ignore[arg-type]
        (lambda: amounts(max_value=Decimal("NaN")), "finite"),
        (lambda: amounts(min_value=Decimal(-1)), "must not be negative"),
        (lambda: amounts(currency="JPY", min_value=Decimal("0.2"), max_value=Decimal("0.8")), "no JPY amount"),
        (lambda: spelled(1.5, spelling="string"), "never a float"),  # type: ignore[arg-type]
        (lambda: spelled(Decimal(1), spelling="words"), "spelling='words'"),  # type: ignore[arg-type]
        (lambda: currencies(among=[]), "non-empty sequence"),
        (lambda: currencies(among="USD"), "non-empty sequence"),
        (lambda: currencies(among=["USD", "EURO"]), "EURO"),
    ],
)
def test_bad_options_fail_when_the_strategy_is_made(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        call()


def _value(spelling: str | int | float) -> Decimal:
    """The exact decimal a JSON text denotes, as a JSON parser with exact decimals reads it."""
    return Decimal(json.dumps(spelling).strip('"'))


@settings(max_examples=80, deadline=None)
@given(
    data=st.data(),
    currency=currencies(among=["USD", "JPY", "KWD", "CLF"]),
    spelling=st.sampled_from(["string", "number", "either"]),
)
def test_every_spelling_denotes_exactly_the_amount(data: st.DataObject, currency: str, spelling: Any) -> None:
    amount = data.draw(amounts(currency=currency, max_value=Decimal("999999999.9999")))
    shown = data.draw(spelled(amount, spelling=spelling))
    assert _value(shown) == amount
    assert not isinstance(shown, bool)
    if spelling == "string":
        assert isinstance(shown, str)
    assert errors("AmountInput", shown) == []


def test_number_spelling_is_an_int_when_integral_and_a_float_only_when_exact() -> None:
    assert find(spelled(Decimal("12.00"), spelling="number"), lambda s: True) == 12
    assert find(spelled(Decimal("0.1"), spelling="number"), lambda s: True) == 0.1
    inexact = Decimal("12345678901234567.89")
    assert find(spelled(inexact, spelling="number"), lambda s: True) == "12345678901234567.89"


def test_string_spelling_reaches_the_form_without_trailing_zeros() -> None:
    assert find(spelled(Decimal("12.30"), spelling="string"), lambda s: s != "12.30", settings=FIND) == "12.3"
    assert find(spelled(Decimal("7.00"), spelling="either"), lambda s: isinstance(s, int), settings=FIND) == 7


def test_currencies_keep_to_the_given_codes_and_shrink_to_the_first() -> None:
    assert find(currencies(among=["EUR", "JPY", "EUR"]), lambda c: True) == "EUR"
    assert find(currencies(among=["EUR", "JPY"]), lambda c: c != "EUR", settings=FIND) == "JPY"
    assert find(currencies(), lambda c: True) == "USD"


@settings(max_examples=500, deadline=None)
@given(units=st.integers(min_value=1, max_value=10**15 - 1))
def test_every_amount_within_the_contracts_bounds_survives_a_double_round_trip(units: int) -> None:
    # "Adopted rule: amount bounds": below 10^11 with at most 4 decimal places, an IEEE double and its shortest
    # re-serialisation (JavaScript's, Python's repr) write the same decimal back
    amount = Decimal(units).scaleb(-4)
    assert Decimal(repr(float(amount))) == amount
    assert Decimal(json.dumps(json.loads(str(amount)))) == amount


def test_an_amount_beyond_the_bounds_does_not_survive_a_double() -> None:
    beyond = Decimal("3156237615593.276715")  # 19 significant digits, as sums of the old bounds could reach
    assert Decimal(repr(float(beyond))) != beyond
