"""Money strategies: currency codes, amounts on a currency's minor-unit grid, and their JSON spellings.

Amounts are `decimal.Decimal` throughout; nothing here does float arithmetic. A float only ever appears
as a JSON *spelling* of an amount, and only when its shortest repr is exactly that amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from accounting_conformance.conformance.contract import component

__all__ = [
    "CURRENCY_CODES",
    "Spelling",
    "amounts",
    "check_amount",
    "currencies",
    "minor_unit",
    "minor_units",
    "spelled",
    "to_units",
]

Spelling = Literal["string", "number", "either"]

#: The active ISO 4217 codes (the contract's CurrencyCodeEnum), USD first so that draws shrink to it.
CURRENCY_CODES: tuple[str, ...] = ("USD", *sorted(set(component("CurrencyCodeEnum")["enum"]) - {"USD"}))

# ISO 4217 minor units; every other code has 2 (those whose minor unit is "N.A." included).
_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}
_SPELLINGS = ("string", "number", "either")


def minor_units(currency: str) -> int:
    """The number of decimal places of a currency (0, 2, 3 or 4); InvalidArgument for an unknown code."""
    if not isinstance(currency, str) or currency not in CURRENCY_CODES:
        raise InvalidArgument(f"currency={currency!r} is not an ISO 4217 code (e.g. 'USD', 'JPY', 'KWD')")
    return _MINOR_UNITS.get(currency, 2)


def minor_unit(currency: str) -> Decimal:
    """One minor unit of a currency as a Decimal: 0.01 for USD, 1 for JPY, 0.001 for KWD."""
    return Decimal(1).scaleb(-minor_units(currency))


def check_amount(name: str, value: object, *, allow_negative: bool = False) -> Decimal:
    """Return value as a finite Decimal (int accepted); InvalidArgument for floats, bools and the rest."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise InvalidArgument(f"{name}={value!r} must be a decimal.Decimal (money is never a float)")
    amount = Decimal(value)
    if not amount.is_finite():
        raise InvalidArgument(f"{name}={value!r} must be finite")
    if amount < 0 and not allow_negative:
        raise InvalidArgument(f"{name}={value!r} must not be negative")
    return amount


def to_units(amount: Decimal, places: int, rounding: str = ROUND_FLOOR) -> int:
    """The amount as a whole number of minor units (rounded as asked when it is off the grid)."""
    return int(amount.scaleb(places).to_integral_value(rounding=rounding))


def _from_units(units: int, places: int) -> Decimal:
    """A whole number of minor units as a Decimal with exactly `places` decimals."""
    return Decimal(units).scaleb(-places)


def currencies(*, among: Sequence[str] | None = None) -> SearchStrategy[str]:
    """ISO 4217 codes, from `among` if given (in its order), else every active code; shrinks towards the first (USD)."""
    if among is None:
        return st.sampled_from(CURRENCY_CODES)
    if isinstance(among, str) or not isinstance(among, Sequence) or not among:
        raise InvalidArgument(f"among={among!r} must be a non-empty sequence of currency codes")
    for code in among:
        minor_units(code)
    return st.sampled_from(tuple(dict.fromkeys(among)))


def amounts(
    *,
    currency: str = "USD",
    min_value: Decimal = Decimal("0.01"),
    max_value: Decimal = Decimal("100000"),
) -> SearchStrategy[Decimal]:
    """Amounts on the currency's minor-unit grid within [min_value, max_value] (bounds rounded inwards).

    Half the draws are boundaries: min, max, one minor unit, one unit above min and below max, whole
    amounts. Results carry exactly the currency's decimal places ("12.30", "5" for JPY). Shrinks towards
    min_value.
    """
    places = minor_units(currency)
    low = check_amount("min_value", min_value)
    high = check_amount("max_value", max_value)
    if low > high:
        raise InvalidArgument(f"min_value={low} is greater than max_value={high}")
    lo, hi = to_units(low, places, ROUND_CEILING), to_units(high, places, ROUND_FLOOR)
    if lo > hi:
        raise InvalidArgument(f"no {currency} amount with {places} decimal places lies in [{low}, {high}]")
    edges = [lo, hi, 1, lo + 1, hi - 1, 10**places * max(1, lo // 10**places + 1)]
    boundaries = st.sampled_from(sorted({u for u in edges if lo <= u <= hi}))
    return st.one_of(boundaries, st.integers(lo, hi)).map(lambda units: _from_units(units, places))


def _plain(amount: Decimal) -> str:
    """Amount text without exponent, keeping its own decimals ("12.30")."""
    return format(amount, "f")


def _short(amount: Decimal) -> str:
    """Amount text without exponent or trailing fractional zeros ("12.3", "12")."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _number(amount: Decimal) -> str | int | float:
    """A JSON number of exactly this value: int if integral, a float if its repr is exact, else the string."""
    if amount == amount.to_integral_value():
        return int(amount)
    value = float(amount)
    return value if Decimal(repr(value)) == amount else _plain(amount)


def spelled(amount: Decimal, *, spelling: Spelling = "either") -> SearchStrategy[str | int | float]:
    """JSON spellings of amount whose exact decimal value is the amount; shrinks towards the plain string form.

    "string": the decimal text as given or without trailing zeros; "number": an int when integral, else
    a float only if `Decimal(repr(f)) == amount`, else (no exact float) the string form; "either": any.
    """
    exact = check_amount("amount", amount, allow_negative=True)
    if spelling not in _SPELLINGS:
        raise InvalidArgument(f"spelling={spelling!r} must be one of {_SPELLINGS}")
    strings: SearchStrategy[str | int | float] = st.sampled_from(tuple(dict.fromkeys((_plain(exact), _short(exact)))))
    if spelling == "string":
        return strings
    number: SearchStrategy[str | int | float] = st.just(_number(exact))
    return number if spelling == "number" else st.one_of(strings, number)
