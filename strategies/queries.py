"""List-query strategies: structured filters that select the suite's objects, malformed filters, and sorts.

`filters` builds `conformance.querymodel.Filter`s whose `render()` matches the contract's `pattern`
exactly, with values taken from objects the suite created (so that filters select something), nudged
by a microsecond, millisecond or second, or re-spelled at another UTC offset. `bad_filters` builds
strings that the contract's `pattern` rejects; `sorts` builds (field, direction) pairs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from accounting_conformance.conformance import kinds, querymodel
from accounting_conformance.conformance.instants import instant_ns
from accounting_conformance.conformance.querymodel import (
    DIRECTIONS,
    Condition,
    Filter,
    kind_of,
    operators_for,
    stamp_text,
)

__all__ = ["bad_filters", "filters", "sorts"]

_OFFSETS = (0, 330, -480, 60, -(23 * 60 + 59))  # minutes east of UTC
_NUDGES = (0, 1_000, -1_000, 10**6, -(10**6), 10**9, -(10**9))  # ns: exact, +-1 us, +-1 ms, +-1 s
_TEXT = st.text(
    st.one_of(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), st.sampled_from('"\\')), max_size=10
)


@st.composite
def _stamps(draw: st.DrawFn) -> str:
    """A fresh timestamp (or date) the grammar accepts; shrinks towards 1970-01-01."""
    month = draw(st.integers(1, 12))
    date = f"{draw(st.integers(1970, 2100)):04d}-{month:02d}-{draw(st.integers(1, 30 if month != 2 else 28)):02d}"
    if not draw(st.booleans()):
        return date
    clock = f"T{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}:{draw(st.integers(0, 59)):02d}"
    fraction = draw(st.sampled_from(["", ".5", ".123", ".000001", ".999999"]))
    zone = draw(st.sampled_from(["Z", "+00:00", "+05:30", "-08:00", "+23:59", "-23:59"]))
    return date + clock + fraction + zone


def _fields(kind: str, table: Mapping[str, tuple[str, ...]] = querymodel.RESOURCE_FIELDS) -> tuple[str, ...]:
    """The filterable (or sortable) fields of a kind's list; InvalidArgument naming the kinds that have one."""
    if kind not in table:
        raise InvalidArgument(f"kind={kind!r} must be one of {sorted(table)}")
    return table[kind]


def _spellings(field: str, value: object) -> tuple[str, ...]:
    """Every grammar spelling of a candidate instant and its nudges, the value itself (or UTC) first."""
    if not isinstance(value, str):
        raise InvalidArgument(f"values[{field!r}] holds {value!r}; timestamps must be ISO 8601 strings")
    try:
        ns = instant_ns(value)
    except ValueError as exc:
        raise InvalidArgument(f"values[{field!r}]: {exc}") from None
    found = [querymodel.filter_timestamp(value)]
    found += [stamp_text(ns + nudge, offset) for nudge in _NUDGES for offset in _OFFSETS]
    found += [value[:10] if re.fullmatch(r"[1-9]\d{3}-\d{2}-\d{2}", value[:10]) else None]
    return tuple(dict.fromkeys(t for t in found if t is not None))


def _pools(kind: str, fields: tuple[str, ...], values: Mapping[str, Sequence[Any]]) -> dict[str, tuple[Any, ...]]:
    """Candidate values per field: strings (or None) for string fields, spellings per instant for timestamps."""
    if not isinstance(values, Mapping):
        raise InvalidArgument(f"values={values!r} must be a mapping of field name to candidate values")
    pools: dict[str, tuple[Any, ...]] = {}
    for field, raw in values.items():
        if field not in fields:
            raise InvalidArgument(f"values has {field!r}, not a filterable field of the {kind} list; use {fields}")
        if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence):
            raise InvalidArgument(f"values[{field!r}]={raw!r} must be a sequence of candidate values")
        if kind_of(field) == "string":
            if not all(v is None or isinstance(v, str) for v in raw):
                raise InvalidArgument(f"values[{field!r}] must hold strings or None, got {raw!r}")
            pools[field] = tuple(dict.fromkeys(raw))
        else:
            pools[field] = tuple(s for s in (_spellings(field, v) for v in raw if v is not None) if s)
    return pools


def _mostly(usual: SearchStrategy[Any], rare: SearchStrategy[Any]) -> SearchStrategy[Any]:
    """Draw from usual four times in five, else from rare; shrinks towards usual."""
    return st.integers(0, 4).flatmap(lambda i: rare if i == 4 else usual)


def _string_value(op: str, pool: tuple[str | None, ...]) -> SearchStrategy[str | None]:
    """A value for a string condition: a candidate (or a piece of one for `~`), null, or any text."""
    texts = tuple(v for v in pool if v is not None)
    if op == "~":
        if not texts:
            return _TEXT
        piece = st.sampled_from(texts).flatmap(
            lambda t: st.tuples(st.just(t), st.integers(0, len(t))).flatmap(
                lambda ti: st.integers(0, len(ti[0]) - ti[1]).map(lambda cut: ti[0][ti[1] : len(ti[0]) - cut])
            )
        )
        return _mostly(piece, _TEXT)
    return _mostly(st.sampled_from(tuple(dict.fromkeys((*pool, None)))), _TEXT)


def _stamp_value(pool: tuple[tuple[str, ...], ...]) -> SearchStrategy[str]:
    """A timestamp value: a candidate as given (often), a nudge or re-spelling of one, or a fresh one."""
    if not pool:
        return _stamps()
    return _mostly(st.sampled_from(pool).flatmap(lambda s: st.one_of(st.just(s[0]), st.sampled_from(s))), _stamps())


@st.composite
def _condition(draw: st.DrawFn, field: str, pool: tuple[Any, ...]) -> Condition:
    """One condition on a field with an operator its kind allows; shrinks towards `=`, no spaces."""
    op = draw(st.sampled_from(operators_for(field)))
    value = draw(_string_value(op, pool) if kind_of(field) == "string" else _stamp_value(pool))
    return Condition(field, op, value, draw(st.booleans()), draw(st.booleans()))


def filters(
    *,
    kind: str,
    values: Mapping[str, Sequence[Any]] | None = None,
    max_conditions: int = 2,
) -> SearchStrategy[Filter]:
    """Filters over a kind's list fields whose render() matches the contract's pattern.

    `values` maps fields to candidate values (from objects the suite created) so that filters select
    something. Shrinks towards one `=` condition on the first field that has candidates, with the first
    candidate as given.
    """
    fields = _fields(kind)
    if isinstance(max_conditions, bool) or not isinstance(max_conditions, int) or not 1 <= max_conditions <= 50:
        raise InvalidArgument(f"max_conditions={max_conditions!r} must be an integer from 1 to 50")
    pools = _pools(kind, fields, values or {})
    ordered = sorted(fields, key=lambda f: not pools.get(f))
    condition = st.sampled_from(ordered).flatmap(lambda f: _condition(f, pools.get(f, ())))
    return st.lists(condition, min_size=1, max_size=max_conditions).map(lambda cs: Filter(tuple(cs)))


_REAL_FIELDS = (
    "total_amount",
    "remaining_amount",
    "amount_due",
    "sub_total",
    "currency_code",
    "memo",
    "status",
    "id",
    "platform_id",
    "issue_date",
    "due_date",
    "account_id",
    "customer_id",
    "vendor_id",
    "document_number",
    "line_items",
)
_UNKNOWN_FIELDS = ("foo", "customer", "CUSTOMER_ID", "createdAt", "created", "customer_id_", "_id", "filter")
_UNKNOWN_OPS = ("==", "<>", "=~", "!~", "=>", "=<", "===", "!==", "\u2260", ":", " LIKE ", " IN ", "><", "~~", "!")
_JOINERS = (" and ", " And ", " aNd ", " OR ", " or ", " && ", " & ", ", ", "; ", "AND", " AND AND ")
_BAD_STAMPS = (
    "2024-13-01",
    "2024-00-10",
    "2024-03-00",
    "2024-03-32",
    "2024-03-01T24:00:00Z",
    "2024-03-01T12:60:00Z",
    "2024-03-01T12:00:60Z",
    "2024-03-01T12:00:00",
    "2024-03-01T12:00Z",
    "2024-03-01 12:00:00Z",
    "2024/03/01",
    "2024-3-1",
    "03/01/2024",
    "yesterday",
    "1709251200000",
    "",
    "2024-03-01T12:00:00+24:00",
    "2024-03-01T12:00:00.Z",
    "now()",
)
#: Dates the pattern lets through but that do not exist: the contract answers them 400 as well.
_NONEXISTENT = ("2023-02-29", "2024-02-30", "2024-04-31", "2024-06-31T00:00:00Z", "2100-02-29T12:00:00+01:00")


def bad_filters(*, kind: str) -> SearchStrategy[str]:
    """Filter strings the contract answers 400, one flaw each, optionally after a valid condition.

    Flaws: unknown field, real but non-filterable field, unknown operator, unterminated or stray quote,
    bad escape, a joiner other than ` AND `, an operator of the wrong kind, null where it cannot stand,
    a bad timestamp, empty conditions, SQL metacharacters; or else well-formed but with a date that does
    not exist (2024-02-30), which the pattern cannot exclude. Shrinks towards the first example of the first flaw.
    """
    fields = _fields(kind)
    pattern = re.compile(querymodel.filter_pattern(kind))
    table = kinds.get(kind).plural
    strings = [f for f in fields if kind_of(f) == "string"]
    stamps = [f for f in fields if kind_of(f) == "timestamp"]
    text, stamp = (strings or stamps)[0], stamps[0]
    good = tuple([f'{strings[0]}="x"'] if strings else []) + (f'{stamp}>="2024-03-01T00:00:00Z"',)
    value = st.sampled_from(['"x"', '"2024-03-01T00:00:00Z"', "null"])
    flaws: list[SearchStrategy[str]] = [
        st.tuples(
            st.sampled_from(_UNKNOWN_FIELDS).filter(lambda f: f not in fields), st.sampled_from(["=", "~", ">="]), value
        ).map("".join),
        st.sampled_from([f for f in _REAL_FIELDS if f not in fields]).map(lambda f: f + '="1"'),
        st.tuples(st.sampled_from(fields), st.sampled_from(_UNKNOWN_OPS), value).map("".join),
        st.sampled_from(
            [
                f'{text}="abc',
                f'{text}="ab\\"',
                f'{text}="a"b"',
                f'{stamp}>"2024-03-01T00:00:00Z',
                f'{text}=abc"',
                f'{text}="x" AND {stamp}<"2024-03-01',
            ]
        ),
        st.sampled_from([f'{text}="a\\nb"', f'{text}="\\x41"', f'{text}="\\\'"', f'{text}="\\u0041"']),
        st.tuples(st.sampled_from(good), st.sampled_from(_JOINERS), st.sampled_from(good)).map("".join),
        st.tuples(st.sampled_from(strings or [stamp]), st.sampled_from([">", ">=", "<", "<="]), value).map("".join),
        st.sampled_from(
            [
                f'{stamp}~"2024"',
                f"{stamp}=null",
                f"{stamp}!=null",
                f"{text}~null",
                f"{text}>null",
                f"{text}=NULL",
                f"{text}=Null",
                f'{text.upper()}="x"',
            ]
        ),
        st.tuples(st.sampled_from(stamps), st.sampled_from(operators_for(stamp)), st.sampled_from(_BAD_STAMPS)).map(
            lambda t: f'{t[0]}{t[1]}"{t[2]}"'
        ),
        st.sampled_from(
            [
                "AND",
                " AND ",
                *(g + " AND " for g in good),
                *(" AND " + g for g in good),
                f"{good[0]} AND  AND {good[-1]}",
                "()",
                f"({good[0]})",
                '""',
                "null",
                f"{stamp}>2024-03-01",
            ]
        ),
        st.sampled_from(
            [
                f'{text}="x" OR 1=1',
                f'{text}="x"; DROP TABLE {table}; --',
                f"{text}='x'",
                f'{text}="x" --',
                f"{text}=x",
                "1=1",
                f'{text}="x" UNION SELECT * FROM customers',
                f'{text}="x")--',
                f'{text}="x" /* */',
                f'{stamp}>"2024-03-01T00:00:00Z" OR 1=1',
            ]
        ),
    ]
    prefix = st.sampled_from(("", *(g + " AND " for g in good)))
    flaws.append(
        st.tuples(st.sampled_from(stamps), st.sampled_from(operators_for(stamp)), st.sampled_from(_NONEXISTENT)).map(
            lambda t: f'{t[0]}{t[1]}"{t[2]}"'
        )
    )
    return (
        st.tuples(prefix, st.one_of(*flaws))
        .map("".join)
        .filter(lambda s: not pattern.fullmatch(s) or any(f'"{day}"' in s for day in _NONEXISTENT))
    )


def sorts(*, kind: str) -> SearchStrategy[tuple[str, str]]:
    """(field, "ASC" | "DESC") over a kind's sortable list fields; shrinks towards the first field, ASC."""
    return st.tuples(st.sampled_from(_fields(kind, querymodel.SORT_FIELDS)), st.sampled_from(DIRECTIONS))
