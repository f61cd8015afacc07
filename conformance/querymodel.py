"""The suite's own model of list semantics: the filter grammar, which objects match, sort order, ms bounds.

Independent of any server. Where the contract is silent the model adopts, and tests hold targets to:
- a date-only value ("2024-03-01") is that day's midnight UTC; timestamps compare as instants, exactly;
- `= null` matches a null or missing field, `!= null` a present one; `!=` a value also matches
  null or missing (null equals no value); `~`, `>`, `>=`, `<`, `<=` never match null or missing;
- `~` is a case-sensitive substring test; string `=`/`!=` compare exact text;
- sort: ascending puts nulls first, then values (instants for timestamps, code points for strings),
  ties broken by `id` ascending; descending is exactly the reverse (nulls last, ties by id descending).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Any, Literal

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.instants import EPOCH, instant_ns, ms_of

__all__ = [
    "Condition",
    "DIRECTIONS",
    "Filter",
    "RESOURCE_FIELDS",
    "SORT_FIELDS",
    "expected_order",
    "filter_pattern",
    "filter_timestamp",
    "kind_of",
    "matches",
    "operators_for",
    "parse_ms",
    "quote",
    "sort_key",
    "sort_pattern",
    "stamp_text",
    "within_ms_bounds",
]

Kind = Literal["string", "timestamp"]
_STAMPS = ("created_at", "updated_at", "last_synced_at")
#: The filterable fields of each kind's list, in the contract's order (its `x-filterable-fields`).
RESOURCE_FIELDS: dict[str, tuple[str, ...]] = {kind.name: kind.filterable for kind in kinds.KINDS if kind.filterable}
#: The sortable fields of each kind's list (its `x-sortable-fields`).
SORT_FIELDS: dict[str, tuple[str, ...]] = {kind.name: kind.sortable for kind in kinds.KINDS if kind.sortable}
_KINDS: dict[str, Kind] = {
    **dict.fromkeys(("customer_id", "vendor_id", "document_number", "status"), "string"),
    **dict.fromkeys(("due_date", *_STAMPS), "timestamp"),
}
_OPERATORS: dict[Kind, tuple[str, ...]] = {"string": ("=", "!=", "~"), "timestamp": ("=", "!=", ">=", "<=", ">", "<")}
DIRECTIONS = ("ASC", "DESC")
MAX_MS = 253402300799999  # 9999-12-31T23:59:59.999Z, the contract's maximum for the ms parameters

_QUOTED = r'"(?:[^"\\]|\\["\\])*"'
_STAMP = (
    r"[1-9][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9]))?"
)
_STAMP_RE = re.compile(_STAMP)
_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def kind_of(field: str) -> Kind:
    """Whether a filterable field holds strings or timestamps; ValueError for any other field."""
    if field not in _KINDS:
        raise ValueError(f"{field!r} is not a filterable field of any list; known: {sorted(_KINDS)}")
    return _KINDS[field]


def operators_for(field: str) -> tuple[str, ...]:
    """The operators the grammar allows on a field, in the contract's order."""
    return _OPERATORS[kind_of(field)]


def _fields(kind: str, table: Mapping[str, tuple[str, ...]] = RESOURCE_FIELDS) -> tuple[str, ...]:
    """The filterable (or sortable) fields of a kind's list; ValueError naming the kinds that have one."""
    if kind not in table:
        raise ValueError(f"unknown list {kind!r}; use one of {sorted(table)}")
    return table[kind]


def filter_pattern(kind: str) -> str:
    """The exact regular expression a kind's list `filter` must match (the contract's `pattern`)."""
    fields = _fields(kind)
    strings = "|".join(f for f in fields if _KINDS[f] == "string")
    stamps = "|".join(f for f in fields if _KINDS[f] == "timestamp")
    branches = ([f"(?:{strings}) ?(?:(?:=|!=) ?(?:{_QUOTED}|null)|~ ?{_QUOTED})"] if strings else []) + (
        [f'(?:{stamps}) ?(?:=|!=|>=|<=|>|<) ?"{_STAMP}"'] if stamps else []
    )
    condition = "|".join(branches)
    return f"^(?:{condition})(?: AND (?:{condition}))*$"


def sort_pattern(kind: str) -> str:
    """The exact regular expression a kind's list `sort` must match."""
    return f"^(?:{'|'.join(_fields(kind, SORT_FIELDS))})(?: (?:ASC|DESC))?$"


def quote(text: str) -> str:
    """A filter string literal: double quotes, with `\\` and `"` escaped by a backslash."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Condition:
    """One `<field> <op> <value>`; value None renders `null`. Invalid combinations raise ValueError."""

    field: str
    op: str
    value: str | None
    space_before: bool = False
    space_after: bool = False

    def __post_init__(self) -> None:
        kind = kind_of(self.field)
        if self.op not in _OPERATORS[kind]:
            raise ValueError(
                f"operator {self.op!r} does not apply to {kind} field {self.field}; use {_OPERATORS[kind]}"
            )
        if self.value is None and (kind != "string" or self.op == "~"):
            raise ValueError(f"null only goes with = or != on a string field, not {self.field} {self.op}")
        if kind == "timestamp" and not (isinstance(self.value, str) and _STAMP_RE.fullmatch(self.value)):
            raise ValueError(f"{self.value!r} is not a timestamp the grammar accepts (see filter_timestamp)")
        if kind == "timestamp" and not _exists(str(self.value)):
            raise ValueError(f"{self.value!r} is not a date that exists (the contract answers it 400)")
        if self.value is not None and not isinstance(self.value, str):
            raise ValueError(f"value {self.value!r} must be a string or None")

    def render(self) -> str:
        """The condition as filter text."""
        value = "null" if self.value is None else quote(self.value)
        return f"{self.field}{' ' * self.space_before}{self.op}{' ' * self.space_after}{value}"


@dataclass(frozen=True)
class Filter:
    """Conditions joined by ` AND `; at least one."""

    conditions: tuple[Condition, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", tuple(self.conditions))
        if not self.conditions or not all(isinstance(c, Condition) for c in self.conditions):
            raise ValueError("a Filter needs at least one Condition")

    def render(self) -> str:
        """The filter as the `filter` query parameter's text."""
        return " AND ".join(c.render() for c in self.conditions)


def _exists(text: str) -> bool:
    """Whether an ISO 8601 text names a real date and time (no 2024-02-30)."""
    try:
        instant_ns(text)
    except ValueError:
        return False
    return True


def stamp_text(ns: int, offset_minutes: int = 0) -> str | None:
    """The instant written at a UTC offset in the grammar's form, or None (before year 1000, below a microsecond)."""
    if ns % 1000 or abs(offset_minutes) >= 24 * 60:
        return None
    try:
        local = (EPOCH + timedelta(microseconds=ns // 1000)).astimezone(timezone(timedelta(minutes=offset_minutes)))
    except OverflowError:
        return None
    fraction = f".{local.microsecond:06d}".rstrip("0") if local.microsecond else ""
    sign, size = ("+" if offset_minutes >= 0 else "-"), abs(offset_minutes)
    suffix = "Z" if offset_minutes == 0 else f"{sign}{size // 60:02d}:{size % 60:02d}"
    text = f"{local.year:04d}-{local:%m-%dT%H:%M:%S}{fraction}{suffix}"
    return text if _STAMP_RE.fullmatch(text) else None


def filter_timestamp(text: str) -> str | None:
    """A spelling of the same instant the grammar accepts (as given, else in UTC), or None; ValueError if unparsable."""
    ns = instant_ns(text)
    return text if _STAMP_RE.fullmatch(text) else stamp_text(ns)


def _holds(cond: Condition, actual: Any) -> bool:
    """Whether one condition holds for a field's value (None for null or missing)."""
    if cond.value is None:
        return (actual is None) == (cond.op == "=")
    if actual is None:
        return cond.op == "!="
    if kind_of(cond.field) == "timestamp":
        return _COMPARE[cond.op](instant_ns(actual), instant_ns(cond.value))
    text = actual if isinstance(actual, str) else str(actual)
    if cond.op == "~":
        return cond.value in text
    return (text == cond.value) == (cond.op == "=")


def matches(filter: Filter, obj: Mapping[str, Any]) -> bool:
    """Whether an object satisfies every condition of the filter (semantics in the module docstring)."""
    return all(_holds(cond, obj.get(cond.field)) for cond in filter.conditions)


def sort_key(obj: Mapping[str, Any], field: str) -> tuple[int, int | str]:
    """The ascending sort key of one object: nulls (and missing) first, then instants or text."""
    value = obj.get(field)
    if value is None:
        return (0, 0)
    return (1, instant_ns(value) if kind_of(field) == "timestamp" else str(value))


def expected_order(objs: Iterable[Mapping[str, Any]], field: str, direction: str = "ASC") -> list[Mapping[str, Any]]:
    """The objects in the order a `sort=<field> <direction>` list must give them.

    ASC: nulls first, then ascending values, ties by id ascending. DESC: the exact reverse of ASC, so
    nulls last and ties by id descending (the same direction as the field).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction {direction!r} must be one of {DIRECTIONS}")
    ordered = sorted(objs, key=lambda o: (sort_key(o, field), str(o["id"])))
    return ordered[::-1] if direction == "DESC" else ordered


def parse_ms(value: str | int) -> int:
    """A deprecated millisecond parameter (Unix ms, 0 to 253402300799999) as an int; ValueError otherwise."""
    text = str(value)
    if isinstance(value, bool) or not re.fullmatch(r"[0-9]{1,15}", text) or int(text) > MAX_MS:
        raise ValueError(f"{value!r} is not Unix milliseconds from 0 to {MAX_MS}")
    return int(text)


def within_ms_bounds(
    obj: Mapping[str, Any],
    *,
    updated_at_min: int | None = None,
    updated_at_max: int | None = None,
    last_synced_at_min: int | None = None,
) -> bool:
    """Whether an object lies within the deprecated bounds, all inclusive; a null field is never within one."""
    checks: Sequence[tuple[str, int | None, Callable[[int, int], bool]]] = (
        ("updated_at", updated_at_min, _COMPARE[">="]),
        ("updated_at", updated_at_max, _COMPARE["<="]),
        ("last_synced_at", last_synced_at_min, _COMPARE[">="]),
    )
    for field, bound, holds in checks:
        if bound is not None and (obj.get(field) is None or not holds(ms_of(obj[field]), bound)):
            return False
    return True
