"""Schemathesis' requests go through a transport that honours 429 + Retry-After, as the suite's own client does.

The contract documents `429 TooManyRequests` with `Retry-After` on every operation
(`#/components/responses/TooManyRequests`): a server may throttle any request, and a client is to wait and
send it again. schemathesis retries only dropped connections, so a 429 that lands on one of its probes (the
request sent without credentials by `ignored_auth`, say) would be judged as that probe's answer. Every
request schemathesis sends for a case or a probe goes through `schema.transport`; this module puts a thin
wrapper there, which waits for the run's pacer before each send (RATE_LIMIT, and a 429's Retry-After holds every
sender of the run: conformance/pacing.py), re-sends after a 429 and delegates everything else (serialisers included)
unchanged.

The same wrapper carries the run's token as the suite's own client does (conformance/tokens.py). schemathesis puts
the token its configuration names in the `access_token` query parameter; at send time (a requests auth hook on the
prepared request) a token of the run is replaced by the current one, and with TOKEN_IN=bearer whatever the parameter
holds, the run's token or a probe's wrong one, moves to an `Authorization: Bearer` header, so that `ignored_auth`'s
requests without a token or with a wrong one leave it out or send it where the real one goes. A 401 to the run's
token fetches a new one (ACCESS_TOKEN_COMMAND) and sends the request once more.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

import requests
import schemathesis
from requests.auth import AuthBase, HTTPBasicAuth
from schemathesis.core.transport import Response

from accounting_conformance.conformance.client import retry_after_seconds
from accounting_conformance.conformance.pacing import Pacer
from accounting_conformance.conformance.tokens import QUERY_PARAMETER, TokenSource, source_for

#: Sends of one request at most (the first and two re-sends), as the suite's own client.
ATTEMPTS = 3


class TokenPlacement(AuthBase):
    """A requests auth hook for one send: the run's token replaced by the current one, and with TOKEN_IN=bearer the
    `access_token` parameter's value moved to an `Authorization: Bearer` header; any other auth of the request first."""

    def __init__(self, tokens: TokenSource, inner: Any = None) -> None:
        self.tokens = tokens
        self.inner: AuthBase | None = HTTPBasicAuth(*inner) if isinstance(inner, tuple) else inner
        self.sent: str | None = None  # the run's token, when the last request prepared carried it

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Place the token on the prepared request."""
        if self.inner is not None:
            request = self.inner(request)
        self.sent = None
        parts = urlsplit(request.url or "")
        kept: list[str] = []
        carried: list[tuple[str, str]] = []  # (decoded value, as the URL spelt it)
        for pair in parts.query.split("&") if parts.query else []:
            name, _, value = pair.partition("=")
            if unquote_plus(name) == QUERY_PARAMETER:
                decoded = unquote_plus(value)
                if self.tokens.ours(decoded):
                    decoded = self.sent = self.tokens.current
                    value = quote(decoded, safe="")
                carried.append((decoded, value))
                if not self.tokens.bearer:
                    kept.append(f"{name}={value}")
            else:
                kept.append(pair)
        if self.tokens.bearer and carried:
            decoded, spelt = carried[0]
            request.headers["Authorization"] = f"Bearer {decoded if _header_safe(decoded) else spelt}"
        request.url = urlunsplit(parts._replace(query="&".join(kept)))
        return request


def _header_safe(value: str) -> bool:
    """Whether a value can go in a header as it is (visible ASCII and inner spaces; RFC 9110 §5.5)."""
    return value == value.strip() and all(" " <= ch <= "~" for ch in value)


class RetryAfterTransport:
    """Delegates to schemathesis' transport; re-sends a request answered 429, after its Retry-After; carries the
    run's token (`tokens`) where TOKEN_IN says and sends a request answered 401 once more with a fresh one."""

    def __init__(self, inner: Any, tokens: TokenSource | None = None, pacer: Pacer | None = None) -> None:
        self._inner = inner
        self._tokens = tokens
        self._pacer = pacer or Pacer()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def send(self, case: schemathesis.Case[Any], **kwargs: Any) -> Response:
        """Send the case with the run's token in its place; a 401 to the run's token fetches a new one and sends the
        case once more."""
        tokens = self._tokens
        if tokens is None or (tokens.command is None and not tokens.bearer):
            return self._send(case, kwargs)  # the token stays where schemathesis put it, and never changes
        placement = TokenPlacement(tokens, kwargs.get("auth") or getattr(case, "_auth", None))
        kwargs = {**kwargs, "auth": placement}
        response = self._send(case, kwargs)
        carried = placement.sent
        if response.status_code != 401:
            tokens.accepted(carried)
            return response
        if tokens.refresh(carried) is None:  # a probe's missing or wrong token, or nothing new to try
            return response
        response = self._send(case, kwargs)
        if response.status_code != 401:
            tokens.accepted(placement.sent)
        return response

    def _send(self, case: schemathesis.Case[Any], kwargs: dict[str, Any]) -> Response:
        """Send the case in its turn (the run's pacer); while the answer is 429 and attempts remain, every sender waits
        as asked and the case is sent again."""
        for _ in range(ATTEMPTS - 1):
            self._pacer.wait()
            response: Response = self._inner.send(case, **kwargs)
            if response.status_code != 429:
                return response
            self._pacer.pause(retry_after_seconds(_header(response, "retry-after")))
        self._pacer.wait()
        last: Response = self._inner.send(case, **kwargs)
        return last


def _header(response: Response, name: str) -> str | None:
    values = response.headers.get(name)
    if isinstance(values, list):
        return values[0] if values else None
    return values


def run_tokens(schema: schemathesis.BaseSchema) -> TokenSource | None:
    """The token source of the run whose token the schema's configuration carries (its API key), if any."""
    try:
        schemes = schema.config.auth.openapi.schemes
    except AttributeError:  # no OpenAPI auth configured
        return None
    for scheme in schemes.values():
        found = source_for(getattr(scheme, "api_key", None))
        if found is not None:
            return found
    return None


def honour_retry_after(schema: schemathesis.BaseSchema, pacer: Pacer | None = None) -> schemathesis.BaseSchema:
    """The same schema object, whose transport now keeps to the run's pace (RATE_LIMIT, and a 429's Retry-After for
    every sender), re-sends after a 429 and carries the run's token as TOKEN_IN says (its class gains that one
    property)."""
    wrapped = RetryAfterTransport(schema.transport, run_tokens(schema), pacer)
    schema.__class__ = type(
        f"RetryAfter{type(schema).__name__}",
        (type(schema),),
        {
            "transport": property(lambda self: wrapped),
            "__doc__": type(schema).__doc__,
        },
    )
    return schema
