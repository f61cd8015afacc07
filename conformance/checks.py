"""The suite's own checks, registered with schemathesis so they also run on every fuzzed response."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Callable, Iterable

import schemathesis
from schemathesis import Case, CheckContext, Response

from conformance.failures import violation
from conformance.invariants import Violation, check_object, iter_objects
from conformance.redact import Redactor, curl

_redactor: Redactor = Redactor([])


def configure(redactor: Redactor) -> None:
    """Use this redactor for the reproductions the checks attach."""
    global _redactor
    _redactor = redactor


def reproduction(response: Response) -> str:
    """A curl command for the request behind a response, secrets masked."""
    request = response.request
    body = request.body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return curl(str(request.method), str(request.url), dict(request.headers), text, _redactor)


def _body(response: Response) -> Any:
    if response.status_code != 200:
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        return None  # not JSON: schemathesis' content-type and schema checks report it


def _raise_first(found: Iterable[Violation], case: Case, response: Response) -> None:
    for item in found:
        raise violation(
            item.rule,
            expected=f"{item.path}: {item.expected}",
            received=f"{item.path}: {item.received}",
            operation=case.operation.label,
            reproduction=reproduction(response),
        )


def _object_check(prefixes: tuple[str, ...]) -> Callable[[CheckContext, Response, Case], None]:
    def run(ctx: CheckContext, response: Response, case: Case) -> None:
        body = _body(response)
        if body is None:
            return
        found = (
            item
            for kind, obj in iter_objects(body)
            for item in check_object(kind, obj)
            if item.rule.split("-")[0] in prefixes
        )
        _raise_first(found, case, response)

    return run


@schemathesis.check
def money_rules(ctx: CheckContext, response: Response, case: Case) -> None:
    """Allocations, remaining and due amounts and totals add up exactly (MONEY-*)."""
    _object_check(("MONEY",))(ctx, response, case)


@schemathesis.check
def status_rules(ctx: CheckContext, response: Response, case: Case) -> None:
    """Statuses follow amounts (STATUS-*)."""
    _object_check(("STATUS",))(ctx, response, case)


@schemathesis.check
def timestamp_rules(ctx: CheckContext, response: Response, case: Case) -> None:
    """Timestamps are ISO 8601 with a zone and created_at <= updated_at (TIME-001)."""
    _object_check(("TIME",))(ctx, response, case)


@schemathesis.check
def currency_rules(ctx: CheckContext, response: Response, case: Case) -> None:
    """Currency codes are ISO 4217 (CUR-001)."""
    _object_check(("CUR",))(ctx, response, case)


@schemathesis.check
def fetched_id(ctx: CheckContext, response: Response, case: Case) -> None:
    """A fetch by id answers the object with that id (FETCH-001)."""
    if case.method.upper() != "GET" or "id" not in (case.path_parameters or {}):
        return
    if (case.query or {}).get("id_type") == "platform" or case.operation.path.startswith("/jobs"):
        return
    body = _body(response)
    if not isinstance(body, dict):
        return
    asked = case.path_parameters["id"]
    for _kind, obj in iter_objects(body):
        if obj.get("id") != asked:
            raise violation(
                "FETCH-001",
                expected=f"id = {asked!r}",
                received=f"id = {obj.get('id')!r}",
                operation=case.operation.label,
                reproduction=reproduction(response),
            )


OUR_CHECKS = (money_rules, status_rules, timestamp_rules, currency_rules, fetched_id)
