"""The HTTP layer: routing, authentication, validation against the contract, idempotency and async jobs."""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from accounting_conformance.reference_server import money, records, timestamps
from accounting_conformance.reference_server.errors import ApiError, conflict, internal, too_large, unauthorized
from accounting_conformance.reference_server.faults import NO_FAULTS, Fault, Faults
from accounting_conformance.reference_server.handlers import HANDLERS, Call
from accounting_conformance.reference_server.resources import CUSTOMER_REFUND, ENDPOINTS, JOB, Application, Document
from accounting_conformance.reference_server.service import Service
from accounting_conformance.reference_server.store import Database, load_fixtures, open_db
from accounting_conformance.reference_server.validation import Contract, InvalidRequest, parse_json

log = logging.getLogger("reference_server")
MAX_BODY = 1024 * 1024
WRITES = ("POST", "PATCH", "DELETE")


@dataclass(frozen=True)
class Settings:
    """What the server needs to start."""

    db_path: str = ":memory:"
    access_token: str | None = None  # None: the fixtures' token
    fixtures_path: str | None = None
    faults: Faults = NO_FAULTS  # deliberate bugs of this server (reference_server/faults.py)


JSON_WHITESPACE = b" \t\n\r"  # RFC 8259 section 2; bytes.strip() would also drop \x0b and \x0c


def _json(
    status: int, body: Any, headers: dict[str, str], background: BackgroundTask | None = None, *, faults: Faults
) -> Response:
    return Response(
        money.dumps(body, faults=faults),
        status_code=status,
        media_type="application/json",
        headers=headers,
        background=background,
    )


class Api:
    """One instance per app: the contract, the service, the request pipeline and the faults they run with."""

    def __init__(self, db: Database, contract: Contract, faults: Faults) -> None:
        self.db = db
        self.contract = contract
        self.faults = faults
        self.service = Service(db, faults)
        self.routes = [
            (method, template, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"))
            for method, template in contract.operations
        ]

    async def __call__(self, request: Request) -> Response:
        """Answer one request; every answer carries X-Rutter-Request-ID and bad input never reaches a 500."""
        headers = {"X-Rutter-Request-ID": str(uuid.uuid4())}
        try:
            status, body, extra, task = await self._handle(request)
            headers.update(extra)
            return _json(status, body, headers, task, faults=self.faults)
        except ApiError as exc:
            if Fault.REQUEST_ID_HEADER_MISSING in self.faults:
                headers = {}  # the error path builds its own headers and forgets the request id
            if exc.status == 405 and Fault.METHOD_NOT_ALLOWED_WITHOUT_ALLOW not in self.faults:
                headers["Allow"] = exc.message.split(": ", 1)[1]
            if Fault.ERROR_CONTENT_TYPE_TEXT in self.faults:
                return Response(exc.message, status_code=exc.status, media_type="text/plain", headers=headers)
            return _json(exc.status, exc.body(self.faults), headers, faults=self.faults)
        except Exception:  # a fault of ours: log it, leak nothing
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            return _json(500, internal().body(self.faults), headers, faults=self.faults)

    def _route(self, method: str, path: str) -> tuple[str, dict[str, str]]:
        allowed = []
        for route_method, template, pattern in self.routes:
            match = pattern.match(path)
            if match:
                if route_method == method:
                    return template, match.groupdict()
                allowed.append(route_method)
        if allowed:
            raise ApiError(405, "INVALID_REQUEST", "METHOD_NOT_ALLOWED", f"allowed: {', '.join(sorted(allowed))}")
        raise ApiError(404, "NOT_FOUND", "ENDPOINT_NOT_FOUND", f"There is no endpoint {method} {path}.")

    async def _handle(self, request: Request) -> tuple[int, Any, dict[str, str], BackgroundTask | None]:
        template, path_params = self._route(request.method, request.url.path)
        operation = self.contract.operations[(request.method, template)]
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise too_large(MAX_BODY)
        token = request.query_params.get("access_token")
        if token and Fault.TOKEN_WHITESPACE_TRIMMED in self.faults:
            token = token.strip()
        connection = self.service.connection(token) if token else None
        if connection is None and Fault.ACCESS_TOKEN_NOT_CHECKED in self.faults:
            connection = self.service.default_connection()
        if connection is None:
            raise unauthorized()
        try:
            values = {"query": dict(request.query_params), "path": path_params, "header": dict(request.headers)}
            params = self.contract.validate_parameters(operation, values, faults=self.faults)
            # only JSON's own whitespace makes "no body": JSON `null` or a lone form feed is a body, and a bad one
            sent = bool(raw.strip(JSON_WHITESPACE))
            body = parse_json(raw, faults=self.faults) if sent else None
            if not sent and operation.body_required:
                raise InvalidRequest("body", "a JSON body is required", "MISSING_BODY")
            self.contract.validate_body(operation, body if sent else {})
        except InvalidRequest as exc:
            raise ApiError(400, "INVALID_REQUEST", exc.code, str(exc)) from None
        call = Call(operation.operation_id, path_params, params, body or {}, connection, template)
        handler = HANDLERS[operation.operation_id]
        if request.method not in WRITES or operation.operation_id == JOB.operation_id("get"):
            status, result = handler(self.service, call)
            return status, result, {}, None
        return self._write(request, call, handler, raw)

    def _write(
        self, request: Request, call: Call, handler: Callable[[Service, Call], tuple[int, Any]], raw: bytes
    ) -> tuple[int, Any, dict[str, str], BackgroundTask | None]:
        key = request.headers.get("idempotency-key")
        faults = self.faults
        endpoint = ENDPOINTS[call.operation_id]
        if (
            Fault.IDEMPOTENCY_KEY_IGNORED in faults
            or (request.method == "PATCH" and Fault.IDEMPOTENCY_IGNORED_ON_PATCH in faults)
            or (isinstance(endpoint.resource, Application) and Fault.IDEMPOTENCY_IGNORED_ON_APPLICATIONS in faults)
            or (
                endpoint.resource is CUSTOMER_REFUND
                and endpoint.verb == "create"
                and Fault.IDEMPOTENCY_IGNORED_ON_REFUNDS in faults
            )
        ):
            key = None
        mode = call.body.get("response_mode")
        job_id = str(uuid.uuid4())
        job_request = {
            "method": request.method,
            "url": request.url.path,
            "body_json": money.dumps(call.body, faults=faults),
            "idempotency_key": key,
        }
        fingerprint = hashlib.sha256(
            b"|".join(
                [
                    request.method.encode(),
                    request.url.path.encode(),
                    str(sorted((k, v) for k, v in request.query_params.items() if k != "access_token")).encode(),
                    raw,
                ]
            )
        ).hexdigest()
        with self.db.write() as conn:  # the key check, the write and the stored outcome are one transaction
            if key:
                stored = records.get_idempotent(conn, call.connection["id"], key)
                if stored is not None:
                    if stored[0] != fingerprint and Fault.IDEMPOTENCY_CONFLICT_UNDETECTED not in faults:
                        raise conflict()
                    outcome = stored[1]
                    replayed = money.loads(outcome["body_json"])
                    return outcome["status"], replayed, {"Idempotent-Replayed": "true", **outcome["headers"]}, None
            if mode == "async":
                # Known endpoint, unknown object: answered at once, not left for the job to find.
                if isinstance(endpoint.resource, Document) and endpoint.verb in ("update", "delete"):
                    self.service.get(endpoint.resource, call.path["id"])
                job = {"id": job_id, "status": "pending", "request": job_request}
                records.save_job(conn, job, timestamps.now_ms())
                status, body = (
                    200,
                    {"async_response": {"id": job_id, "response_url": f"{JOB.path}/{job_id}", "status": "pending"}},
                )
                task = BackgroundTask(self._run_job, job, call, handler)
            else:
                status, body = handler(self.service, call)
                records.save_job(
                    conn,
                    {
                        "id": job_id,
                        "status": "success",
                        "request": job_request,
                        "response": {"http_status": status, "body_json": money.dumps(body, faults=faults)},
                    },
                    timestamps.now_ms(),
                )
                task = None
            headers = {"X-Rutter-Job-ID": job_id}
            if key:
                records.put_idempotent(
                    conn,
                    call.connection["id"],
                    key,
                    fingerprint,
                    {"status": status, "body_json": money.dumps(body, faults=faults), "headers": headers},
                    timestamps.now_ms(),
                )
            return status, body, headers, task

    def _run_job(self, job: dict[str, Any], call: Call, handler: Callable[[Service, Call], tuple[int, Any]]) -> None:
        try:
            status, body = handler(self.service, call)
            done = "done" if Fault.JOB_STATUS_DONE in self.faults else "success"
            job.update(
                status=done, response={"http_status": status, "body_json": money.dumps(body, faults=self.faults)}
            )
        except ApiError as exc:
            failed = money.dumps(exc.body(self.faults), faults=self.faults)
            job.update(status="failure", response={"http_status": exc.status, "body_json": failed})
        except Exception:
            log.exception("async job %s failed", job["id"])
            failed = money.dumps(internal().body(self.faults), faults=self.faults)
            job.update(status="failure", response={"http_status": 500, "body_json": failed})
        if Fault.ASYNC_JOB_NEVER_FINISHES in self.faults:
            return  # the worker drops the outcome: the job stays pending
        with self.db.write() as conn:
            records.save_job(conn, job, timestamps.now_ms())


class App:
    """A bare ASGI app: every method on every path reaches the pipeline, so even a 405 carries our headers."""

    def __init__(self, api: Api) -> None:
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        response = await self.api(Request(scope, receive))
        await response(scope, receive, send)


def create_app(settings: Settings) -> App:
    """The ASGI app over a database at settings.db_path, seeded from the fixtures, with settings.faults (none by default)."""
    fixtures = load_fixtures(settings.fixtures_path) if settings.fixtures_path else load_fixtures()
    if settings.access_token:
        fixtures = {**fixtures, "access_token": settings.access_token}
    return App(Api(open_db(settings.db_path, fixtures), Contract(), settings.faults))
