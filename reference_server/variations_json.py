"""Exact JSON for the variation proxy: numbers kept as their own text, and serialised in several legal styles.

`loads` keeps every number as a `Raw` (its literal text, a `str` subclass), so a body can be parsed, rewritten
and written again without a number passing through float. `dumps` writes a tree back with the styles RFC 8259
leaves open: key order (§4 "An object is an unordered collection"), insignificant whitespace (§2), string
escapes (§7), and, for the `float-numbers` variation only, numbers as an IEEE-double stack writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Raw", "Style", "dumps", "js_number", "loads"]


class Raw(str):
    """A JSON number, kept as the exact text it was written with."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes) -> Any:
    """Parse JSON with every number as `Raw` text; ValueError when it is not JSON."""
    return json.loads(text, parse_float=Raw, parse_int=Raw, parse_constant=_reject_constant)


@dataclass(frozen=True)
class Style:
    """How to write a tree: key order, numbers, string escapes and whitespace."""

    reverse_keys: bool = False  # every object's keys in the opposite order
    floats: bool = False  # numbers through IEEE-754 binary64, written as JavaScript's JSON.stringify does
    raw_unicode: bool = False  # non-ASCII characters as UTF-8 rather than \\uXXXX, and "/" escaped as "\\/"
    indent: int | None = None  # pretty-printed with this many spaces per level


def js_number(value: float) -> str:
    """A finite double written as ECMAScript's Number::toString does (shortest digits, JS exponent rules)."""
    if value == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).rstrip("0") or "0"
    exponent += len(digits) - len(text)
    k = len(text)
    n = exponent + k  # the value is 0.<text> x 10^n
    if k <= n <= 21:
        out = text + "0" * (n - k)
    elif 0 < n <= 21:
        out = text[:n] + "." + text[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * -n + text
    else:
        e = n - 1
        out = text[0] + ("." + text[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return ("-" if sign else "") + out


def _string(value: str, style: Style) -> str:
    if style.raw_unicode:
        return json.dumps(value, ensure_ascii=False).replace("/", "\\/")
    return json.dumps(value)


def _number(value: Any, style: Style) -> str:
    if style.floats:
        return js_number(float(value))
    if isinstance(value, (Raw, Decimal)):
        return str(value)
    return json.dumps(value)


def dumps(tree: Any, style: Style = Style()) -> str:
    """Write a tree from `loads` (or plain JSON data) in `style`; `Raw` numbers are written as they came."""
    return _dump(tree, style, 0)


def _dump(node: Any, style: Style, depth: int) -> str:
    if isinstance(node, Raw):
        return _number(node, style)
    if isinstance(node, str):
        return _string(node, style)
    if node is None or isinstance(node, bool):
        return json.dumps(node)
    if isinstance(node, (int, float, Decimal)):
        return _number(node, style)
    if isinstance(node, dict):
        items = list(node.items())
        if style.reverse_keys:
            items.reverse()
        parts = [
            _string(str(k), style) + (": " if style.indent else ":") + _dump(v, style, depth + 1) for k, v in items
        ]
        return _join("{", parts, "}", style, depth)
    if isinstance(node, (list, tuple)):
        return _join("[", [_dump(v, style, depth + 1) for v in node], "]", style, depth)
    raise TypeError(f"cannot write {type(node).__name__} as JSON")


def _join(open_: str, parts: list[str], close: str, style: Style, depth: int) -> str:
    if not style.indent or not parts:
        return open_ + ",".join(parts) + close
    inner = "\n" + " " * (style.indent * (depth + 1))
    return open_ + inner + ("," + inner).join(parts) + "\n" + " " * (style.indent * depth) + close
