"""Reading a response never crashes: whatever came back, a missing or odd envelope is a failure of the rule checked."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from accounting_conformance.conformance import expect
from accounting_conformance.conformance.client import Exchange
from accounting_conformance.conformance.failures import RuleViolation
from accounting_conformance.conformance.redact import Redactor

BASE = "http://target.test/v"
CLIENT: Any = SimpleNamespace(base=BASE, redactor=Redactor(["tok-9"]), contract=None)


def _exchange(body: Any) -> Exchange:
    return Exchange(
        "POST",
        f"{BASE}/accounting/invoice_credit_memos?access_token=tok-9",
        {},
        "{}",
        200,
        {"content-type": "application/json"},
        json.dumps(body),
    )


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "text",
        {},
        {"async_response": {"id": "job-1", "status": "pending"}},
        {"invoice_credit_memo": []},
        {"invoice_credit_memo": {"total_amount": "1.00"}},
        {"invoice_credit_memo": {"id": 7}},
        {"invoice_credit_memo": {"id": ""}},
    ],
)
def test_a_body_without_the_created_object_is_a_violation_of_the_rule_checked(body: Any) -> None:
    with pytest.raises(RuleViolation) as caught:
        expect.envelope(CLIENT, _exchange(body), body, "invoice_credit_memo", "WRITE-001")
    found = caught.value
    assert found.rule == "WRITE-001" and "invoice_credit_memo" in found.expected and found.received
    assert found.reproduction and "curl" in found.reproduction and "tok-9" not in found.reproduction


def test_an_envelope_with_a_string_id_is_returned_as_is() -> None:
    body = {"invoice_credit_memo": {"id": "m1", "memo": "x"}}
    assert (
        expect.envelope(CLIENT, _exchange(body), body, "invoice_credit_memo", "WRITE-001")
        == body["invoice_credit_memo"]
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"invoice_credit_memos": {}},
        {"invoice_credit_memos": [1]},
        {"invoice_credit_memos": [{"no": "id"}]},
        {"invoice_credit_memos": [{"id": None}]},
    ],
)
def test_a_list_that_is_not_a_list_of_objects_with_ids_is_a_violation(body: Any) -> None:
    with pytest.raises(RuleViolation) as caught:
        expect.listing(CLIENT, _exchange(body), body, "invoice_credit_memos", "PAGE-001")
    assert caught.value.rule == "PAGE-001"


def test_an_empty_list_is_a_list() -> None:
    assert (
        expect.listing(
            CLIENT,
            _exchange({"invoice_credit_memos": []}),
            {"invoice_credit_memos": []},
            "invoice_credit_memos",
            "PAGE-001",
        )
        == []
    )


@pytest.mark.parametrize("value", [None, 3, ["a"], {"a": 1}])
def test_a_field_that_must_be_text_and_is_not_is_a_violation(value: Any) -> None:
    with pytest.raises(RuleViolation, match="updated_at"):
        expect.text(CLIENT, _exchange({}), {"updated_at": value}, "updated_at", "WRITE-002")


@pytest.mark.parametrize(
    "links",
    [
        None,
        "abc",
        5,
        [1, "x", None],
        [{"id": None, "allocated_amount": "1"}],
        [{"id": ["a"], "allocated_amount": {}}],
        [{"allocated_amount": "2"}, {"id": "t"}],
    ],
)
def test_links_and_payments_of_any_shape_are_read_without_crashing(links: Any) -> None:
    found = expect.links_of({"linked_invoices": links}, "invoice_credit_memo")
    assert all(isinstance(k, str) for k in found)
    dict(sorted(found.items()))  # comparable with the model's
    expect.payments_of({"linked_payments": links})
