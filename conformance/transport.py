"""Schemathesis' requests go through a transport that honours 429 + Retry-After, as the suite's own client does.

The contract documents `429 TooManyRequests` with `Retry-After` on every operation
(`#/components/responses/TooManyRequests`): a server may throttle any request, and a client is to wait and
send it again. schemathesis retries only dropped connections, so a 429 that lands on one of its probes (the
request sent without credentials by `ignored_auth`, say) would be judged as that probe's answer. Every
request schemathesis sends for a case or a probe goes through `schema.transport`; this module puts a thin
wrapper there, which re-sends after a 429 and delegates everything else (serialisers included) unchanged.
"""

from __future__ import annotations

import time
from typing import Any

import schemathesis
from schemathesis.core.transport import Response

from accounting_conformance.conformance.client import retry_after_seconds

#: Sends of one request at most (the first and two re-sends), as the suite's own client.
ATTEMPTS = 3


class RetryAfterTransport:
    """Delegates to schemathesis' transport; re-sends a request answered 429, after its Retry-After."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def send(self, case: schemathesis.Case[Any], **kwargs: Any) -> Response:
        """Send the case; while the answer is 429 and attempts remain, wait as asked and send it again."""
        for _ in range(ATTEMPTS - 1):
            response: Response = self._inner.send(case, **kwargs)
            if response.status_code != 429:
                return response
            time.sleep(retry_after_seconds(_header(response, "retry-after")))
        last: Response = self._inner.send(case, **kwargs)
        return last


def _header(response: Response, name: str) -> str | None:
    values = response.headers.get(name)
    if isinstance(values, list):
        return values[0] if values else None
    return values


def honour_retry_after(schema: schemathesis.BaseSchema) -> schemathesis.BaseSchema:
    """The same schema object, whose transport now honours 429 + Retry-After (its class gains that one property)."""
    wrapped = RetryAfterTransport(schema.transport)
    schema.__class__ = type(
        f"RetryAfter{type(schema).__name__}",
        (type(schema),),
        {
            "transport": property(lambda self: wrapped),
            "__doc__": type(schema).__doc__,
        },
    )
    return schema
