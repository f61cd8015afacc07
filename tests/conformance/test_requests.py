"""A body that is not the JSON object the contract asks for (JSON null, an array, not JSON at all) is refused
with 4xx and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.client import ApiClient
from accounting_conformance.conformance.expect import create, fetch, same, status_is
from accounting_conformance.conformance.fixtures import Fixtures
from accounting_conformance.conformance.platforms import operation_id, require

from . import builders

pytestmark = pytest.mark.phase("requests")

NOT_AN_OBJECT = ["null", "[]", '"prefer_sync"', "3", "\x0c"]  # a lone form feed is not JSON whitespace (RFC 8259)


@pytest.mark.rules("SCHEMA-003")
@pytest.mark.parametrize("kind", kinds.NAMES)
@pytest.mark.parametrize("body", NOT_AN_OBJECT)
def test_a_create_whose_body_is_not_an_object_is_rejected(
    client: ApiClient, settings: Any, kind: str, body: str
) -> None:
    require(settings.platform, operation_id("create", kind))
    exchange = client.request("POST", kinds.get(kind).path, raw=body)
    status_is(client, exchange, (400, 422), "SCHEMA-003", f"a body of {body!r} is not a {kind} request")


@pytest.mark.rules("SCHEMA-003")
@pytest.mark.features("deletes")
@pytest.mark.parametrize("kind", kinds.MEMOS)
@pytest.mark.parametrize("body", NOT_AN_OBJECT)
def test_a_delete_whose_body_is_not_an_object_is_rejected_and_deletes_nothing(
    client: ApiClient, fixtures: Fixtures, settings: Any, tag: str, kind: str, body: str
) -> None:
    require(settings.platform, operation_id("create", kind), operation_id("delete", kind))
    memo = create(client, kind, getattr(builders, kind)(fixtures, tag))
    exchange = client.request("DELETE", kinds.get(kind).item(memo["id"]), raw=body)
    status_is(
        client, exchange, (400, 422), "SCHEMA-003", f"the optional body of a delete is a JSON object, not {body!r}"
    )
    exchange, after = fetch(client, kind, memo["id"], "SCHEMA-003")
    same(client, exchange, "SCHEMA-003", "the memo after a refused delete", memo["id"], after.get("id"))
