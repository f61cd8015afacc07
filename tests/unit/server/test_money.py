"""Money parsing, formatting and currency validation."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounting_conformance.reference_server import money
from accounting_conformance.reference_server.money import MoneyError, format_amount, parse_amount


@pytest.mark.parametrize("value", ["14.34", 14.34, Decimal("14.34"), "14.340", Decimal("1434E-2")])
def test_string_and_number_spellings_parse_to_the_same_decimal(value: object) -> None:
    assert parse_amount(value) == Decimal("14.34")


def test_integers_parse_exactly() -> None:
    assert parse_amount(3) == Decimal(3)
    assert parse_amount("9007199254740992") == Decimal(2**53)


@pytest.mark.parametrize("value", ["1e5", "1E5", "1.2e-3", "1E+2", "NaN", "nan", "Infinity", "-Infinity", "inf"])
def test_exponent_and_non_finite_strings_are_rejected(value: str) -> None:
    with pytest.raises(MoneyError) as info:
        parse_amount(value)
    assert info.value.code == money.INVALID_AMOUNT


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("Infinity")])
def test_non_finite_numbers_are_rejected(value: object) -> None:
    with pytest.raises(MoneyError) as info:
        parse_amount(value)
    assert info.value.code == money.INVALID_AMOUNT


@pytest.mark.parametrize(
    "value", ["", " 1", "1 ", "+1", "1.", ".5", "1,000", "1_000", "0x10", "12.34.5", "\u0661\u0662", "1" * 41, "--1"]
)
def test_malformed_strings_are_rejected(value: str) -> None:
    with pytest.raises(MoneyError) as info:
        parse_amount(value)
    assert info.value.code == money.INVALID_AMOUNT


@pytest.mark.parametrize("value", [True, False, None, [1], {"a": 1}, b"1"])
def test_non_amount_types_are_rejected(value: object) -> None:
    with pytest.raises(MoneyError) as info:
        parse_amount(value)
    assert info.value.code == money.INVALID_AMOUNT


@pytest.mark.parametrize("value", ["9007199254740993", 2**53 + 1, -(2**53) - 1, 1e16, Decimal("1E+400")])
def test_magnitudes_above_2_pow_53_are_rejected(value: object) -> None:
    with pytest.raises(MoneyError) as info:
        parse_amount(value)
    assert info.value.code == money.AMOUNT_OUT_OF_RANGE


def test_amounts_keep_every_decimal_place() -> None:
    assert parse_amount("1.23456") == Decimal("1.23456")


def test_negative_zero_normalises_to_zero() -> None:
    assert format_amount(parse_amount("-0.00")) == "0"


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("14.34", "14.34"),
        ("14.340", "14.34"),
        ("3.00", "3"),
        ("1E+2", "100"),
        ("0E-8", "0"),
        ("-1.50", "-1.5"),
        ("0.001", "0.001"),
        ("9007199254740992", "9007199254740992"),
    ],
)
def test_format_amount_writes_plain_decimal_text(amount: str, text: str) -> None:
    assert format_amount(Decimal(amount)) == text


def test_dumps_writes_decimals_as_exact_number_literals() -> None:
    text = money.dumps({"a": Decimal("0.10"), "b": [Decimal("123456789012345.67"), "x", None, True, 2]})
    assert text == '{"a":0.1,"b":[123456789012345.67,"x",null,true,2]}'
    assert json.loads(text, parse_float=Decimal)["b"][0] == Decimal("123456789012345.67")


def test_dumps_refuses_non_string_keys() -> None:
    with pytest.raises(TypeError):
        money.dumps({1: "x"})


def test_loads_keeps_decimals_and_rejects_nan() -> None:
    assert money.loads('{"a": 1.10, "b": 3}') == {"a": Decimal("1.10"), "b": 3}
    with pytest.raises(ValueError):
        money.loads('{"a": NaN}')


@pytest.mark.parametrize("code", ["USD", "EUR", "JPY", "KWD", "CHF", "XCG", "ZWG"])
def test_active_iso_4217_codes_are_accepted(code: str) -> None:
    assert money.validate_currency(code) == code


@pytest.mark.parametrize("code", ["usd", "US", "USDD", "ABC", "XYZ", "DEM", "HRK", " USD", None, 840])
def test_other_currency_codes_are_rejected(code: object) -> None:
    with pytest.raises(MoneyError) as info:
        money.validate_currency(code)
    assert info.value.code == money.INVALID_CURRENCY


def test_currency_list_is_the_full_active_list() -> None:
    assert len(money.ISO_4217_CODES) == 182
    assert all(len(code) == 3 and code.isupper() for code in money.ISO_4217_CODES)


@given(st.decimals(min_value=-(10**13), max_value=10**13, places=2, allow_nan=False, allow_infinity=False))
def test_formatted_amounts_parse_back_to_the_same_value(amount: Decimal) -> None:
    assert parse_amount(format_amount(amount)) == amount
    assert parse_amount(money.loads(money.dumps(amount))) == amount
