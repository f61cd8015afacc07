"""The suite's own checks, registered with schemathesis so they also run on every fuzzed response."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Callable, Iterable

import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import CoverageScenario, coverage_scenario

from accounting_conformance.conformance import rules
from accounting_conformance.conformance.failures import violation
from accounting_conformance.conformance.invariants import Violation, check_object, iter_objects
from accounting_conformance.conformance.redact import Redactor, curl

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


def _object_check(reported: frozenset[str]) -> Callable[[CheckContext, Response, Case], None]:
    def run(ctx: CheckContext, response: Response, case: Case) -> None:
        body = _body(response)
        if body is None:
            return
        found = (item for kind, obj in iter_objects(body) for item in check_object(kind, obj) if item.rule in reported)
        _raise_first(found, case, response)

    return run


@schemathesis.check
def money_rules(ctx: CheckContext, response: Response, case: Case) -> None:
    """Allocations, remaining and due amounts and totals add up exactly (MONEY-*)."""
    _object_check(rules.of_family("money"))(ctx, response, case)


@schemathesis.check
def status_rules(ctx: CheckContext, response: Response, case: Case) -> None:
    """Statuses follow amounts (STATUS-*)."""
    _object_check(rules.of_family("status"))(ctx, response, case)


@schemathesis.check
def timestamp_rules(ctx: CheckContext, response: Response, case: Case) -> None:
    """Timestamps are ISO 8601 with a zone and created_at <= updated_at (TIME-001)."""
    _object_check(frozenset({"TIME-001"}))(ctx, response, case)


@schemathesis.check
def currency_rules(ctx: CheckContext, response: Response, case: Case) -> None:
    """Currency codes are ISO 4217 (CUR-001)."""
    _object_check(frozenset({"CUR-001"}))(ctx, response, case)


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


#: RFC 9110: 405 names the methods the resource has (and MUST carry `Allow`, §15.5.6), 501 says the server does not
#: recognise the method at all (§15.6.2). A server may also refuse before it dispatches on the method: 401/403
#: without valid credentials, 404 for a resource the generated path does not name, 429 when rate limited.
UNDECLARED_METHOD_ANSWERS = frozenset({401, 403, 404, 405, 429, 501})


def _undeclared_probe(case: Case) -> bool:
    return coverage_scenario(case) == CoverageScenario.UNSPECIFIED_HTTP_METHOD


@schemathesis.check
def undeclared_method(ctx: CheckContext, response: Response, case: Case) -> None:
    """A method the contract does not declare on a path is answered 405 with Allow, or 501 (METHOD-001)."""
    if not _undeclared_probe(case) or str(response.request.method).upper() == "OPTIONS":
        return
    status = response.status_code
    if status not in UNDECLARED_METHOD_ANSWERS or (status == 405 and not response.headers.get("allow")):
        raise violation(
            "METHOD-001",
            expected="HTTP 405 with an Allow header, or 501 (or 401/403/404/429 before method dispatch)",
            received=f"HTTP {status}" + (" without an Allow header" if status == 405 else ""),
            operation=f"{response.request.method} {case.operation.path}",
            reproduction=reproduction(response),
        )


@schemathesis.check
def server_error(ctx: CheckContext, response: Response, case: Case) -> None:
    """schemathesis' not_a_server_error, except a 501 to a method the contract does not declare (SCHEMA-002)."""
    if response.status_code == 501 and _undeclared_probe(case):
        return
    not_a_server_error(ctx, response, case)


#: schemathesis' built-in checks that ours replace (disabled in the run's configuration): the contract's rule on
#: undeclared methods admits 501, where schemathesis demands 405 and counts any 5xx as a server error.
REPLACED_BUILTINS = ("unsupported_method", "not_a_server_error")
OUR_CHECKS = (money_rules, status_rules, timestamp_rules, currency_rules, fetched_id, undeclared_method, server_error)
