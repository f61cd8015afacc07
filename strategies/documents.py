"""Valid create and update request bodies for credit memos, invoices and customer refunds.

Bodies refer only to the fixtures' ids (a customer or vendor of the document's currency, accounts of
the right type, items), carry the run's `tag` in `document_number` (and `memo` where the resource has
one) so a shared target can tell the run's objects apart, and draw line totals with strategies.money
on the currency's minor-unit grid. Each strategy returns the full body, e.g. `{"invoice": {...}}`.
Generated document numbers are `<tag>-g<suffix>`, never `<tag>-q...` (the query tests' prefix).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.fixtures import Fixtures, Party
from accounting_conformance.strategies.money import Spelling, amounts, minor_units, spelled, to_units

__all__ = ["creates", "updates"]

Body = dict[str, Any]
_MAX_TAG = 200
_MAX_LINE = Decimal("100000")
_TEXT = st.text(st.sampled_from('abcXYZ019 -_/#."\\é'), max_size=12)
_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
_TIMESTAMPS = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31), timezones=_ZONES).map(
    lambda d: d.isoformat(timespec="milliseconds").replace("+00:00", "Z")
)
_DATES = st.dates(datetime(2000, 1, 1).date(), datetime(2099, 12, 31).date()).map(lambda d: d.isoformat())


def _check(fixtures: Fixtures, tag: str, max_lines: int, spelling: Spelling) -> None:
    """Validate the options every document strategy takes."""
    if not isinstance(fixtures, Fixtures):
        raise InvalidArgument(f"fixtures={fixtures!r} must be a conformance.fixtures.Fixtures (see load_fixtures)")
    if not isinstance(tag, str) or not tag.strip() or len(tag) > _MAX_TAG:
        raise InvalidArgument(f"tag={tag!r} must be a non-blank string of at most {_MAX_TAG} characters")
    if isinstance(max_lines, bool) or not isinstance(max_lines, int) or not 1 <= max_lines <= 100:
        raise InvalidArgument(f"max_lines={max_lines!r} must be an integer from 1 to 100 (the contract's maxItems)")
    spelled(Decimal(1), spelling=spelling)


def _parties(fixtures: Fixtures, kind: str, currency: str | None) -> tuple[Party, ...]:
    """The customers or vendors a document in `currency` (any, if None) may name; InvalidArgument if none."""
    every = fixtures.all_customers if kind == "customer" else fixtures.all_vendors
    if currency is not None:
        minor_units(currency)
    pool = tuple(p for p in every if currency is None or p.currency_code == currency)
    if not pool:
        raise InvalidArgument(
            f"{fixtures.path} has no {kind} in {currency or 'any currency'} "
            f"(currencies present: {sorted({p.currency_code for p in every})})"
        )
    for party in pool:
        try:
            minor_units(party.currency_code)
        except InvalidArgument:
            raise InvalidArgument(
                f"{fixtures.path}: {kind} {party.id} has currency {party.currency_code!r}, not an ISO 4217 code"
            ) from None
    return pool


def _ids(fixtures: Fixtures, type: str) -> tuple[str, ...]:
    """The ids of the fixtures' accounts of a type."""
    return tuple(a.id for a in fixtures.accounts_of(type))


@st.composite
def _line(
    draw: st.DrawFn, currency: str, spelling: Spelling, accounts: tuple[str, ...], items: tuple[str, ...]
) -> Body:
    """One request line: a total on the currency grid, optionally a description, an account and an item."""
    total = draw(amounts(currency=currency, max_value=_MAX_LINE))
    line: Body = {"total_amount": draw(spelled(total, spelling=spelling))}
    if draw(st.booleans()):
        line["description"] = draw(st.one_of(_TEXT, st.none()))
    if bool(accounts) and draw(st.booleans()):
        line["account_id"] = draw(st.sampled_from(accounts))
    if bool(items) and draw(st.booleans()):
        item: Body = {"id": draw(st.sampled_from(items))}
        units = to_units(total, minor_units(currency))
        quantity = draw(st.sampled_from([q for q in (1, 2, 3, 4, 5) if units % q == 0]))
        if draw(st.booleans()):
            item["quantity"] = quantity
            item["unit_amount"] = draw(spelled(total / quantity, spelling=spelling))
        line["item"] = item
    return line


def _lines(
    currency: str, spelling: Spelling, max_lines: int, fixtures: Fixtures, account_type: str
) -> SearchStrategy[list[Body]]:
    """Between one and max_lines lines; shrinks towards a single line with the smallest total."""
    items = tuple(i.id for i in fixtures.items)
    return st.lists(_line(currency, spelling, _ids(fixtures, account_type), items), min_size=1, max_size=max_lines)


@st.composite
def _document(
    draw: st.DrawFn,
    fixtures: Fixtures,
    tag: str,
    parties: tuple[Party, ...],
    spec: dict[str, Any],
    update: bool,
    max_lines: int,
    spelling: Spelling,
) -> Body:
    """One create or update body of any resource, driven by its shape in `spec`."""
    party = draw(st.sampled_from(parties))
    currency = party.currency_code
    attrs: Body = {}
    optional = set(spec["optional"])
    wanted = {key for key in spec["optional"] if draw(st.booleans())}
    if not update:
        wanted |= set(spec["required"]) | {"document_number"} | ({"memo"} if "memo" in optional else set())
    if "document_number" in wanted:
        attrs["document_number"] = f"{tag}-g{draw(_TEXT)}"
    if "memo" in wanted:
        attrs["memo"] = f"conformance {tag} {draw(_TEXT)}".rstrip()
    if "party" in wanted:
        attrs[spec["party"]] = party.id
        if spec["currency"]:
            attrs["currency_code"] = currency
    if "account_id" in wanted and _ids(fixtures, spec["account"]):
        choices = st.sampled_from(_ids(fixtures, spec["account"]))
        attrs["account_id"] = draw(st.one_of(choices, st.none()) if spec["nullable_account"] else choices)
    for key in ("issue_date", "due_date", "transaction_date"):
        if key in wanted:
            stamps = {
                "issue_date": _TIMESTAMPS,
                "due_date": st.one_of(_TIMESTAMPS, st.none()),
                "transaction_date": st.one_of(_DATES, _TIMESTAMPS),
            }[key]
            attrs[key] = draw(stamps)
    if "line_items" in wanted:
        attrs["line_items"] = draw(_lines(currency, spelling, max_lines, fixtures, spec["line_account"]))
    return {spec["key"]: attrs}


_SPECS: dict[str, dict[str, Any]] = {
    "invoice_credit_memo": {
        "key": "invoice_credit_memo",
        "party": "customer_id",
        "currency": True,
        "account": "accounts_receivable",
        "nullable_account": True,
        "line_account": "income",
        "required": ("party", "line_items"),
        "optional": ("memo", "account_id", "issue_date"),
    },
    "bill_credit_memo": {
        "key": "bill_credit_memo",
        "party": "vendor_id",
        "currency": True,
        "account": "accounts_payable",
        "nullable_account": True,
        "line_account": "expense",
        "required": ("party", "line_items"),
        "optional": ("memo", "account_id", "issue_date"),
    },
    "invoice": {
        "key": "invoice",
        "party": "customer_id",
        "currency": True,
        "account": "accounts_receivable",
        "nullable_account": False,
        "line_account": "income",
        "required": ("party", "line_items"),
        "optional": ("memo", "account_id", "issue_date", "due_date"),
    },
    "customer_refund": {
        "key": "customer_refund",
        "party": "customer_id",
        "currency": False,
        "account": "bank",
        "nullable_account": False,
        "line_account": "income",
        "required": ("party", "account_id", "line_items"),
        "optional": ("transaction_date",),
    },
}
_UPDATABLE = ("document_number", "party", "line_items")


def _strategy(
    kind: str, fixtures: Fixtures, tag: str, currency: str | None, update: bool, max_lines: int, spelling: Spelling
) -> SearchStrategy[Body]:
    """Validate eagerly, then build the body strategy for one kind."""
    if kind not in _SPECS:
        raise InvalidArgument(f"kind={kind!r} must be one of {sorted(_SPECS)}")
    if update and kinds.get(kind).update_schema is None:
        raise InvalidArgument(f"the contract has no update of a {kind}")
    _check(fixtures, tag, max_lines, spelling)
    spec = dict(_SPECS[kind])
    if update:
        spec["optional"] = (*spec["optional"], *_UPDATABLE)
    elif "account_id" in spec["required"] and not _ids(fixtures, spec["account"]):
        raise InvalidArgument(f"{fixtures.path} has no account of type {spec['account']!r}, which a {kind} needs")
    parties = _parties(fixtures, "vendor" if spec["party"] == "vendor_id" else "customer", currency)
    return _document(fixtures, tag, parties, spec, update, max_lines, spelling)


def creates(
    kind: str,
    *,
    fixtures: Fixtures,
    tag: str,
    currency: str | None = None,
    max_lines: int = 3,
    spelling: Spelling = "either",
) -> SearchStrategy[Body]:
    """A kind's create request bodies (`<Schema>CreateRequest`); shrinks towards one smallest line, the first party,
    fewest fields."""
    return _strategy(kind, fixtures, tag, currency, False, max_lines, spelling)


def updates(
    kind: str,
    *,
    fixtures: Fixtures,
    tag: str,
    currency: str | None = None,
    max_lines: int = 3,
    spelling: Spelling = "either",
) -> SearchStrategy[Body]:
    """A kind's update request bodies (`<Schema>UpdateRequest`) in `currency`; shrinks towards the empty update."""
    return _strategy(kind, fixtures, tag, currency, True, max_lines, spelling)
