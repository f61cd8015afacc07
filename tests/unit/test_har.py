"""A failing test's recording is a HAR 1.2 file with every secret redacted, and reads back as it was written;
anything else handed to the reader is refused with a HarError that says what is wrong."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from accounting_conformance.conformance.har import HarError, credential_of, load, read_har, slug, write_har
from accounting_conformance.conformance.recorder import Recorded
from accounting_conformance.conformance.redact import MASK, Redactor
from accounting_conformance.conformance.settings import Settings

TOKEN = "tok-RECOGNISABLE-4b1d2c9e"
BASE = "http://127.0.0.1:8123"
META = {
    "test": "tests/conformance/test_applications.py::test_x",
    "seed": 42,
    "target": BASE,
    "token_in": "query",
    "failures": [{"rule": "APPLY-001", "title": "t", "expected": "a", "received": "b", "operation": "GET /x"}],
    "dropped": 0,
}

#: HAR 1.2's required fields (http://www.softwareishard.com/blog/har-12-spec/), checked apart from the reader.
REQUIRED = {
    "log": ("version", "creator", "entries"),
    "creator": ("name", "version"),
    "entry": ("startedDateTime", "time", "request", "response", "cache", "timings"),
    "request": ("method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"),
    "response": ("status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL")
    + ("headersSize", "bodySize"),
    "content": ("size", "mimeType"),
    "timings": ("send", "wait", "receive"),
    "postData": ("mimeType", "text"),
}


def exchange(url: str = f"{BASE}/accounting/invoices?access_token={TOKEN}&limit=1", **changes: Any) -> Recorded:
    """One recorded exchange, the token wherever the run may have sent or received it."""
    fields: dict[str, Any] = {
        "method": "POST",
        "url": url,
        "request_headers": {"Accept": "application/json", "Content-Type": "application/json"},
        "request_body": json.dumps({"invoice": {"memo": f"echo {TOKEN}"}}),
        "status": 200,
        "response_headers": {"content-type": "application/json", "x-rutter-request-id": "r-1"},
        "response_body": json.dumps({"invoice": {"id": "inv-1", "memo": f"echo {TOKEN}"}}),
        "started": "2026-12-01T20:50:00.123+00:00",
        "elapsed": 0.0421,
        "operation_id": "createInvoice",
    }
    return Recorded(**(fields | changes))


def written(tmp_path: Path, exchanges: list[Recorded], meta: dict[str, Any] = META) -> Path:
    path = tmp_path / "recordings" / "x.har"
    write_har(path, exchanges, Redactor(Settings(access_token=TOKEN).secrets()), meta, tokens=[TOKEN])
    return path


def test_a_recording_has_every_field_har_1_2_requires(tmp_path: Path) -> None:
    path = written(tmp_path, [exchange(), exchange(method="GET", request_body=None)])
    log = json.loads(path.read_text())["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "accounting-conformance"
    parts = [("log", log), ("creator", log["creator"])]
    for entry in log["entries"]:
        parts += [("entry", entry), ("request", entry["request"]), ("response", entry["response"])]
        parts += [("content", entry["response"]["content"]), ("timings", entry["timings"])]
        parts += [("postData", entry["request"]["postData"])] if "postData" in entry["request"] else []
    for part, node in parts:
        missing = [name for name in REQUIRED[part] if name not in node]
        assert not missing, f"{part} lacks {missing}"
    first = log["entries"][0]
    assert first["request"]["headersSize"] == first["response"]["headersSize"] == -1
    assert first["timings"] == {"send": 0, "wait": 42.1, "receive": 0} and first["time"] == 42.1
    assert first["response"]["statusText"] == "OK" and first["cache"] == {}
    assert first["_operationId"] == "createInvoice" and "postData" not in log["entries"][1]["request"]


def test_the_token_is_redacted_from_urls_query_strings_headers_and_bodies(tmp_path: Path) -> None:
    bearer = exchange(
        url=f"{BASE}/accounting/invoices?note={TOKEN[:-1]}",
        request_headers={"Authorization": f"Bearer {TOKEN}", "X-Echo": TOKEN},
        response_headers={"location": f"{BASE}/?access_token={TOKEN}"},
        error=f"timed out with {TOKEN}",
    )
    text = written(tmp_path, [exchange(), bearer], META | {"target": f"{BASE}/?t={TOKEN}"}).read_text()
    for secret in (TOKEN, TOKEN[:-1], TOKEN[1:], TOKEN.swapcase()):
        assert secret not in text
    first, second = json.loads(text)["log"]["entries"]
    assert {"name": "access_token", "value": MASK} in first["request"]["queryString"]
    assert f"access_token={MASK}" in first["request"]["url"]
    assert MASK in first["request"]["postData"]["text"] and MASK in first["response"]["content"]["text"]
    assert {"name": "Authorization", "value": f"Bearer {MASK}"} in second["request"]["headers"]
    assert second["_error"] == f"timed out with {MASK}" and MASK in second["response"]["redirectURL"]


def test_each_entry_says_whether_its_request_carried_a_run_token() -> None:
    def carried(url: str = f"{BASE}/x", headers: dict[str, str] | None = None) -> str:
        return credential_of(exchange(url=url, request_headers=headers or {}), [TOKEN])

    assert carried(f"{BASE}/x?access_token={TOKEN}") == "token"
    rotated = exchange(url=f"{BASE}/x?access_token=tok-earlier-one", request_headers={})
    assert credential_of(rotated, ["tok-earlier-one", TOKEN]) == "token"  # ACCESS_TOKEN_COMMAND gave both
    assert carried(headers={"authorization": f"Bearer {TOKEN}"}) == "token"
    assert carried(f"{BASE}/x?access_token={TOKEN[:-1]}") == "other"  # an AUTH-001 near miss
    assert carried(f"{BASE}/x?access_token=not-a-token") == "other"
    assert carried(headers={"Authorization": "Basic abc"}) == "none"
    assert carried() == "none"


def test_a_recording_reads_back_as_it_was_written(tmp_path: Path) -> None:
    failed = exchange(
        url=f"{BASE}/x",
        request_body=None,
        status=0,
        response_headers={},
        response_body="",
        error="reset",
        operation_id=None,
    )
    sent = [
        exchange(),
        exchange(method="GET", request_body=None, url=f"{BASE}/accounting/invoices/inv-1", response_body="{}"),
        failed,
    ]
    exchanges, meta = read_har(written(tmp_path, sent))
    assert meta == META
    assert exchanges[1] == sent[1]
    assert exchanges[2] == failed
    assert exchanges[0].url == f"{BASE}/accounting/invoices?access_token={MASK}&limit=1"
    assert exchanges[0].request_body == json.dumps({"invoice": {"memo": f"echo {MASK}"}})
    assert load(written(tmp_path, sent)).auth == ["token", "none", "none"]


def test_a_browser_recording_without_the_suite_fields_reads_with_no_meta(tmp_path: Path) -> None:
    path = written(tmp_path, [exchange()])
    har = json.loads(path.read_text())
    del har["log"]["_conformance"]
    for entry in har["log"]["entries"]:
        del entry["_auth"], entry["_operationId"]
    path.write_text(json.dumps(har))
    recording = load(path)
    assert recording.meta == {} and recording.auth == [None] and recording.exchanges[0].operation_id is None


def _broken(har: dict[str, Any], change: str) -> Any:
    entry = har["log"]["entries"][0]
    if change == "an array":
        return [har]
    if change == "no log":
        return {"logs": har["log"]}
    if change == "HAR 0.9":
        har["log"]["version"] = "0.9"
    if change == "no request":
        del entry["request"]
    if change == "a relative URL":
        entry["request"]["url"] = "/accounting/invoices"
    if change == "an unparseable URL":
        entry["request"]["url"] = "http://[::1/accounting"
    if change == "a status string":
        entry["response"]["status"] = "200"
    if change == "a boolean time":
        entry["time"] = True
    if change == "headers not pairs":
        entry["request"]["headers"] = {"Accept": "application/json"}
    if change == "a date that is not one":
        entry["startedDateTime"] = "yesterday"
    if change == "failures without rules":
        har["log"]["_conformance"]["failures"] = [{"title": "x"}]
    if change == "an unknown _auth":
        entry["_auth"] = "the token itself"
    if change == "bad base64":
        entry["response"]["content"] |= {"encoding": "base64", "text": "not base64!"}
    return har


CHANGES = [
    "an array",
    "no log",
    "HAR 0.9",
    "no request",
    "a relative URL",
    "an unparseable URL",
    "a status string",
    "a boolean time",
    "headers not pairs",
    "a date that is not one",
    "failures without rules",
    "an unknown _auth",
    "bad base64",
]


@pytest.mark.parametrize("change", CHANGES)
def test_a_malformed_recording_is_refused_with_what_is_wrong(tmp_path: Path, change: str) -> None:
    path = written(tmp_path, [exchange()])
    path.write_text(json.dumps(_broken(json.loads(path.read_text()), change)))
    with pytest.raises(HarError, match=re.escape(str(path))) as refused:
        read_har(path)
    assert re.search(r"log|expected|missing|not", str(refused.value))


@pytest.mark.parametrize(
    ("content", "says"),
    [(b"", "not JSON"), (b'{"log": ', "not JSON"), (b"\xff\xfe\x00", "not UTF-8"), (b"[" * 100_000, "not JSON|deeply")],
    ids=["empty", "cut short", "not UTF-8", "nested 100000 deep"],
)
def test_a_file_that_is_not_json_is_refused(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "odd.har"
    path.write_bytes(content)
    with pytest.raises(HarError, match=says):
        read_har(path)


def test_a_missing_file_or_a_directory_is_refused(tmp_path: Path) -> None:
    for path in (tmp_path / "absent.har", tmp_path):
        with pytest.raises(HarError, match="cannot read it"):
            read_har(path)


def test_a_slug_is_a_safe_bounded_file_name_unique_per_node_id() -> None:
    ids = [
        "tests/conformance/test_writes.py::test_missing_or_unknown_access_token_is_401[None]",
        "tests/conformance/test_writes.py::test_missing_or_unknown_access_token_is_401[not-a-token]",
        "tests/conformance/test_fuzz.py::test_fuzz[POST /accounting/invoices]",
        "tests/conformance/test_fuzz.py::test_fuzz[POST /accounting/invoices?]",
        "x" * 5000,
        "../../etc/passwd",
        "",
    ]
    slugs = [slug(nodeid) for nodeid in ids]
    assert len(set(slugs)) == len(ids)
    for name in slugs:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name) and len(name) <= 100 and ".." not in name
    assert slugs[0].startswith("test_writes.py-test_missing_or_unknown_access_token_is_401-None-")
