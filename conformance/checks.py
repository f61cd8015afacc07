"""The suite's own checks, run by schemathesis on every fuzzed and linked response beside its own.

`Checks(redactor)` holds one run's checks: each is a method schemathesis calls as a check function
(`ctx, response, case`), and every reproduction it attaches is masked by that run's redactor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from schemathesis import Case, CheckContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import CoverageScenario, coverage_scenario

from accounting_conformance.conformance import rules
from accounting_conformance.conformance.failures import violation
from accounting_conformance.conformance.invariants import Violation, check_object, iter_objects
from accounting_conformance.conformance.redact import Redactor, curl

#: What schemathesis calls on every response (a check may return True to say it did not apply).
CheckFunction = Callable[[CheckContext, Response, Case[Any]], bool | None]

#: RFC 9110: 405 names the methods the resource has (and MUST carry `Allow`, §15.5.6), 501 says the server does not
#: recognise the method at all (§15.6.2). A server may also refuse before it dispatches on the method: 401/403
#: without valid credentials, 404 for a resource the generated path does not name, 429 when rate limited.
UNDECLARED_METHOD_ANSWERS = frozenset({401, 403, 404, 405, 429, 501})

#: schemathesis' built-in checks that ours replace (disabled in the run's configuration): the contract's rule on
#: undeclared methods admits 501, where schemathesis demands 405 and counts any 5xx as a server error.
REPLACED_BUILTINS = ("unsupported_method", "not_a_server_error")


def _body(response: Response) -> Any:
    if response.status_code != 200:
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        return None  # not JSON: schemathesis' content-type and schema checks report it


def _undeclared_probe(case: Case[Any]) -> bool:
    return coverage_scenario(case) == CoverageScenario.UNSPECIFIED_HTTP_METHOD


class Checks:
    """The suite's checks for one run, their reproductions masked by the run's redactor."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    def all(self) -> tuple[CheckFunction, ...]:
        """Every check, in the order schemathesis runs them."""
        return (
            self.money_rules,
            self.status_rules,
            self.timestamp_rules,
            self.currency_rules,
            self.fetched_id,
            self.undeclared_method,
            self.server_error,
        )

    def reproduction(self, response: Response) -> str:
        """A curl command for the request behind a response, secrets masked."""
        request = response.request
        body = request.body
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body if isinstance(body, str) else None
        headers = {str(name): str(value) for name, value in request.headers.items()}
        return curl(str(request.method), str(request.url), headers, text, self.redactor)

    def _raise_first(self, found: Iterable[Violation], case: Case[Any], response: Response) -> None:
        for item in found:
            raise violation(
                item.rule,
                expected=f"{item.path}: {item.expected}",
                received=f"{item.path}: {item.received}",
                operation=case.operation.label,
                reproduction=self.reproduction(response),
            )

    def _objects(self, reported: frozenset[str], response: Response, case: Case[Any]) -> None:
        """The first violation among `reported` of any object the response carries."""
        body = _body(response)
        if body is None:
            return
        found = (item for kind, obj in iter_objects(body) for item in check_object(kind, obj) if item.rule in reported)
        self._raise_first(found, case, response)

    def money_rules(self, ctx: CheckContext, response: Response, case: Case[Any]) -> None:
        """Allocations, remaining and due amounts and totals add up exactly (MONEY-*)."""
        self._objects(rules.of_family("money"), response, case)

    def status_rules(self, ctx: CheckContext, response: Response, case: Case[Any]) -> None:
        """Statuses follow amounts (STATUS-*)."""
        self._objects(rules.of_family("status"), response, case)

    def timestamp_rules(self, ctx: CheckContext, response: Response, case: Case[Any]) -> None:
        """Timestamps are ISO 8601 with a zone and created_at <= updated_at (TIME-001)."""
        self._objects(frozenset({"TIME-001"}), response, case)

    def currency_rules(self, ctx: CheckContext, response: Response, case: Case[Any]) -> None:
        """Currency codes are ISO 4217 (CUR-001)."""
        self._objects(frozenset({"CUR-001"}), response, case)

    def fetched_id(self, ctx: CheckContext, response: Response, case: Case[Any]) -> None:
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
                    reproduction=self.reproduction(response),
                )

    def undeclared_method(self, ctx: CheckContext, response: Response, case: Case[Any]) -> None:
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
                reproduction=self.reproduction(response),
            )

    def server_error(self, ctx: CheckContext, response: Response, case: Case[Any]) -> None:
        """schemathesis' not_a_server_error, except a 501 to a method the contract does not declare (SCHEMA-002)."""
        if response.status_code == 501 and _undeclared_probe(case):
            return
        not_a_server_error(ctx, response, case)
