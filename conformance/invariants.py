"""The invariants of the API's objects that a JSON Schema cannot express: amounts, statuses, instants, currencies.

Pure functions over parsed response bodies (the only input read from disk is the contract itself,
loaded once: the ISO 4217 list and the timestamp pattern come from openapi/openapi.yaml).

- `iter_objects(body)` finds the documents of every kind (conformance/kinds.py) in a response body: the
  single-object envelopes (`invoice_credit_memo`, ...), the pages (the kind's page key) and the body of a
  finished asynchronous job (`response.body`).
- `check_object(kind, obj)` returns every `Violation` of one object: MONEY-001..010 and STATUS-001/002
  (see conformance/money_rules.py), TIME-001 and CUR-001.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.contract import component
from accounting_conformance.conformance.instants import instant_ns
from accounting_conformance.conformance.money_rules import Violation, amount_violations, fmt, to_decimal

__all__ = ["Violation", "check_object", "fmt", "iter_objects", "to_decimal"]

#: Top-level timestamp fields (whichever the object has) and timestamps inside its link arrays.
_TIMESTAMPS = ("allocated_at", "issue_date", "due_date", "created_at", "updated_at", "last_synced_at")
_LINK_TIMESTAMPS = (("linked_bills", "allocated_date"), ("linked_payments", "date"))
_DATE_OR_TIMESTAMP = ("transaction_date",)
_EXAMPLE = "e.g. 2023-01-02T02:34:56.000Z"


def iter_objects(body: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield (kind, object) for every checked object in a response body."""
    if not isinstance(body, Mapping):
        return
    for kind in kinds.KINDS:
        single = body.get(kind.name)
        if isinstance(single, Mapping):
            yield kind.name, single
        page = body.get(kind.plural)
        if isinstance(page, list):
            yield from ((kind.name, item) for item in page if isinstance(item, Mapping))
    response = body.get("response")
    if isinstance(body.get("request"), Mapping) and isinstance(response, Mapping):
        yield from iter_objects(response.get("body"))  # a finished asynchronous job


def check_object(kind: str, obj: Mapping[str, Any]) -> list[Violation]:
    """Every violation of the amount, status, timestamp and currency rules in one object."""
    if kind not in kinds.NAMES:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(kinds.NAMES)}")
    return [*amount_violations(kind, obj), *timestamp_violations(obj), *currency_violations(obj)]


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    timestamp = component("Timestamp")["pattern"]
    date_or_timestamp = component("NullableDateOrTimestamp")["pattern"]
    return re.compile(timestamp), re.compile(date_or_timestamp)


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    """The ISO 4217 codes of the contract's CurrencyCodeEnum."""
    return frozenset(component("CurrencyCodeEnum")["enum"])


def instant(text: str, allow_date: bool = False) -> int | None:
    """A zoned ISO 8601 timestamp of the contract's pattern (or a date where `allow_date`) as nanoseconds; else None."""
    timestamp, date_or_timestamp = _patterns()
    if not (date_or_timestamp if allow_date else timestamp).fullmatch(text):
        return None
    try:
        return instant_ns(text)
    except ValueError:
        return None


def _check_stamp(found: list[Violation], path: str, name: str, value: Any, allow_date: bool = False) -> None:
    if value is None:
        return
    if not isinstance(value, str) or instant(value, allow_date) is None:
        shape = "an ISO 8601 date or timestamp with a zone" if allow_date else "an ISO 8601 timestamp with a zone"
        found.append(Violation("TIME-001", path, f"{name}: {shape}, {_EXAMPLE}", f"{name} = {value!r}"))


def timestamp_violations(obj: Mapping[str, Any]) -> list[Violation]:
    """TIME-001: timestamps are zoned ISO 8601 and created_at <= updated_at (compared as instants)."""
    found: list[Violation] = []
    for name in _TIMESTAMPS:
        _check_stamp(found, name, name, obj.get(name))
    for name in _DATE_OR_TIMESTAMP:
        _check_stamp(found, name, name, obj.get(name), allow_date=True)
    for links, name in _LINK_TIMESTAMPS:
        items = obj.get(links)
        for index, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, Mapping):
                _check_stamp(found, f"{links}[{index}].{name}", name, item.get(name))
    created, updated = obj.get("created_at"), obj.get("updated_at")
    if isinstance(created, str) and isinstance(updated, str):
        start, end = instant(created), instant(updated)
        if start is not None and end is not None and start > end:
            found.append(
                Violation(
                    "TIME-001",
                    "updated_at",
                    "created_at <= updated_at",
                    f"created_at = {created}, updated_at = {updated}",
                )
            )
    return found


def currency_violations(obj: Mapping[str, Any]) -> list[Violation]:
    """CUR-001: currency_code, when present and not null, is an ISO 4217 code of CurrencyCodeEnum."""
    code = obj.get("currency_code")
    if code is None or (isinstance(code, str) and code in currency_codes()):
        return []
    return [
        Violation(
            "CUR-001",
            "currency_code",
            "currency_code: a 3-letter ISO 4217 code such as USD",
            f"currency_code = {code!r}",
        )
    ]
