"""Exact money: parse request amounts (at any precision, never rounded), validate currencies, format both spellings.

Requests may spell an amount as a JSON number or a decimal string; responses use decimal strings
(invoice credit memos, invoices) or JSON numbers (bill credit memos, customer refunds). Everything in
between is `decimal.Decimal`; binary floats are never used for arithmetic.
"""

from __future__ import annotations

import decimal
import json
import math
import re
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from accounting_conformance.reference_server.faults import NO_FAULTS, Fault, Faults

__all__ = [
    "AMOUNT_OUT_OF_RANGE",
    "INVALID_AMOUNT",
    "INVALID_CURRENCY",
    "ISO_4217_CODES",
    "MAX_ABS_AMOUNT",
    "MoneyError",
    "check_range",
    "dumps",
    "format_amount",
    "loads",
    "parse_amount",
    "validate_currency",
]

INVALID_AMOUNT = "INVALID_AMOUNT"
AMOUNT_OUT_OF_RANGE = "AMOUNT_OUT_OF_RANGE"
INVALID_CURRENCY = "INVALID_CURRENCY"

#: Largest accepted magnitude: 2**53, the edge of exact integers in IEEE doubles (I-JSON, RFC 7493).
SPEC_PATH = Path(str(files("accounting_conformance.openapi") / "openapi.yaml"))  # package data of the wheel
MAX_ABS_AMOUNT = Decimal(2**53)
# Amounts are exact at any precision (the contract allows tiny JSON numbers such as 5e-324), so sums
# must never round: every thread's context gets room for the widest sum the contract admits.
decimal.DefaultContext.prec = 1000
decimal.setcontext(decimal.Context(prec=1000))
_MAX_TEXT_LENGTH = 40
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_CURRENCY_SHAPE = re.compile(r"[A-Z]{3}")

#: The active ISO 4217 alphabetic codes (list one), the same set as the contract's CurrencyCodeEnum.
# The active ISO 4217 codes, read from the contract (CurrencyCodeEnum), never restated here.
ISO_4217_CODES: frozenset[str] = frozenset(
    yaml.safe_load(SPEC_PATH.read_text())["components"]["schemas"]["CurrencyCodeEnum"]["enum"]
)


class MoneyError(ValueError):
    """An amount or currency a request may not carry; `code` is a stable machine-readable name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def validate_currency(code: object) -> str:
    """Return `code` if it is an active ISO 4217 code (^[A-Z]{3}$, in the list), else raise."""
    if not isinstance(code, str) or not _CURRENCY_SHAPE.fullmatch(code):
        raise MoneyError(INVALID_CURRENCY, f"currency_code {code!r} must be three uppercase letters")
    if code not in ISO_4217_CODES:
        raise MoneyError(INVALID_CURRENCY, f"currency_code {code!r} is not an active ISO 4217 code")
    return code


def _decimal_places(amount: Decimal) -> int:
    """Decimal places of the value, ignoring trailing zeros (exact; no context rounding)."""
    _, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    if not any(digits):
        return 0
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing))


def check_range(amount: Decimal, *, faults: Faults = NO_FAULTS) -> Decimal:
    """Return `amount` if it is finite and |amount| <= 2**53, else raise AMOUNT_OUT_OF_RANGE."""
    if Fault.AMOUNTS_INT32_CENTS in faults and abs(amount) > Decimal("21474836.47"):
        raise MoneyError(AMOUNT_OUT_OF_RANGE, f"amount {amount} does not fit")  # 2**31 - 1 cents
    if not amount.is_finite() or abs(amount) > MAX_ABS_AMOUNT:
        raise MoneyError(AMOUNT_OUT_OF_RANGE, f"amount {amount} is outside ±{MAX_ABS_AMOUNT}")
    return amount


def parse_amount(value: object, *, faults: Faults = NO_FAULTS) -> Decimal:
    """Parse a JSON number (int, float or Decimal) or decimal string into an exact Decimal.

    Strings must be plain decimal text (`-?digits[.digits]`): no exponent, sign `+`, spaces,
    separators, NaN or Infinity. Every decimal place is kept: the contract has no minor-unit limit.
    """
    if isinstance(value, bool) or value is None:
        raise MoneyError(INVALID_AMOUNT, f"amount must be a number or decimal string, not {value!r}")
    if isinstance(value, str):
        if len(value) > _MAX_TEXT_LENGTH or not _DECIMAL_TEXT.fullmatch(value):
            raise MoneyError(INVALID_AMOUNT, f'amount {value[:_MAX_TEXT_LENGTH]!r} is not a plain decimal like "14.34"')
        amount = Decimal(value)
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise MoneyError(INVALID_AMOUNT, f"amount {value!r} is not a finite number")
        amount = Decimal(repr(value))  # the shortest text that round-trips, i.e. what the JSON said
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(INVALID_AMOUNT, f"amount {value!r} is not a finite number")
        amount = value
        if Fault.NUMBER_AMOUNTS_TO_CENTS in faults:
            amount = amount.quantize(Decimal("0.01"))  # the JSON-number path goes through a cents column
    else:
        raise MoneyError(INVALID_AMOUNT, f"amount must be a number or decimal string, not {type(value).__name__}")
    check_range(amount, faults=faults)
    if amount.is_zero():
        amount = Decimal(0)  # drop a negative zero's sign
    return amount


def format_amount(amount: Decimal) -> str:
    """Plain decimal text without exponent or trailing zeros: "14.34", "3", "0"."""
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def dumps(obj: Any, *, faults: Faults = NO_FAULTS) -> str:
    """Serialise JSON with every Decimal written as an exact number literal (never via float)."""
    if isinstance(obj, Decimal):
        check_range(obj, faults=faults)
        return format_amount(obj)
    if isinstance(obj, dict):
        parts = []
        for key, item in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            parts.append(json.dumps(key) + ":" + dumps(item, faults=faults))
        return "{" + ",".join(parts) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(dumps(item, faults=faults) for item in obj) + "]"
    return json.dumps(obj, allow_nan=False)


def _reject_constant(name: str) -> Any:
    """json.loads hook: NaN, Infinity and -Infinity are not JSON."""
    raise ValueError(f"{name} is not a valid JSON number")


def loads(text: str | bytes) -> Any:
    """Parse JSON keeping non-integer numbers as exact Decimals; NaN and Infinity are rejected."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
