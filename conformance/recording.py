"""The two ways the suite talks to a target, made to report every exchange to the run's `Recorder`.

The suite's own client is subclassed (`RecordingClient`); schemathesis' transport is wrapped the way
`transport.honour_retry_after` wraps it, outside that wrapper, so what is recorded is the answer a check judged.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import schemathesis
from schemathesis.core.transport import Response

from accounting_conformance.conformance.client import ApiClient, Exchange, ResponseCheck
from accounting_conformance.conformance.pacing import Pacer
from accounting_conformance.conformance.recorder import Recorder, now
from accounting_conformance.conformance.settings import Settings


class RecordingClient(ApiClient):
    """The suite's client, each exchange of which goes to the recorder."""

    def __init__(
        self,
        settings: Settings,
        recorder: Recorder,
        contract: ResponseCheck | None = None,
        *,
        pacer: Pacer | None = None,
    ) -> None:
        super().__init__(settings, contract, pacer=pacer)
        self.recorder = recorder

    def request(self, method: str, path: str, **kwargs: Any) -> Exchange:
        """Send as ApiClient does, then record what was sent and what came back."""
        started = now()
        exchange = super().request(method, path, **kwargs)
        self.recorder.record(
            exchange.method,
            exchange.url,
            exchange.request_headers,
            exchange.request_body,
            exchange.status,
            exchange.headers,
            exchange.text,
            started=started,
            elapsed=exchange.elapsed,
            error=exchange.error,
        )
        return exchange


class RecordingTransport:
    """Delegates to schemathesis' transport (as wrapped already); records each request it sends and its answer."""

    def __init__(self, inner: Any, recorder: Recorder) -> None:
        self._inner = inner
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def send(self, case: schemathesis.Case[Any], **kwargs: Any) -> Response:
        """Send the case and record the exchange (a transport error is recorded without a status, then raised)."""
        started, clock = now(), time.monotonic()
        try:
            response: Response = self._inner.send(case, **kwargs)
        except Exception as exc:
            self._recorder.record(
                case.method,
                case.formatted_path if hasattr(case, "formatted_path") else case.path,
                _headers(case.headers or {}),
                None,
                0,
                {},
                "",
                started=started,
                elapsed=time.monotonic() - clock,
                error=f"{type(exc).__name__}: {exc}",
            )
            raise
        request = response.request
        body = request.body
        self._recorder.record(
            str(request.method),
            str(request.url),
            _headers(request.headers),
            body if isinstance(body, (str, bytes)) else None,
            response.status_code,
            response.headers,
            response.content or b"",
            started=started,
            elapsed=response.elapsed,
        )
        return response


def _headers(headers: Mapping[str, Any]) -> dict[str, str]:
    return {str(name): str(value) for name, value in headers.items()}


def record_schema(schema: schemathesis.BaseSchema, recorder: Recorder) -> schemathesis.BaseSchema:
    """The same schema object, whose transport now also records every exchange."""
    wrapped = RecordingTransport(schema.transport, recorder)
    schema.__class__ = type(
        f"Recording{type(schema).__name__}",
        (type(schema),),
        {"transport": property(lambda self: wrapped), "__doc__": type(schema).__doc__},
    )
    return schema
