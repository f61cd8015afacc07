"""The failed checks of a recording, re-applied to its replay: one small judge per rule, everything from the contract.

The stateful money rules are judged by feeding the replayed sequence into the suite's model ledger
(conformance/ledger.py): creates seed it, applications, reverts, updates and deletes are predicted by it, and every
memo or invoice a replayed response shows is compared with it, as the stateful tests compare their fetches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from functools import cache
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import schemathesis
from schemathesis import CheckContext
from schemathesis.checks import content_type_conformance, response_headers_conformance, status_code_conformance
from schemathesis.core.failures import Failure, FailureGroup

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.client import ApiClient, Exchange
from accounting_conformance.conformance.contract import component
from accounting_conformance.conformance.expect import amount, links_of, payments_of
from accounting_conformance.conformance.failures import RuleViolation
from accounting_conformance.conformance.fixtures import Bill
from accounting_conformance.conformance.invariants import check_object, iter_objects, to_decimal
from accounting_conformance.conformance.ledger import Ledger, Memo, Prediction, Target
from accounting_conformance.conformance.resources import contract_path
from accounting_conformance.conformance.responses import ResponseContract

MODEL_RULES = ("APPLY-001", "APPLY-002", "APPLY-003", "APPLY-004", "STATE-001")
_AS_SENT = ("total_amount", "remaining_amount", "amount_due")  # a document's amounts, before any later write
#: The kinds credit is applied to that the suite creates (invoices); bills come from the fixtures.
TARGETS = frozenset(t for m in kinds.MEMOS if (t := kinds.application(m).target))


@dataclass(frozen=True)
class Finding:
    """A rule the replay still breaks: what was expected, what came back, and at which replayed request."""

    rule: str
    expected: str
    received: str
    index: int  # into Replayed.exchanges
    subject: str = ""  # what the model compared: remaining_amount, status, links, ...


@dataclass
class Replayed:
    """A replay: the exchanges as sent to the target, and the target's bills."""

    client: ApiClient  # its base and redactor serve ResponseContract and the reproductions
    exchanges: list[Exchange]
    bills: Callable[[], tuple[Bill, ...]] = tuple  # read only when a replayed application names a bill
    _cache: dict[str, list[Finding]] = field(default_factory=dict)

    def body(self, index: int) -> Any:
        """The JSON body of a replayed 2xx response, amounts as exact decimals; None for anything else."""
        exchange = self.exchanges[index]
        return _json(exchange.text) if 200 <= exchange.status < 300 else None

    def request(self, index: int, key: str) -> dict[str, Any]:
        """The object a replayed request body carries under `key` ({} when it has none)."""
        body = _json(self.exchanges[index].request_body or "")
        found = body.get(key) if isinstance(body, dict) else None
        return found if isinstance(found, dict) else {}

    def route(self, index: int) -> tuple[str, str, str]:
        """(verb, kind, object id) of a replayed request by the contract's paths; verb "" for any other request."""
        exchange = self.exchanges[index]
        path = urlsplit(exchange.url).path.removeprefix(urlsplit(self.client.base).path.rstrip("/"))
        for kind in kinds.KINDS:
            applied = kind.application
            if applied and exchange.method == "POST" and path in (applied.path, applied.revert and applied.revert.path):
                return ("apply" if path == applied.path else "revert"), kind.name, ""
            if path == kind.path:
                return {"GET": "list", "POST": "create"}.get(exchange.method, ""), kind.name, ""
            rest = path.removeprefix(kind.path + "/")
            if rest != path and rest and "/" not in rest:
                return (
                    {"GET": "get", "PATCH": "update", "DELETE": "delete"}.get(exchange.method, ""),
                    kind.name,
                    unquote(rest),
                )
        return "", "", ""

    def once(self, name: str, judge: Callable[[Replayed], list[Finding]]) -> list[Finding]:
        """A judge's findings, computed once per replay (one judge serves several rules)."""
        if name not in self._cache:
            self._cache[name] = judge(self)
        return self._cache[name]


def _json(text: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal) if text else None
    except (ValueError, RecursionError):
        return None


def judge_schema(replayed: Replayed) -> list[Finding]:
    """SCHEMA-001: each replayed response is one the contract documents (status, content type and headers, by
    schemathesis' own checks, as the run applies them) and matches its schema (ResponseContract)."""
    found = []
    for index, exchange in enumerate(replayed.exchanges):
        path = urlsplit(exchange.url).path.removeprefix(urlsplit(replayed.client.base).path.rstrip("/"))
        operation = _contract().schema.find_operation_by_path(exchange.method, path) if exchange.status else None
        if operation is None:
            continue
        response = _response(exchange)
        try:
            for check in (status_code_conformance, content_type_conformance, response_headers_conformance):
                check(cast(CheckContext, None), response, operation.Case())  # these read only the operation
            _contract().check(replayed.client, exchange)
        except RuleViolation as exc:
            found.append(Finding("SCHEMA-001", exc.expected, exc.received, index))
        except (Failure, FailureGroup) as exc:
            first = exc if isinstance(exc, Failure) else next(e for e in exc.exceptions if isinstance(e, Failure))
            expected = f"a response the contract documents for {operation.label}"
            received = f"{first.title}: {first.message}".replace("\n", "; ")[:600]
            found.append(Finding("SCHEMA-001", expected, received, index))
    return found


def judge_server_errors(replayed: Replayed) -> list[Finding]:
    """SCHEMA-002: no replayed request is answered 5xx."""
    return [
        Finding("SCHEMA-002", "a response other than 5xx", f"HTTP {e.status}: {e.text[:300]}", index)
        for index, e in enumerate(replayed.exchanges)
        if e.status >= 500
    ]


def judge_objects(replayed: Replayed) -> list[Finding]:
    """MONEY-*, STATUS-*, TIME-001, CUR-001: check_object on every object of every replayed 2xx body."""
    return [
        Finding(v.rule, f"{kind} {obj.get('id')} {v.path}: {v.expected}", v.received, index)
        for index in range(len(replayed.exchanges))
        for kind, obj in iter_objects(replayed.body(index))
        for v in check_object(kind, obj)
    ]


def judge_fetch(replayed: Replayed) -> list[Finding]:
    """FETCH-001: a replayed GET by id answers the object of that id (of that platform_id with id_type=platform)."""
    found = []
    for index, exchange in enumerate(replayed.exchanges):
        verb, kind, wanted = replayed.route(index)
        body, query = replayed.body(index), dict(parse_qsl(urlsplit(exchange.url).query))
        key = {"rutter": "id", "platform": "platform_id"}.get(query.get("id_type", "rutter"))
        if verb == "get" and key and isinstance(body, dict) and isinstance(body.get(kind), dict):
            if body[kind].get(key) != wanted:
                got = f"{key} = {body[kind].get(key)!r}"
                found.append(Finding("FETCH-001", f"the {kind} whose {key} is {wanted}", got, index))
    return found


def judge_model(replayed: Replayed) -> list[Finding]:
    """APPLY-001..004 and STATE-001: the replayed sequence through the model ledger, to its first divergence."""
    return _Model(replayed).run()


_SIMPLE = {"SCHEMA-001": judge_schema, "SCHEMA-002": judge_server_errors, "FETCH-001": judge_fetch}


def judge(rule: str, replayed: Replayed) -> list[Finding] | None:
    """The findings of one rule on a replay; None when replay cannot re-judge that rule."""
    if rule in _SIMPLE:
        return replayed.once(rule, _SIMPLE[rule])
    if rule.startswith(("MONEY-", "STATUS-")) or rule in ("TIME-001", "CUR-001"):
        found = [f for f in replayed.once("objects", judge_objects) if f.rule == rule]
        if rule == "MONEY-010":  # and the amounts of a document as sent, which the model holds exactly, kept exactly
            model = replayed.once("model", judge_model)
            found += [replace(f, rule=rule) for f in model if f.rule == "STATE-001" and f.subject in _AS_SENT]
        return found
    if rule in MODEL_RULES:  # STATE-001, every amount, status and link as the model says, is broken by any divergence
        return [f for f in replayed.once("model", judge_model) if rule in (f.rule, "STATE-001")]
    return None


def _response(exchange: Exchange) -> schemathesis.Response:
    """A replayed response as schemathesis' checks take it (decoded on arrival: its transfer headers dropped)."""
    headers = {k: v for k, v in exchange.headers.items() if k not in ("content-encoding", "content-length")}
    request = httpx.Request(exchange.method, exchange.url)
    response = httpx.Response(exchange.status, headers=headers, content=exchange.text.encode(), request=request)
    response.elapsed = timedelta(seconds=exchange.elapsed)
    return schemathesis.Response.from_any(response)


@cache
def _contract() -> ResponseContract:
    return ResponseContract(schemathesis.openapi.from_path(contract_path()))


@cache
def _party(kind: str) -> str:
    """The field naming a document's customer or vendor, from its create schema."""
    create = component(kinds.get(kind).create_schema or "")["properties"]
    return next(name for name in ("customer_id", "vendor_id") if name in create)


def _amount(value: Any) -> Decimal | None:
    """A request's or a created object's amount as an exact Decimal within the range of money; None for another."""
    try:
        return to_decimal(value)
    except ValueError:
        return None


def _lines_total(attrs: Mapping[str, Any]) -> Decimal | None:
    """The sum of a request's line_items[].total_amount; None unless every line has a decimal one."""
    lines = attrs.get("line_items")
    totals = [_amount(line.get("total_amount")) if isinstance(line, dict) else None for line in lines or []]
    exact = [value for value in totals if value is not None]
    return sum(exact, Decimal(0)) if isinstance(lines, list) and lines and len(exact) == len(totals) else None


class _Model:
    """The replayed sequence fed step by step into the model ledger, stopping at the first divergence."""

    def __init__(self, replayed: Replayed) -> None:
        self.replayed, self.ledger = replayed, Ledger()
        self.last: dict[str, str] = {}  # object id -> the rule of the last write that touched it
        self.found: list[Finding] = []

    def run(self) -> list[Finding]:
        """Every step in order: predict and follow each write, compare each object a response shows."""
        for index in range(len(self.replayed.exchanges)):
            verb, kind, object_id = self.replayed.route(index)
            step = (
                getattr(self, f"_{verb}", None) if verb in ("create", "apply", "revert", "update", "delete") else None
            )
            if step is not None:
                step(index, kind, object_id)
            if not self.found:
                self._compare(index)
            if self.found:
                break
        return self.found

    def _accepted(self, index: int) -> bool:
        return 200 <= self.replayed.exchanges[index].status < 300

    def _agrees(self, index: int, prediction: Prediction, rule: str, *, refusal_judged: bool = True) -> bool:
        """Whether the target accepted what the model says it must (refused what it must refuse); a finding if not."""
        accepted = self._accepted(index)
        if accepted == prediction.accepted or (not accepted and not refusal_judged):
            return True
        exchange = self.replayed.exchanges[index]
        why = "it fits what is open" if prediction.accepted else f"it must be refused: {prediction.reason}"
        received = exchange.error or f"HTTP {exchange.status}: {exchange.text[:300]}"
        self.found.append(Finding(rule, f"HTTP {200 if prediction.accepted else 400} ({why})", received, index))
        return False

    def _forget(self, *object_ids: str) -> None:
        """Objects a write changed in a way the model cannot follow: no longer compared."""
        for object_id in object_ids:
            self.ledger.memos.pop(object_id, None)
            self.ledger.targets.pop(object_id, None)

    def _create(self, index: int, kind: str, _: str) -> None:
        attrs, body = self.replayed.request(index, kind), self.replayed.body(index)
        created = body.get(kind) if isinstance(body, dict) else None
        if (
            not isinstance(created, dict)
            or not isinstance(created.get("id"), str)
            or kind not in {*kinds.MEMOS, *TARGETS}
        ):
            return
        currency, party = (
            attrs.get("currency_code", created.get("currency_code")),
            attrs.get(_party(kind), created.get(_party(kind))),
        )
        if kind in kinds.MEMOS:
            total = _lines_total(attrs) or _amount(created.get("total_amount"))
            if total is not None:
                self.ledger.add_memo(Memo(kind, created["id"], total, str(currency), str(party)))
        elif (total := _amount(created.get("total_amount"))) is not None:
            self.ledger.add_target(Target(created["id"], total, str(currency), str(party), total))
        self.last[created["id"]] = "STATE-001"

    def _know_bills(self, ids: set[str]) -> None:
        for bill in self.replayed.bills() if ids - self.ledger.targets.keys() else ():
            if bill.id in ids and bill.id not in self.ledger.targets:
                self.ledger.add_target(
                    Target(bill.id, bill.total_amount, bill.currency_code, bill.vendor_id, bill.amount_due)
                )

    def _apply(self, index: int, kind: str, _: str) -> None:
        applied = kinds.application(kind)
        attrs = self.replayed.request(index, applied.key)
        memo_id, links = attrs.get(applied.memo_field), attrs.get(applied.links)
        plan = (
            [(str(link.get("id")), _amount(link.get("allocated_amount"))) for link in links if isinstance(link, dict)]
            if isinstance(links, list)
            else []
        )
        self._know_bills({target for target, _ in plan})
        if memo_id not in self.ledger.memos or not plan or any(t not in self.ledger.targets for t, _ in plan):
            if self._accepted(index):  # money moved where the model cannot follow it
                self._forget(str(memo_id), *(target for target, _ in plan))
            return
        exact = [(target, value) for target, value in plan if value is not None]
        currency = attrs.get("currency_code")
        prediction = (
            self.ledger.predict_application(memo_id, exact, currency if isinstance(currency, str) else None)
            if len(exact) == len(plan)
            else Prediction(False, "an allocated amount that is not a decimal")
        )
        rule = "APPLY-001" if prediction.accepted else "APPLY-002"
        self.last.update(dict.fromkeys([memo_id, *(target for target, _ in plan)], rule))
        if self._agrees(index, prediction, rule) and prediction.accepted:
            self.ledger.apply(memo_id, exact)

    def _revert(self, index: int, kind: str, _: str) -> None:
        reverted = kinds.revert(kind)
        attrs = self.replayed.request(index, reverted.key)
        memo_id, target = attrs.get(kinds.application(kind).memo_field), attrs.get(reverted.target_field)
        if memo_id not in self.ledger.memos or not isinstance(target, str):
            return
        prediction = self.ledger.predict_revert(memo_id, target)
        self.last.update(dict.fromkeys([memo_id, target], "APPLY-003"))
        if self._agrees(index, prediction, "APPLY-003") and prediction.accepted:
            self.ledger.revert(memo_id, target)

    def _update(self, index: int, kind: str, object_id: str) -> None:
        attrs = self.replayed.request(index, kind)
        if "line_items" not in attrs:
            return  # no amount changes
        memo, target, body = (
            self.ledger.memos.get(object_id),
            self.ledger.targets.get(object_id),
            self.replayed.body(index),
        )
        if memo is not None and (new_total := _lines_total(attrs)) is not None:
            prediction = self.ledger.predict_total_change(object_id, new_total)
            self.last[object_id] = (
                "APPLY-004"  # a valid update refused for a reason the model does not know: no finding
            )
            if self._agrees(index, prediction, "APPLY-004", refusal_judged=False) and self._accepted(index):
                memo.total = new_total
        elif (
            target is not None and self._accepted(index) and isinstance(body, dict) and isinstance(body.get(kind), dict)
        ):
            total = _amount(body[kind].get("total_amount"))  # new lines, with their taxes and discounts: a new total
            if total is not None:
                target.total = target.due_at_start = total
        elif self._accepted(index):
            self._forget(object_id)

    def _delete(self, index: int, kind: str, object_id: str) -> None:
        if object_id in self.ledger.memos:
            prediction = self.ledger.predict_delete(object_id)
            if self._agrees(index, prediction, "STATE-001", refusal_judged=False) and self._accepted(index):
                self.ledger.delete(object_id)

    def _compare(self, index: int) -> None:
        """Each memo or invoice of a replayed response that the model knows must be as the model says."""
        for kind, obj in iter_objects(self.replayed.body(index)):
            object_id = str(obj.get("id"))
            try:
                differences = self._differences(kind, object_id, obj)
            except ArithmeticError:  # amounts beyond any decimal context: they cannot be the model's
                differences = [("amounts", "exact decimal amounts", "amounts out of the range of money")]
            for what, expected, received in differences:
                if expected != received:
                    rule = self.last.get(object_id, "STATE-001")
                    found = (f"{kind} {object_id} {what} = {expected}", f"{kind} {object_id} {what} = {received}")
                    self.found.append(Finding(rule, *found, index, subject=what))
                    return

    def _differences(self, kind: str, object_id: str, obj: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
        """(what, the model's value, the response's) of a memo or invoice the model knows; [] for another object."""
        memo, target = self.ledger.memos.get(object_id), self.ledger.targets.get(object_id)
        if memo is not None and memo.kind == kind:
            links = dict(sorted(links_of(obj, kind).items()))
            return [
                ("total_amount", memo.total, amount(obj.get("total_amount"))),
                ("remaining_amount", memo.remaining, amount(obj.get("remaining_amount"))),
                ("status", memo.status, obj.get("status")),
                ("links", dict(sorted(memo.links.items())), links),
            ]
        if target is not None and kind in TARGETS:
            payments = dict(sorted(payments_of(obj).items()))
            return [
                ("amount_due", target.due, amount(obj.get("amount_due"))),
                ("status", target.status, obj.get("status")),
                ("credit memo payments", dict(sorted(target.payments.items())), payments),
            ]
        return []
