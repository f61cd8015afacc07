"""The reference server over real HTTP: hostile input is a 4xx Error that changes nothing; the write rules hold."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.unit.server.conftest import (
    BILL,
    OTHER_CUSTOMER,
    PLURAL,
    Server,
    application_body,
    assert_error,
    bill_memo_body,
    count,
    counts,
    create,
    fetch,
    invoice_body,
    memo_body,
)

MEMOS = "/accounting/invoice_credit_memos"
APPLY = "/accounting/invoice_credit_applications"
KINDS = list(PLURAL)


def post_memo_text(http: httpx.Client, text: bytes) -> httpx.Response:
    """POST raw bytes as an invoice credit memo create."""
    return http.post(MEMOS, content=text, headers={"Content-Type": "application/json"})


def assert_memo_not_stored(http: httpx.Client, document_number: str, before: dict[str, int]) -> None:
    """No memo carries `document_number` and every list has its old size."""
    assert count(http, "invoice_credit_memo", f'document_number="{document_number}"') == 0
    assert counts(http) == before


@pytest.mark.parametrize(
    "spoil",
    [
        lambda t: t[:-2],
        lambda t: t.replace(b'"', b"'"),
        lambda t: t[:-1] + b",}",
        lambda t: t + t,
        lambda t: t[:-1] + b"\xff}",
        lambda t: b"// note\n" + t,
        lambda t: t.replace(b'"USD"', b"USD"),
    ],
    ids=["truncated", "single-quotes", "trailing-comma", "two-documents", "invalid-utf8", "comment", "bare-word"],
)
def test_malformed_json_is_rejected_and_nothing_is_stored(
    client: httpx.Client, spoil: Callable[[bytes], bytes]
) -> None:
    body, before = memo_body(), counts(client)
    assert_error(post_memo_text(client, spoil(json.dumps(body).encode())), 400, "INVALID_JSON", "body")
    assert_memo_not_stored(client, body["invoice_credit_memo"]["document_number"], before)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("customer_id", 123),
        ("customer_id", ""),
        ("currency_code", "usd"),
        ("currency_code", None),
        ("line_items", "one line"),
        ("line_items", []),
        ("memo", {"text": "x"}),
        ("issue_date", "yesterday"),
        ("line_items.0.total_amount", True),
        ("line_items.0.total_amount", "1e3"),
        ("line_items.0.total_amount", "-5"),
        ("line_items.0.total_amount", 0),
        ("line_items.0.total_amount", "12,50"),
        ("line_items.0.item", {"id": 5}),
    ],
)
def test_wrong_types_are_rejected_naming_the_field_and_nothing_is_stored(
    client: httpx.Client, path: str, value: Any
) -> None:
    body, before = memo_body(), counts(client)
    *parents, last = path.split(".")
    node = body["invoice_credit_memo"]
    for part in parents:
        node = node[int(part) if part.isdigit() else part]
    node[last] = value
    assert_error(client.post(MEMOS, json=body), 400, None, path.split(".")[-1])
    assert_memo_not_stored(client, body["invoice_credit_memo"]["document_number"], before)


def test_a_two_mebibyte_body_is_answered_413_and_nothing_is_stored(client: httpx.Client) -> None:
    body, before = memo_body(), counts(client)
    padded = json.dumps(body).encode() + b" " * (2 * 1024 * 1024)  # valid JSON, only too large
    assert_error(post_memo_text(client, padded), 413, "PAYLOAD_TOO_LARGE")
    assert_memo_not_stored(client, body["invoice_credit_memo"]["document_number"], before)


@pytest.mark.parametrize(
    "text",
    [
        b"[" * 100_000,
        b'{"a":' * 100_000,
        b'{"invoice_credit_memo":' * 40_000,
        b'{"invoice_credit_memo":{"memo":' + b"[" * 900 + b"]" * 900 + b"}}",
    ],
    ids=["arrays", "objects", "envelopes", "900-deep-field"],
)
def test_deeply_nested_json_is_rejected_without_a_server_error(client: httpx.Client, text: bytes) -> None:
    before = counts(client)
    assert_error(post_memo_text(client, text), 400, None, "body")
    assert counts(client) == before


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_rejected_and_nothing_is_stored(client: httpx.Client, literal: str) -> None:
    body, before = memo_body(), counts(client)
    text = json.dumps(body).replace('"100.00"', literal).encode()
    assert_error(post_memo_text(client, text), 400, "INVALID_JSON", literal)
    assert_memo_not_stored(client, body["invoice_credit_memo"]["document_number"], before)


@pytest.mark.parametrize(
    "literal",
    [
        "1e999999999999999999999",
        "-1e999999999999999999999",
        "1e-999999999999999999999",
        "1E400",
        "1" * 5000,
        "-0",
        "1.0000000000000000000000000000000000000000001e-7",
    ],
)
def test_out_of_range_number_literals_are_rejected_without_a_server_error(client: httpx.Client, literal: str) -> None:
    body, before = memo_body(), counts(client)
    text = json.dumps(body).replace('"100.00"', literal).encode()
    assert_error(post_memo_text(client, text), 400)
    assert_memo_not_stored(client, body["invoice_credit_memo"]["document_number"], before)


@pytest.mark.parametrize("field", ["document_number", "customer_id", "memo"])
def test_lone_surrogates_in_strings_are_rejected_without_a_server_error(client: httpx.Client, field: str) -> None:
    body, before = memo_body(), counts(client)
    body["invoice_credit_memo"][field] = "SURROGATE"
    assert_error(post_memo_text(client, json.dumps(body).replace("SURROGATE", "\\ud800").encode()), 400)
    assert counts(client) == before


@pytest.mark.parametrize("where", ["top", "memo", "line", "item"])
def test_unknown_fields_are_rejected_naming_them_and_nothing_is_stored(client: httpx.Client, where: str) -> None:
    body, before = memo_body(), counts(client)
    memo = body["invoice_credit_memo"]
    target = {"top": body, "memo": memo, "line": memo["line_items"][0]}.get(where)
    if target is None:
        target = memo["line_items"][0]["item"] = {"id": str(uuid.uuid4())}
    target["bogus_field"] = 1
    assert_error(client.post(MEMOS, json=body), 400, None, "bogus_field")
    assert_memo_not_stored(client, memo["document_number"], before)


def test_bad_updates_and_applications_are_rejected_and_change_nothing(client: httpx.Client) -> None:
    memo, invoice = create(client, "invoice_credit_memo", memo_body()), create(client, "invoice", invoice_body())
    url, apply = f"{MEMOS}/{memo['id']}", application_body(memo["id"], invoice["id"], "10")
    stray_link = application_body(memo["id"], invoice["id"], "10")
    stray_link["invoice_credit_application"]["linked_invoices"][0]["bogus_field"] = 1
    rejected = [
        (client.patch(url, json={"invoice_credit_memo": {"memo": "x", "bogus_field": 1}}), "bogus_field"),
        (client.patch(url, json={"invoice_credit_memo": {"line_items": [{"total_amount": "ten"}]}}), "total_amount"),
        (client.patch(url, content=b'{"invoice_credit_memo": {"memo": "x"'), "body"),
        (client.post(APPLY, json={**apply, "bogus_field": 1}), "bogus_field"),
        (client.post(APPLY, json=stray_link), "bogus_field"),
        (client.post(APPLY, content=json.dumps(apply).replace('"10"', "NaN").encode()), "NaN"),
    ]
    for response, mention in rejected:
        assert_error(response, 400, None, mention)
    assert (
        fetch(client, "invoice_credit_memo", memo["id"]) == memo and fetch(client, "invoice", invoice["id"]) == invoice
    )


HOSTILE_FILTERS = [
    "' OR 1=1 --",
    "document_number=' OR 1=1 --",
    '"; DROP TABLE invoices; --',
    'document_number="x" OR 1=1',
    'document_number="x"; DROP TABLE invoices; --',
    'document_number="x" UNION SELECT body FROM invoices',
    'document_number="x" AND 1=1',
    'id="x"',
    'document_number=="x"',
    'document_number LIKE "%"',
    'document_number="x',
    'document_number="x\x00',
    'document_number="x"\x00',
    'created_at>"not a date"',
    'document_number="x" AND',
    '文書番号="x"',
    'document_number="\\q"',
    '(document_number="x")',
    "\x00",
    "null",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("flt", HOSTILE_FILTERS)
def test_hostile_filters_are_rejected_naming_the_filter(client: httpx.Client, kind: str, flt: str) -> None:
    before = counts(client)
    assert_error(client.get(f"/accounting/{PLURAL[kind]}", params={"filter": flt}), 400, None, "filter")
    assert counts(client) == before


@pytest.mark.parametrize("kind", ["invoice", "invoice_credit_memo"])
@pytest.mark.parametrize(
    "value", ["' OR 1=1 --", '\\"; DROP TABLE invoices; --', "%", "_", "\x00", "文書 ✓ 🧾", "' OR '1'='1"]
)
def test_sql_metacharacters_inside_a_quoted_filter_value_match_nothing(
    client: httpx.Client, kind: str, value: str
) -> None:
    for flt in (
        f'document_number="{value}"',
        f'document_number~"{value}"',
        f'document_number!=null AND document_number="{value}"',
    ):
        response = client.get(f"/accounting/{PLURAL[kind]}", params={"filter": flt})
        assert response.status_code == 200, response.text
        assert response.json()[PLURAL[kind]] == []


def test_a_document_number_full_of_sql_is_stored_verbatim_and_found_only_by_itself(client: httpx.Client) -> None:
    number = f"'; DROP TABLE invoices; -- ' OR 1=1 -- {uuid.uuid4()}"
    invoice = create(client, "invoice", invoice_body(document_number=number))
    found = client.get("/accounting/invoices", params={"filter": f'document_number="{number}"'}).json()["invoices"]
    assert [i["id"] for i in found] == [invoice["id"]] and found[0]["document_number"] == number


def test_a_well_formed_timestamp_filter_on_the_31st_is_accepted(client: httpx.Client) -> None:
    response = client.get("/accounting/invoices", params={"filter": 'created_at>"2024-01-31T00:00:00Z"'})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "sort",
    [
        "document_number; DROP TABLE invoices",
        "id",
        "document_number ASC, id",
        "(SELECT 1)",
        "document_number DESC --",
        "updated_at  DESC",
        "\x00",
        "1",
        "created_at ' OR 1=1",
    ],
)
def test_hostile_sorts_are_rejected_naming_the_sort(client: httpx.Client, sort: str) -> None:
    for kind in KINDS:
        assert_error(client.get(f"/accounting/{PLURAL[kind]}", params={"sort": sort}), 400, None, "sort")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "0"),
        ("limit", "-1"),
        ("limit", "501"),
        ("limit", "1; DROP TABLE invoices"),
        ("limit", "1e2"),
        ("limit", ""),
        ("cursor", "' OR 1=1 --"),
        ("cursor", "\x00"),
        ("cursor", "A" * 5000),
        ("cursor", ""),
        ("expand", "platform_data' --"),
        ("updated_at_min", "1 OR 1=1"),
        ("force_fetch", "1"),
    ],
)
def test_hostile_list_parameters_are_rejected_naming_them(client: httpx.Client, name: str, value: str) -> None:
    assert_error(client.get("/accounting/invoices", params={name: value}), 400, None, name)


@pytest.mark.parametrize(
    "key", ["' OR 1=1 --", '"; DROP TABLE invoices; --', "\x00", "文書", "1 OR 1=1", "x" * 4000, "%", "*"]
)
def test_hostile_ids_are_answered_404_and_change_nothing(client: httpx.Client, key: str) -> None:
    before, path = counts(client), quote(key, safe="")
    for kind in KINDS:
        assert client.get(f"/accounting/{PLURAL[kind]}/{path}").status_code in (404, 410)
    patches = {
        "invoice_credit_memo": {"invoice_credit_memo": {"memo": "x"}},
        "invoice": {"invoice": {"memo": "x"}},
        "bill_credit_memo": {"bill_credit_memo": {"memo": "x"}},
    }
    for kind, body in patches.items():
        assert_error(client.patch(f"/accounting/{PLURAL[kind]}/{path}", json=body), 404)
    for kind in ("invoice_credit_memo", "bill_credit_memo"):
        assert_error(client.delete(f"/accounting/{PLURAL[kind]}/{path}"), 404)
    assert_error(
        client.post(APPLY, json=application_body(key, key, "1")), 404 if len(key) <= 255 else 400
    )  # RefId maxLength
    assert counts(client) == before


@pytest.mark.parametrize("token", [None, "", "unknown", "' OR 1=1 --", "00000000-0000-4000-8000-00000000000"])
def test_a_missing_or_unknown_access_token_is_answered_401_and_nothing_is_stored(
    client: httpx.Client, server: Server, token: str | None
) -> None:
    body, before = memo_body(), counts(client)
    params = {} if token is None else {"access_token": token}
    with httpx.Client(base_url=server.base_url, params=params, timeout=30) as anonymous:
        for response in (
            anonymous.get(MEMOS),
            anonymous.post(MEMOS, json=body),
            anonymous.get(f"/jobs/{uuid.uuid4()}"),
        ):
            assert_error(response, 401, "INVALID_CREDENTIALS")
            assert response.headers["X-Rutter-Request-ID"]
    assert_memo_not_stored(client, body["invoice_credit_memo"]["document_number"], before)


def test_an_unknown_id_is_answered_404(client: httpx.Client) -> None:
    for kind in KINDS:
        assert_error(client.get(f"/accounting/{PLURAL[kind]}/{uuid.uuid4()}"), 404, "OBJECT_NOT_FOUND")
    assert_error(client.get(f"/jobs/{uuid.uuid4()}"), 404, "OBJECT_NOT_FOUND")


def test_every_response_carries_a_distinct_request_id(client: httpx.Client) -> None:
    responses = [
        client.get(MEMOS),
        client.get(f"{MEMOS}/{uuid.uuid4()}"),
        client.put(MEMOS),
        client.get("/nowhere"),
        client.get(MEMOS, params={"limit": "0"}),
        client.get(MEMOS, params={"access_token": "x"}),
        post_memo_text(client, b"{" + b" " * (2 * 1024 * 1024) + b"}"),
    ]
    assert [r.status_code for r in responses] == [200, 404, 405, 404, 400, 401, 413]
    ids = [r.headers["X-Rutter-Request-ID"] for r in responses]
    assert all(ids) and len(set(ids)) == len(ids)


APPLICATION_CASES = {  # memo kwargs, invoice kwargs, allocated_amount, extra request fields, error_code, mention
    "over-application": ({}, {}, "150.00", {}, "OVER_APPLICATION", "remaining"),
    "over-payment": ({}, {"total": "50.00"}, "60.00", {}, "OVER_PAYMENT", "amount due"),
    "zero-string": ({}, {}, "0", {}, None, "allocated_amount"),
    "zero-number": ({}, {}, 0, {}, None, "allocated_amount"),
    "zero-decimals": ({}, {}, "0.00", {}, None, "allocated_amount"),
    "negative": ({}, {}, -5, {}, None, "allocated_amount"),
    "request-currency": ({}, {}, "10.00", {"currency_code": "EUR"}, "CURRENCY_MISMATCH", "currency"),
    "invoice-currency": ({"currency": "EUR"}, {}, "10.00", {}, "CURRENCY_MISMATCH", "EUR"),
    "invoice-customer": ({}, {"customer": OTHER_CUSTOMER}, "10.00", {}, "CUSTOMER_MISMATCH", "customer"),
}


@pytest.mark.parametrize("case", APPLICATION_CASES)
def test_a_rejected_invoice_credit_application_is_400_and_leaves_memo_and_invoice_unchanged(
    client: httpx.Client, case: str
) -> None:
    memo_kw, invoice_kw, amount, extra, code, mention = APPLICATION_CASES[case]
    memo = create(client, "invoice_credit_memo", memo_body(**memo_kw))
    invoice = create(client, "invoice", invoice_body(**invoice_kw))
    assert_error(
        client.post(APPLY, json=application_body(memo["id"], invoice["id"], amount, **extra)), 400, code, mention
    )
    assert fetch(client, "invoice_credit_memo", memo["id"]) == memo
    assert fetch(client, "invoice", invoice["id"]) == invoice


@pytest.mark.parametrize("kind", ["invoice_credit_memo", "bill_credit_memo"])
def test_a_memo_with_applications_cannot_be_deleted_and_stays_unchanged(client: httpx.Client, kind: str) -> None:
    if kind == "invoice_credit_memo":
        memo = create(client, kind, memo_body())
        invoice = create(client, "invoice", invoice_body())
        assert client.post(APPLY, json=application_body(memo["id"], invoice["id"], "40.00")).status_code == 200
    else:
        memo = create(client, kind, bill_memo_body())
        assert (
            client.post(
                "/accounting/bill_credit_applications",
                json={
                    "bill_credit_application": {
                        "bill_credit_memo_id": memo["id"],
                        "linked_bills": [{"id": BILL, "allocated_amount": "40.00"}],
                    }
                },
            ).status_code
            == 200
        )
    applied = fetch(client, kind, memo["id"])
    assert_error(client.delete(f"/accounting/{PLURAL[kind]}/{memo['id']}"), 400, "HAS_APPLICATIONS")
    assert fetch(client, kind, memo["id"]) == applied


def test_reverting_a_bill_credit_application_restores_remaining_and_removes_the_link(client: httpx.Client) -> None:
    memo = create(client, "bill_credit_memo", bill_memo_body("100.00"))
    link = {"bill_credit_memo_id": memo["id"], "bill_id": BILL}
    applied = client.post(
        "/accounting/bill_credit_applications",
        json={
            "bill_credit_application": {
                "bill_credit_memo_id": memo["id"],
                "linked_bills": [{"id": BILL, "allocated_amount": 40}],
            }
        },
    )
    assert applied.status_code == 200, applied.text
    after = fetch(client, "bill_credit_memo", memo["id"])
    assert (after["remaining_amount"], after["status"], [b["id"] for b in after["linked_bills"]]) == (
        60,
        "partially_paid",
        [BILL],
    )
    reverted = client.post("/accounting/bill_credit_applications/unapply", json={"bill_credit_unapplication": link})
    assert reverted.status_code == 200 and reverted.json()["bill_credit_unapplication"]["success"] is True
    restored = fetch(client, "bill_credit_memo", memo["id"])
    assert (restored["remaining_amount"], restored["status"], restored["linked_bills"]) == (100, "open", [])
    again = client.post("/accounting/bill_credit_applications/unapply", json={"bill_credit_unapplication": link})
    assert_error(again, 400, "NOT_APPLIED")
    assert client.delete(f"/accounting/bill_credit_memos/{memo['id']}").status_code == 200
    assert client.get(f"/accounting/bill_credit_memos/{memo['id']}").status_code in (404, 410)


def test_an_idempotency_key_replay_returns_the_identical_body_and_creates_once(client: httpx.Client) -> None:
    body, key = memo_body(), str(uuid.uuid4())
    first, second = (client.post(MEMOS, json=body, headers={"Idempotency-Key": key}) for _ in range(2))
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.content == first.content
    assert second.headers["X-Rutter-Job-ID"] == first.headers["X-Rutter-Job-ID"]
    assert (
        count(client, "invoice_credit_memo", f'document_number="{body["invoice_credit_memo"]["document_number"]}"') == 1
    )


def test_an_idempotency_key_replay_of_an_application_moves_money_once(client: httpx.Client) -> None:
    memo, invoice = create(client, "invoice_credit_memo", memo_body()), create(client, "invoice", invoice_body())
    body, key = application_body(memo["id"], invoice["id"], 30), str(uuid.uuid4())
    first, second = (client.post(APPLY, json=body, headers={"Idempotency-Key": key}) for _ in range(2))
    assert (first.status_code, second.content) == (200, first.content)
    assert fetch(client, "invoice_credit_memo", memo["id"])["remaining_amount"] == "70"
    assert fetch(client, "invoice", invoice["id"])["amount_due"] == "970"


def test_the_same_idempotency_key_with_a_different_body_is_answered_409_and_nothing_changes(
    client: httpx.Client,
) -> None:
    key, first, other = str(uuid.uuid4()), memo_body(), memo_body()
    assert client.post(MEMOS, json=first, headers={"Idempotency-Key": key}).status_code == 200
    before = counts(client)
    assert_error(client.post(MEMOS, json=other, headers={"Idempotency-Key": key}), 409, "IDEMPOTENCY_KEY_REUSED")
    assert_memo_not_stored(client, other["invoice_credit_memo"]["document_number"], before)


def wait_for_job(http: httpx.Client, url: str) -> dict[str, Any]:
    """Poll a job until it leaves prequeued/pending (at most 15 s)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        response = http.get(url)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] not in ("prequeued", "pending"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {url} still pending after 15 s")


def test_an_async_create_answers_a_job_that_reaches_success_with_the_created_object(client: httpx.Client) -> None:
    body = {**invoice_body(), "response_mode": "async"}
    response = client.post("/accounting/invoices", json=body)
    assert response.status_code == 200, response.text
    handle = response.json()["async_response"]
    assert set(response.json()) == {"async_response"} and handle["status"] in ("prequeued", "pending", "success")
    assert handle["response_url"] == f"/jobs/{handle['id']}" and response.headers["X-Rutter-Job-ID"] == handle["id"]
    job = wait_for_job(client, handle["response_url"])
    assert (job["id"], job["status"], job["response"]["http_status"]) == (handle["id"], "success", 200)
    assert job["request"]["method"] == "POST" and job["request"]["body"] == body
    created = job["response"]["body"]["invoice"]
    assert created["document_number"] == body["invoice"]["document_number"]
    assert fetch(client, "invoice", created["id"]) == created


def test_an_async_application_that_breaks_a_rule_ends_as_a_failed_job_and_changes_nothing(client: httpx.Client) -> None:
    memo, invoice = create(client, "invoice_credit_memo", memo_body()), create(client, "invoice", invoice_body())
    body = {**application_body(memo["id"], invoice["id"], "150.00"), "response_mode": "async"}
    handle = client.post(APPLY, json=body).json()["async_response"]
    job = wait_for_job(client, handle["response_url"])
    assert (job["status"], job["response"]["http_status"]) == ("failure", 400)
    assert job["response"]["body"]["error_code"] == "OVER_APPLICATION"
    assert (
        fetch(client, "invoice_credit_memo", memo["id"]) == memo and fetch(client, "invoice", invoice["id"]) == invoice
    )


@pytest.mark.parametrize("kind", ["invoice_credit_memo", "bill_credit_memo"])
@pytest.mark.parametrize("body", [b"null", b"[]", b'"prefer_sync"', b"3", b"\x0c", b"\x0b", b" \x0c\n"])
def test_a_delete_whose_optional_body_is_not_an_object_is_rejected_and_deletes_nothing(
    client: httpx.Client, kind: str, body: bytes
) -> None:
    memo = create(client, kind, memo_body() if kind == "invoice_credit_memo" else bill_memo_body())
    refused = client.request(
        "DELETE", f"/accounting/{PLURAL[kind]}/{memo['id']}", content=body, headers={"Content-Type": "application/json"}
    )
    assert_error(refused, 400, "INVALID_FIELD" if body.strip(b" \t\n\r\x0b\x0c") else "INVALID_JSON")
    assert fetch(client, kind, memo["id"]) == memo
    assert client.delete(f"/accounting/{PLURAL[kind]}/{memo['id']}").status_code == 200  # without a body it is deleted
