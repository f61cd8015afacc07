"""What the variation proxy changes in a body: pure rewrites of a parsed JSON tree (see `variations_json`).

Each function takes the tree of one response (or request) body and changes it in place, within what the
contract allows; `Memory` is what the proxy remembers across requests (cursors it issued, async jobs it saw).
A job's `request` echo (the request that created it) is never rewritten.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from accounting_conformance.reference_server.variations_json import Raw

#: `/{kind}/{id}` and `/jobs/{id}`: the paths on which an unknown id may be answered 404 or 410.
OBJECT_PATH = re.compile(
    r"^/(?:accounting/(?:invoice_credit_memos|bill_credit_memos|invoices|customer_refunds)|jobs)/[^/]+$"
)
JOB_PATH = re.compile(r"^/jobs/([^/]+)$")
KINDS = ("invoice_credit_memo", "bill_credit_memo", "invoice", "customer_refund")
AMOUNT_KEYS = frozenset(
    {
        "total_amount",
        "remaining_amount",
        "amount_due",
        "sub_total",
        "tax_amount",
        "total_discount",
        "amount",
        "allocated_amount",
        "discount_amount",
        "unit_amount",
    }
)
TIMESTAMP_KEYS = frozenset(
    {
        "created_at",
        "updated_at",
        "last_synced_at",
        "issue_date",
        "allocated_at",
        "allocated_date",
        "due_date",
        "date",
        "transaction_date",
    }
)
_ZULU = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?[Zz]$")
_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
OFFSET = timedelta(hours=5, minutes=30)  # +05:30, a real zone offset that is not a whole hour
SLOW_JOB_SECONDS = 1.5


@dataclass
class Memory:
    """What the proxy remembers between requests."""

    cursors: dict[str, str] = field(default_factory=dict)  # token the proxy issued -> the upstream's cursor
    async_jobs: dict[str, float] = field(default_factory=dict)  # job id from an async_response -> monotonic time seen
    prefer_sync_jobs: set[str] = field(default_factory=set)  # jobs of writes whose prefer_sync the proxy sent as async
    slow_job_seconds: float = SLOW_JOB_SECONDS


def dicts(node: Any) -> Iterator[dict[str, Any]]:
    """Every object in a tree, outermost first, leaving out a job's `request` echo."""
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key != "request":
                yield from dicts(value)
    elif isinstance(node, list):
        for value in node:
            yield from dicts(value)


def is_error(tree: Any) -> bool:
    """Whether a body is the contract's Error shape."""
    return isinstance(tree, dict) and isinstance(tree.get("error_code"), str) and "error_message" in tree


def gone(status: int, path: str, tree: Any) -> int:
    """410 for the upstream's 404 'no such object' on `/{kind}/{id}` and `/jobs/{id}`; other statuses as they were."""
    if status == 404 and OBJECT_PATH.match(path) and is_error(tree) and tree["error_code"] == "OBJECT_NOT_FOUND":
        return 410
    return status


def issue_cursors(tree: Any, memory: Memory) -> int:
    """Replace a page's `next_cursor` by a random hex token the proxy maps back to the upstream's cursor."""
    if isinstance(tree, dict) and isinstance(tree.get("next_cursor"), str):
        token = secrets.token_hex(12)
        memory.cursors[token] = tree["next_cursor"]
        tree["next_cursor"] = token
        return 1
    return 0


#: a cursor the upstream never issues (not base64): what an unknown cursor is forwarded as, to be answered 400
#: after the upstream's own checks (a missing token is still 401).
FOREIGN_CURSOR = "!not-issued"


def translate_cursors(query: bytes, memory: Memory) -> bytes:
    """The query string with each `cursor` the proxy issued mapped back, and any other cursor made unusable."""
    parts = []
    for part in query.split(b"&"):
        name, sep, value = part.partition(b"=")
        if unquote(name.decode("latin-1")) == "cursor" and sep:
            upstream = memory.cursors.get(unquote(value.decode("latin-1").replace("+", " ")), FOREIGN_CURSOR)
            part = b"cursor=" + quote(upstream, safe="").encode()
        parts.append(part)
    return b"&".join(parts)


def prefer_sync_as_async(tree: Any) -> bool:
    """Turn `"response_mode": "prefer_sync"` into `"async"`; whether the body changed."""
    if isinstance(tree, dict) and tree.get("response_mode") == "prefer_sync":
        tree["response_mode"] = "async"
        return True
    return False


def remember_prefer_sync(tree: Any, memory: Memory) -> None:
    """Note the job of a write whose `prefer_sync` was sent on as `async`, to give its echo back as sent."""
    handle = tree.get("async_response") if isinstance(tree, dict) else None
    if isinstance(handle, dict) and isinstance(handle.get("id"), str):
        memory.prefer_sync_jobs.add(handle["id"])


def restore_prefer_sync(path: str, tree: Any, memory: Memory) -> None:
    """A job's `request.body` echo says `prefer_sync`, as the client sent it, not the `async` the proxy sent."""
    match = JOB_PATH.match(path)
    if match and unquote(match.group(1)) in memory.prefer_sync_jobs and isinstance(tree, dict):
        body = (tree.get("request") or {}).get("body") if isinstance(tree.get("request"), dict) else None
        if isinstance(body, dict) and body.get("response_mode") == "async":
            body["response_mode"] = "prefer_sync"


def remember_async_jobs(tree: Any, memory: Memory) -> None:
    """Note when each job handed out in an `async_response` was first seen."""
    handle = tree.get("async_response") if isinstance(tree, dict) else None
    if isinstance(handle, dict) and isinstance(handle.get("id"), str):
        memory.async_jobs.setdefault(handle["id"], time.monotonic())


def slow_job(path: str, tree: Any, memory: Memory) -> int:
    """A job of an async write reads `prequeued`, then `pending`, without `response`, for its first seconds."""
    match = JOB_PATH.match(path)
    if not match or not isinstance(tree, dict) or "status" not in tree:
        return 0
    seen = memory.async_jobs.get(unquote(match.group(1)))
    age = time.monotonic() - seen if seen is not None else memory.slow_job_seconds
    if age < memory.slow_job_seconds:
        tree["status"] = "prequeued" if age < memory.slow_job_seconds / 3 else "pending"
        tree.pop("response", None)
        return 1
    return 0


def extra_platform_data(tree: Any) -> int:
    """Add keys inside every `platform_data` object and inside its `data` when that is an object."""
    found = [node["platform_data"] for node in dicts(tree) if isinstance(node.get("platform_data"), dict)]
    for platform in found:
        if "x_variation_sync_token" not in platform:
            platform["x_variation_sync_token"] = "7f3a"
            platform["x_variation_raw"] = {"source": "variation proxy", "fields": [Raw("1"), None, True]}
            if isinstance(platform.get("data"), dict):
                platform["data"]["x_variation_extra"] = "added by the variation proxy"
    return len(found)


def reword_errors(tree: Any) -> int:
    """Word `error_message` differently (what it says is kept); `error_type` and `error_code` untouched."""
    if is_error(tree) and isinstance(tree["error_message"], str):
        tree["error_message"] = (
            f"Request not completed ({tree['error_code'].lower()}). Details: {tree['error_message']}"
        )
        return 1
    return 0


def pad_decimals(tree: Any) -> int:
    """Write every amount with at least two decimal places ("3" -> "3.00"): the same exact value."""
    changed = 0
    for node in dicts(tree):
        for key in AMOUNT_KEYS & node.keys():
            value = node[key]
            if isinstance(value, str) and _DECIMAL.match(value) and len(value.partition(".")[2]) < 2:
                whole, _, places = value.partition(".")
                padded = whole + "." + places.ljust(2, "0")
                node[key] = Raw(padded) if isinstance(value, Raw) else padded
                changed += 1
    return changed


def offset_timestamps(tree: Any) -> int:
    """Write every UTC timestamp as the same instant at +05:30 (fractional digits kept)."""
    changed = 0
    for node in dicts(tree):
        for key in TIMESTAMP_KEYS & node.keys():
            value = node[key]
            match = _ZULU.match(value) if isinstance(value, str) else None
            try:
                local = datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC) + OFFSET if match else None
            except OverflowError:  # 9999-12-31T23:00:00Z has no +05:30 form
                local = None
            if match and local is not None:
                node[key] = f"{local.year:04d}-{local:%m-%dT%H:%M:%S}{match.group(2) or ''}+05:30"
                changed += 1
    return changed


def absolute_response_url(tree: Any, base: str) -> int:
    """Make `async_response.response_url` absolute (the contract allows absolute or relative to the base URL)."""
    handle = tree.get("async_response") if isinstance(tree, dict) else None
    if (
        isinstance(handle, dict)
        and isinstance(handle.get("response_url"), str)
        and handle["response_url"].startswith("/")
    ):
        handle["response_url"] = base.rstrip("/") + handle["response_url"]
        return 1
    return 0


def async_errors_empty(tree: Any) -> int:
    """Add the optional `errors: []` to an async response envelope."""
    if isinstance(tree, dict) and "async_response" in tree and "errors" not in tree:
        tree["errors"] = []
        return 1
    return 0


def envelope_without_connection(tree: Any) -> int:
    """Leave the optional `connection` out of one-object envelopes (lists keep it: it is required there)."""
    envelopes = [tree]
    if isinstance(tree, dict) and isinstance(tree.get("response"), dict):
        envelopes.append(tree["response"].get("body"))  # a finished job's result
    changed = 0
    for envelope in envelopes:
        if isinstance(envelope, dict) and "connection" in envelope and any(k in envelope for k in KINDS):
            del envelope["connection"]
            changed += 1
    return changed


def next_cursor_absent(tree: Any) -> int:
    """Leave `next_cursor` out on the last page instead of writing null."""
    if isinstance(tree, dict) and "next_cursor" in tree and tree["next_cursor"] is None:
        del tree["next_cursor"]
        return 1
    return 0


#: The body rewrites that need nothing but the tree, by variation name, in order; each returns its count of changes.
TREE_REWRITES: dict[str, Callable[[Any], int]] = {
    "extra-platform-data": extra_platform_data,
    "reworded-errors": reword_errors,
    "padded-decimals": pad_decimals,
    "timestamp-offsets": offset_timestamps,
    "async-errors-empty": async_errors_empty,
    "envelope-without-connection": envelope_without_connection,
    "next-cursor-absent": next_cursor_absent,
}
