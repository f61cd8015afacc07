"""Every response the suite's own tests accept is held to the contract's response schema (SCHEMA-001).

The fuzzer validates what it generates; the pointed tests and the state machines reach states it rarely
does (a memo after two applications, a reverted bill credit, a finished job), so their responses are
validated too, with schemathesis' own response validation over the same contract (no second validator).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import schemathesis
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.schemas import OpenApiSchema

from accounting_conformance.conformance.client import ApiClient, Exchange
from accounting_conformance.conformance.failures import violation

#: Headers about how the body travelled, not what it is (RFC 9110 §8.4, §8.6; RFC 9112 §6.1).
_TRANSFER_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class ResponseContract:
    """Validates exchanges against the contract's documented response for their operation and status."""

    def __init__(self, schema: schemathesis.BaseSchema) -> None:
        if not isinstance(schema, OpenApiSchema):
            raise TypeError(f"the contract is an OpenAPI document, got {type(schema).__name__}")
        self.schema = schema

    def check(self, client: ApiClient, exchange: Exchange) -> None:
        """Raise a SCHEMA-001 violation when the exchange's response breaks the contract; unknown paths pass to 404 checks."""
        path = urlsplit(exchange.url).path.removeprefix(urlsplit(client.base).path.rstrip("/"))
        operation = self.schema.find_operation_by_path(exchange.method, path)
        if operation is None:
            return  # a path the contract does not have: the tests asking for it judge the status themselves
        # The body was decoded on arrival (gzip, chunks); the headers that described its transfer no longer apply.
        headers = {k: v for k, v in exchange.headers.items() if k not in _TRANSFER_HEADERS}
        response = httpx.Response(
            exchange.status,
            headers=headers,
            content=exchange.text.encode(),
            request=httpx.Request(exchange.method, exchange.url),
        )
        response.elapsed = timedelta(seconds=exchange.elapsed)
        try:
            operation.validate_response(response)
        except (Failure, FailureGroup) as exc:
            first = exc if isinstance(exc, Failure) else next(e for e in exc.exceptions if isinstance(e, Failure))
            raise violation(
                "SCHEMA-001",
                expected=f"a response matching the contract for {operation.label} -> HTTP {exchange.status}",
                received=client.redactor(f"{first.title}: {first.message}"[:600]),
                operation=operation.label,
                reproduction=exchange.reproduction(client.redactor),
            ) from None
