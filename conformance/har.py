"""The recording of a failing test: its exchanges as a HAR 1.2 file, secrets redacted, and read back for replay.

HAR allows custom fields whose names start with `_`: `log._conformance` carries what the run knew (the test, the
seed, the target, where the token went, the failed checks); each entry its `_operationId`, its transport `_error`
and `_auth`, the credential the request carried: "token" (the run's), "other" (a wrong one: the AUTH-001 probes,
near misses of the token included) or "none". Replay sends the real token only where the run sent its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from accounting_conformance.conformance.recorder import Recorded
from accounting_conformance.conformance.redact import Redactor

CREATOR = "accounting-conformance"
MAX_BYTES = 256 * 1024 * 1024  # a recording keeps at most 2000 exchanges: far below this


class HarError(ValueError):
    """A file that is not a HAR recording replay can read; the message names the file, the place and the problem."""


@dataclass
class Recording:
    """A recording read back: its exchanges in order, `log._conformance` ({} without one), each entry's `_auth`."""

    exchanges: list[Recorded]
    meta: dict[str, Any]
    auth: list[str | None]  # "token", "other" or "none"; None where the file does not say


def slug(nodeid: str) -> str:
    """A file name for a test node id: readable, at most 93 characters, unique through a hash of the whole id."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", nodeid.rsplit("/", 1)[-1]).strip("-._")[:80].rstrip("-._")
    return f"{readable or 'test'}-{hashlib.sha256(nodeid.encode(errors='surrogatepass')).hexdigest()[:12]}"


def write_har(
    path: Path, exchanges: list[Recorded], redactor: Redactor, meta: dict[str, Any], *, tokens: Collection[str] = ()
) -> None:
    """Write one test's exchanges as a HAR 1.2 file, every secret redacted; with the run's `tokens` (never written)
    each entry says whether its request carried one of them (`_auth`)."""
    log = {
        "version": "1.2",
        "creator": {"name": CREATOR, "version": version("accounting-conformance")},
        "entries": [_entry(exchange, redactor, tokens) for exchange in exchanges],
        "_conformance": json.loads(redactor(json.dumps(meta, default=str))),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps({"log": log}, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)


def _entry(exchange: Recorded, redactor: Redactor, tokens: Collection[str]) -> dict[str, Any]:
    wait = round(max(exchange.elapsed, 0.0) * 1000, 3)
    query = parse_qsl(urlsplit(exchange.url).query, keep_blank_values=True)
    request: dict[str, Any] = {
        "method": exchange.method,
        "url": redactor(exchange.url),
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _pairs(redactor.headers(exchange.request_headers)),
        "queryString": [{"name": redactor(name), "value": redactor(value)} for name, value in query],
        "headersSize": -1,
        "bodySize": 0,
    }
    if exchange.request_body is not None:
        text = redactor(exchange.request_body)
        request["postData"] = {"mimeType": _header(exchange.request_headers, "content-type"), "text": text}
        request["bodySize"] = len(text.encode())
    body = redactor(exchange.response_body)
    entry: dict[str, Any] = {
        "startedDateTime": exchange.started,
        "time": wait,
        "request": request,
        "response": {
            "status": exchange.status,
            "statusText": _reason(exchange.status),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _pairs(redactor.headers(exchange.response_headers)),
            "content": {
                "size": len(body.encode()),
                "mimeType": _header(exchange.response_headers, "content-type"),
                "text": body,
            },
            "redirectURL": redactor(_header(exchange.response_headers, "location")),
            "headersSize": -1,
            "bodySize": len(body.encode()) if exchange.status else -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": wait, "receive": 0},
        "_operationId": exchange.operation_id,
    }
    if exchange.error:
        entry["_error"] = redactor(exchange.error)
    if tokens:
        entry["_auth"] = credential_of(exchange, tokens)
    return entry


def credential_of(exchange: Recorded, tokens: Collection[str]) -> str:
    """The credential a request carried: "token" (one of the run's, in the query or as a bearer), "other" or "none"."""
    query = [v for k, v in parse_qsl(urlsplit(exchange.url).query, keep_blank_values=True) if k == "access_token"]
    scheme, _, bearer = _header(exchange.request_headers, "authorization").partition(" ")
    sent = query[:1] or ([bearer] if scheme.lower() == "bearer" else [])
    return "none" if not sent else "token" if sent[0] in tokens else "other"


def _pairs(headers: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers.items()]


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((value for key, value in headers.items() if key.lower() == name), "")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


# ------------------------------------------------------------------------------------------------- reading
_NUMBER = (int, float)
#: The fields HAR 1.2 requires of each part of a file (http://www.softwareishard.com/blog/har-12-spec/), and their type.
_REQUIRED: dict[str, dict[str, Any]] = {
    "log": {"version": str, "creator": dict, "entries": list},
    "creator": {"name": str, "version": str},
    "entry": dict(startedDateTime=str, time=_NUMBER, request=dict, response=dict, cache=dict, timings=dict),
    "request": dict(method=str, url=str, httpVersion=str, cookies=list, headers=list, queryString=list)
    | {"headersSize": int, "bodySize": int},
    "response": dict(status=int, statusText=str, httpVersion=str, cookies=list, headers=list, content=dict)
    | {"redirectURL": str, "headersSize": int, "bodySize": int},
    "content": {"size": int, "mimeType": str},
    "timings": {"send": _NUMBER, "wait": _NUMBER, "receive": _NUMBER},
    "header": {"name": str, "value": str},
    "postData": {"mimeType": str},
}
_TYPES = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}


def _kind(value: Any) -> str:
    return "a boolean" if isinstance(value, bool) else _TYPES.get(type(value), "null")


def _fields(node: Any, part: str, where: str) -> dict[str, Any]:
    """node, once it is an object with every field HAR 1.2 requires of `part`, each of its type."""
    if not isinstance(node, dict):
        raise HarError(f"{where}: expected an object, found {_kind(node)}")
    for key, kind in _REQUIRED[part].items():
        if key not in node:
            raise HarError(f"{where}: the required field {key!r} is missing")
        if isinstance(node[key], bool) or not isinstance(node[key], kind):
            expected = _TYPES[kind[0] if isinstance(kind, tuple) else kind]
            raise HarError(f"{where}.{key}: expected {expected}, found {_kind(node[key])}")
    return node


def read_har(path: Path) -> tuple[list[Recorded], dict[str, Any]]:
    """The exchanges and `log._conformance` of a HAR file; HarError saying what is wrong with any other file."""
    recording = load(path)
    return recording.exchanges, recording.meta


def load(path: Path) -> Recording:
    """Read and validate a HAR file; HarError naming the file, the place and the problem."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise HarError(f"larger than {MAX_BYTES // 2**20} MiB: not a recording of this suite")
        return _recording(json.loads(path.read_text(encoding="utf-8")))
    except HarError as exc:
        raise HarError(f"{path}: {exc}") from None
    except OSError as exc:
        raise HarError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise HarError(f"{path}: not UTF-8 text, so not a HAR file") from None
    except json.JSONDecodeError as exc:
        raise HarError(f"{path}: not JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise HarError(f"{path}: JSON nested too deeply to be a HAR file") from None


def _recording(data: Any) -> Recording:
    log = _fields(data.get("log") if isinstance(data, dict) else data, "log", "log")
    if log["version"] not in ("1.1", "1.2"):
        raise HarError(f"log.version: HAR {log['version']!r:.20} is not supported (1.1 or 1.2)")
    _fields(log["creator"], "creator", "log.creator")
    exchanges, auth = [], []
    for index, node in enumerate(log["entries"]):
        exchanges.append(_exchange(node, f"log.entries[{index}]"))
        if node.get("_auth") not in (None, "token", "other", "none"):
            raise HarError(f"log.entries[{index}]._auth: expected 'token', 'other' or 'none'")
        auth.append(node.get("_auth"))
    return Recording(exchanges, _meta(log.get("_conformance")), auth)


def _exchange(node: Any, where: str) -> Recorded:
    entry = _fields(node, "entry", where)
    request = _fields(entry["request"], "request", f"{where}.request")
    response = _fields(entry["response"], "response", f"{where}.response")
    content = _fields(response["content"], "content", f"{where}.response.content")
    _fields(entry["timings"], "timings", f"{where}.timings")
    try:
        datetime.fromisoformat(entry["startedDateTime"])
    except ValueError:
        raise HarError(f"{where}.startedDateTime: not an ISO 8601 date-time") from None
    try:
        url = urlsplit(request["url"])
    except ValueError:  # an unclosed IPv6 bracket, say
        url = urlsplit("")
    if url.scheme not in ("http", "https") or not url.netloc or not re.fullmatch(r"[A-Za-z]{1,20}", request["method"]):
        raise HarError(f"{where}.request: not an HTTP request (method {request['method']!r:.20}, an absolute URL)")
    if not 0 <= response["status"] <= 999:
        raise HarError(f"{where}.response.status: {response['status']} is not an HTTP status")
    post = request.get("postData")
    body = None if post is None else _text(_fields(post, "postData", f"{where}.request.postData"), where)
    text = _text(content, f"{where}.response.content")
    if content.get("encoding") == "base64":
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
        except binascii.Error:
            raise HarError(f"{where}.response.content.text: not base64, as its encoding says") from None
    operation, error = entry.get("_operationId"), entry.get("_error")
    if not isinstance(operation, str | None) or not isinstance(error, str | None):
        raise HarError(f"{where}: _operationId and _error are strings or null")
    return Recorded(
        method=request["method"].upper(),
        url=request["url"],
        request_headers=_headers(request["headers"], f"{where}.request.headers", lower=False),
        request_body=body,
        status=response["status"],
        response_headers=_headers(response["headers"], f"{where}.response.headers", lower=True),
        response_body=text,
        started=entry["startedDateTime"],
        elapsed=max(float(entry["time"]), 0.0) / 1000,
        operation_id=operation,
        error=error,
    )


def _text(node: dict[str, Any], where: str) -> str:
    if not isinstance(node.get("text", ""), str):
        raise HarError(f"{where}.text: expected a string, found {_kind(node['text'])}")
    return str(node.get("text", ""))


def _headers(pairs: list[Any], where: str, *, lower: bool) -> dict[str, str]:
    found: dict[str, str] = {}
    for index, pair in enumerate(pairs):
        header = _fields(pair, "header", f"{where}[{index}]")
        name = header["name"].lower() if lower else header["name"]
        found[name] = f"{found[name]}, {header['value']}" if name in found else header["value"]
    return found


def _meta(node: Any) -> dict[str, Any]:
    if node is None:
        return {}
    if not isinstance(node, dict):
        raise HarError(f"log._conformance: expected an object, found {_kind(node)}")
    failures = node.get("failures", [])
    if not isinstance(failures, list) or not all(
        isinstance(f, dict) and isinstance(f.get("rule"), str) for f in failures
    ):
        raise HarError("log._conformance.failures: expected an array of objects, each with a string rule")
    for key, kind in (("test", str), ("target", str), ("seed", int), ("dropped", int)):
        if node.get(key) is not None and (isinstance(node[key], bool) or not isinstance(node[key], kind)):
            raise HarError(f"log._conformance.{key}: expected {_TYPES[kind]}, found {_kind(node[key])}")
    if node.get("token_in") not in (None, "query", "bearer"):
        raise HarError("log._conformance.token_in: expected 'query' or 'bearer'")
    return node
