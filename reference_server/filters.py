"""The list `filter` language: a lark grammar, validation against a resource's fields, and SQL.

    expr := cond (AND cond)*        AND is case-insensitive
    cond := FIELD OP VALUE          OP in = != > >= < <= ~   (~ = case-sensitive "contains")
    VALUE := "double-quoted"        escapes \\" and \\\\ only; or null (with = and != only)

String fields take = != ~; date/timestamp fields take = != > >= < <= and compare as instants.
Every problem raises `QueryError(code, message)` naming it and its 0-based position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from accounting_conformance.reference_server.faults import NO_FAULTS, Fault, Faults
from accounting_conformance.reference_server.resources import Document
from accounting_conformance.reference_server.timestamps import TimestampError, parse_instant_ns

INVALID_FILTER = "INVALID_FILTER"
UNKNOWN_FIELD = "UNKNOWN_FIELD"
UNKNOWN_OPERATOR = "UNKNOWN_OPERATOR"
UNSUPPORTED_OPERATOR = "UNSUPPORTED_OPERATOR"
UNTERMINATED_STRING = "UNTERMINATED_STRING"
INVALID_ESCAPE = "INVALID_ESCAPE"
INVALID_VALUE = "INVALID_VALUE"

MAX_FILTER_LENGTH = 4096
MAX_CONDITIONS = 50
OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "~")
_TEXT_OPERATORS = ("=", "!=", "~")
_INSTANT_OPERATORS = ("=", "!=", ">", ">=", "<", "<=")
_NS_PER_MS = 1_000_000


class QueryError(ValueError):
    """A list parameter the server will not run; `code` is stable, `message` says what and where."""

    def __init__(self, code: str, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Condition:
    """One parsed condition; `value` is text, exact nanoseconds (instant fields) or None (null)."""

    field: str
    op: str
    value: str | int | None
    position: int


_GRAMMAR = r"""
start: cond (AND cond)*
cond: FIELD OP value
?value: STRING | NULL
AND.2: /and\b/i
NULL.2: /null\b/
FIELD: /[A-Za-z_][A-Za-z0-9_]*/
OP: /[!=<>~]+/
STRING: /"(?:[^"\\]|\\.)*"/s
%import common.WS
%ignore WS
"""
_PARSER = Lark(_GRAMMAR, parser="lalr", lexer="contextual")
_EXPECTED = {
    "FIELD": "a field name",
    "OP": "an operator",
    "STRING": "a double-quoted value",
    "NULL": "null",
    "AND": "AND",
    "$END": "the end of the filter",
}


def _syntax_error(text: str, exc: UnexpectedInput) -> QueryError:
    """Translate a lark error into a QueryError naming the problem and its position."""
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        if text[pos] == '"':
            return QueryError(UNTERMINATED_STRING, f"unterminated string starting at position {pos}", pos)
        if "OP" in exc.allowed and not (text[pos].isalnum() or text[pos] == "_"):
            return QueryError(
                UNKNOWN_OPERATOR, f"unknown operator at position {pos}; use one of {' '.join(OPERATORS)}", pos
            )
        return QueryError(INVALID_FILTER, f"unexpected character {text[pos]!r} at position {pos}", pos)
    if isinstance(exc, UnexpectedToken):
        token: Token = exc.token
        pos = len(text) if token.type == "$END" else int(token.start_pos or 0)
        found = "the end of the filter" if token.type == "$END" else repr(str(token))
        if "OP" in exc.expected:
            return QueryError(
                UNKNOWN_OPERATOR, f"expected an operator ({' '.join(OPERATORS)}) at position {pos}, found {found}", pos
            )
        wanted = " or ".join(sorted(_EXPECTED.get(name, name) for name in exc.expected))
        return QueryError(INVALID_FILTER, f"expected {wanted} at position {pos}, found {found}", pos)
    return QueryError(INVALID_FILTER, f"malformed filter: {exc}")  # pragma: no cover - other lark errors


def _unescape(token: Token) -> str:
    """The text of a quoted value; only \\" and \\\\ escapes are allowed."""
    body, out, i = str(token)[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            nxt = body[i + 1]
            if nxt not in '"\\':
                pos = int(token.start_pos or 0) + 1 + i
                raise QueryError(
                    INVALID_ESCAPE, f'invalid escape \\{nxt} at position {pos}; only \\" and \\\\ are allowed', pos
                )
            char, i = nxt, i + 1
        out.append(char)
        i += 1
    return "".join(out)


def _condition(resource: Document, node: Tree[Token], faults: Faults) -> Condition:
    """Validate one parsed condition against the resource's fields."""
    field_tok, op_tok, value_tok = node.children
    assert isinstance(field_tok, Token) and isinstance(op_tok, Token) and isinstance(value_tok, Token)
    fields, name, op = resource.fields, str(field_tok), str(op_tok)
    pos, op_pos, value_pos = (int(t.start_pos or 0) for t in (field_tok, op_tok, value_tok))
    if name not in fields:
        raise QueryError(
            UNKNOWN_FIELD,
            f"{name!r} at position {pos} is not a filterable field of "
            f"{resource.plural}; use one of {', '.join(fields)}",
            pos,
        )
    if op not in OPERATORS:
        raise QueryError(
            UNKNOWN_OPERATOR, f"unknown operator {op!r} at position {op_pos}; use one of {' '.join(OPERATORS)}", op_pos
        )
    field = fields[name]
    allowed = _TEXT_OPERATORS if field.kind == "text" else _INSTANT_OPERATORS
    if op not in allowed:
        raise QueryError(
            UNSUPPORTED_OPERATOR,
            f"operator {op} at position {op_pos} does not apply to {name}; use one of {' '.join(allowed)}",
            op_pos,
        )
    if value_tok.type == "NULL":
        if op not in ("=", "!="):
            raise QueryError(INVALID_VALUE, f"null at position {value_pos} only goes with = or !=", value_pos)
        return Condition(name, op, None, pos)
    text = _unescape(value_tok)
    if field.kind == "text":
        return Condition(name, op, text, pos)
    try:
        if Fault.FILTER_INVALID_DATE_ACCEPTED in faults:
            text = _lenient_date(text)
        return Condition(name, op, parse_instant_ns(text, faults=faults), pos)
    except TimestampError as exc:
        raise QueryError(INVALID_VALUE, f"value at position {value_pos}: {exc}", value_pos) from None


def _lenient_date(text: str) -> str:
    """A "lenient calendar": day 30 of February is 1 March (only the filter-invalid-date-accepted fault uses it)."""
    try:
        real = date(int(text[:4]), int(text[5:7]), 1) + timedelta(days=int(text[8:10]) - 1)
    except ValueError:
        return text
    return real.isoformat() + text[10:]


def parse_filter(resource: Document, text: str | None, *, faults: Faults = NO_FAULTS) -> tuple[Condition, ...]:
    """Parse and validate a filter expression for a resource; empty or absent means no conditions."""
    if text is None or not text.strip():
        return ()
    if len(text) > MAX_FILTER_LENGTH:
        raise QueryError(INVALID_FILTER, f"filter is longer than {MAX_FILTER_LENGTH} characters")
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    nodes = [child for child in tree.children if isinstance(child, Tree)]
    if len(nodes) > MAX_CONDITIONS:
        raise QueryError(INVALID_FILTER, f"filter has more than {MAX_CONDITIONS} conditions")
    return tuple(_condition(resource, node, faults) for node in nodes)


def condition_sql(resource: Document, cond: Condition, *, faults: Faults = NO_FAULTS) -> tuple[str, list[object]]:
    """A parameterised SQL predicate for one condition (column names come from the resource table)."""
    field = resource.fields[cond.field]
    col, op, value = field.column, cond.op, cond.value
    if value is None:
        return (f"{col} IS NULL" if op == "=" else f"{col} IS NOT NULL"), []
    if isinstance(value, str):
        if op == "~":
            return f"instr({col}, ?) > 0", [value]
        return (f"{col} = ?" if op == "=" else f"{col} IS NOT ?"), [value]
    # Stored instants are whole milliseconds: compare exactly against a value that may have a fraction.
    floor, exact = value // _NS_PER_MS, value % _NS_PER_MS == 0
    ceil = floor if exact else floor + 1
    if op == "=":
        return (f"{col} = ?", [floor]) if exact else ("0", [])
    if op == "!=":
        return (f"{col} IS NOT ?", [floor]) if exact else ("1", [])
    bound = {">": floor, "<=": floor, ">=": ceil, "<": ceil}[op]
    if Fault.FILTER_GT_INCLUSIVE in faults:
        op = {">": ">=", "<": "<="}.get(op, op)
    return f"{col} {op} ?", [bound]
