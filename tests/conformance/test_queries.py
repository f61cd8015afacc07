"""Query semantics: paging, filters, sort, expand, id_type and the deprecated parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounting_conformance.conformance import kinds, querymodel
from accounting_conformance.conformance.client import ApiClient
from accounting_conformance.conformance.expect import envelope, listing, same, status_is, text
from accounting_conformance.conformance.failures import violation
from accounting_conformance.conformance.fixtures import Fixtures
from accounting_conformance.conformance.instants import instant_ns, ms_of
from accounting_conformance.strategies import queries

from . import builders

pytestmark = pytest.mark.phase("queries")

KIND = kinds.get("invoice_credit_memo")
PATH, KEY = KIND.path, KIND.plural
COUNT = 7


@pytest.fixture(scope="module")
def created(client: ApiClient, fixtures: Fixtures, tag: str) -> list[dict[str, Any]]:
    """Seven tagged memos of two customers, so that lists, filters and sorts have something to find."""
    made = []
    customers = fixtures.customers("USD")
    for i in range(COUNT):
        body = builders.invoice_credit_memo(fixtures, tag, amounts=(f"{i + 1}.00",), number=f"q{i}")
        body[KIND.name]["customer_id"] = customers[i % 2].id
        exchange = client.request("POST", PATH, body=body)
        memo = envelope(
            client,
            exchange,
            status_is(client, exchange, (200,), "WRITE-001", "a valid memo is created"),
            KIND.name,
            "WRITE-001",
        )
        made.append(judgeable(client, exchange, memo, "WRITE-001"))
    return made


def judgeable(client: ApiClient, exchange: Any, obj: dict[str, Any], rule: str) -> dict[str, Any]:
    """The object, once its filterable fields are what the model can compare: strings, and timestamps that parse."""
    for field in querymodel.RESOURCE_FIELDS[KIND.name]:
        value = obj.get(field)
        if value is None:
            continue
        try:
            if not isinstance(value, str):
                raise ValueError("not a string")
            if querymodel.kind_of(field) == "timestamp":
                instant_ns(value)
        except ValueError:
            raise violation(
                rule,
                expected=f"{field} a string{' holding an ISO 8601 zoned timestamp' if querymodel.kind_of(field) == 'timestamp' else ''} or null",
                received=f"{field} = {value!r}"[:200],
                reproduction=exchange.reproduction(client.redactor),
            ) from None
    return obj


def walk(
    client: ApiClient, params: dict[str, Any], limit: int, max_pages: int, rule: str = "PAGE-001"
) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """Yield (exchange, page) following next_cursor, failing on loops and oversize pages."""
    cursor, seen_cursors = None, set()
    for _ in range(max_pages):
        exchange = client.request("GET", PATH, params={**params, "limit": limit, "cursor": cursor})
        body = status_is(client, exchange, (200,), rule, "a page is answered")
        page = [judgeable(client, exchange, o, rule) for o in listing(client, exchange, body, KEY, rule)]
        if len(page) > limit:
            raise violation(
                "PAGE-001",
                expected=f"at most {limit} objects",
                received=f"{len(page)} objects",
                reproduction=exchange.reproduction(client.redactor),
            )
        yield exchange, page
        cursor = body.get("next_cursor")
        if cursor is None or cursor == "":
            return
        if not isinstance(cursor, str):
            raise violation(
                "PAGE-001",
                expected="next_cursor a string, or null/absent on the last page",
                received=f"next_cursor = {cursor!r}"[:200],
                reproduction=exchange.reproduction(client.redactor),
            )
        if cursor in seen_cursors:
            raise violation(
                "PAGE-001",
                expected="a new cursor on every page",
                received=f"cursor {cursor!r} again",
                reproduction=exchange.reproduction(client.redactor),
            )
        seen_cursors.add(cursor)
    raise violation("PAGE-001", expected=f"the last page within {max_pages} pages", received="next_cursor never ended")


@pytest.mark.rules("PAGE-001")
@pytest.mark.features("filters")
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_paging_reaches_every_object_once(
    client: ApiClient, created: list[dict[str, Any]], tag: str, limit: int
) -> None:
    ids: list[str] = []
    last = None
    for exchange, page in walk(client, {"filter": f'document_number~"{tag}-q"'}, limit, COUNT + 3):
        ids += [o["id"] for o in page]
        last = exchange
    assert last is not None
    same(client, last, "PAGE-001", "duplicates across pages", [], sorted({i for i in ids if ids.count(i) > 1}))
    same(client, last, "PAGE-001", "objects reached", sorted(o["id"] for o in created), sorted(ids))


@pytest.mark.rules("PAGE-001")
@pytest.mark.features("filters", "sort")
def test_paging_stays_correct_when_objects_are_created_between_pages(
    client: ApiClient, fixtures: Fixtures, created: list[dict[str, Any]], tag: str
) -> None:
    ids: list[str] = []
    for i, (exchange, page) in enumerate(  # noqa: B007 - the last exchange is used after the loop
        walk(client, {"filter": f'document_number~"{tag}-q"', "sort": "created_at ASC"}, 2, COUNT + 4)
    ):
        ids += [o["id"] for o in page]
        if i == 0:
            body = builders.invoice_credit_memo(fixtures, tag, number=f"q-late{i}")
            status_is(client, client.request("POST", PATH, body=body), (200,), "WRITE-001", "a memo is created")
    same(client, exchange, "PAGE-001", "duplicates across pages", [], sorted({i for i in ids if ids.count(i) > 1}))
    missing = sorted({o["id"] for o in created} - set(ids))
    same(client, exchange, "PAGE-001", "objects that existed before the walk but were not reached", [], missing)


@pytest.fixture(scope="module")
def tied(client: ApiClient, fixtures: Fixtures, tag: str) -> list[dict[str, Any]]:
    """Four tagged memos that share one document_number, so that a sort on it has nothing but ties."""
    return [
        judgeable(client, *_created(client, builders.invoice_credit_memo(fixtures, tag, number="tie")), "WRITE-001")
        for _ in range(4)
    ]


def _created(client: ApiClient, body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    exchange = client.request("POST", PATH, body=body)
    return exchange, envelope(
        client,
        exchange,
        status_is(client, exchange, (200,), "WRITE-001", "a valid memo is created"),
        KIND.name,
        "WRITE-001",
    )


@pytest.mark.rules("PAGE-001")
@pytest.mark.features("filters", "sort")
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("limit", [1, 3])
def test_paging_through_ties_in_the_sort_field_reaches_each_object_once_in_id_order(
    client: ApiClient, tied: list[dict[str, Any]], tag: str, limit: int, direction: str
) -> None:
    # "Ties break on `id` (adopted rule) so that paging is stable" (#/components/parameters/SortInvoiceCreditMemos)
    ids: list[str] = []
    for exchange, page in walk(  # noqa: B007 - the last exchange is used after the loop
        client, {"filter": f'document_number="{tag}-tie"', "sort": f"document_number {direction}"}, limit, len(tied) + 2
    ):
        ids += [o["id"] for o in page]
    want = sorted((o["id"] for o in tied), reverse=direction == "DESC")
    same(
        client, exchange, "PAGE-001", f"objects reached, in id order, paging {limit} at a time through a tie", want, ids
    )


@pytest.mark.rules("PAGE-001")
def test_limit_above_the_maximum_is_rejected(client: ApiClient) -> None:
    status_is(client, client.request("GET", PATH, params={"limit": 501}), (400,), "PAGE-001", "limit is at most 500")


@pytest.mark.rules("SCHEMA-003")
@pytest.mark.parametrize("limit", ["abc", "1.5", "0"])
def test_limit_that_is_not_a_positive_integer_is_rejected(client: ApiClient, limit: str) -> None:
    status_is(
        client,
        client.request("GET", PATH, params={"limit": limit}),
        (400,),
        "SCHEMA-003",
        f"limit={limit} is not an integer >= 1",
    )


def _listed(client: ApiClient, params: dict[str, Any], rule: str) -> tuple[Any, list[dict[str, Any]]]:
    collected: list[dict[str, Any]] = []
    exchange = None
    for exchange, page in walk(client, params, 500, 50, rule):  # noqa: B007 - the last exchange is used after the loop
        collected += page
    return exchange, collected


@pytest.mark.rules("FILTER-001")
@hsettings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
def test_each_filter_selects_exactly_the_matching_objects(
    client: ApiClient, created: list[dict[str, Any]], data: st.DataObject
) -> None:
    values = {
        f: [o.get(f) for o in created]
        for f in ("customer_id", "document_number", "created_at", "updated_at", "last_synced_at")
    }
    chosen = data.draw(queries.filters(kind=KIND.name, values=values, max_conditions=2))
    exchange, listed = _listed(client, {"filter": chosen.render()}, "FILTER-001")
    returned = {o["id"] for o in listed}
    for obj in created:
        expected = querymodel.matches(chosen, obj)
        if expected != (obj["id"] in returned):
            raise violation(
                "FILTER-001",
                expected=f"{obj['id']} {'in' if expected else 'not in'} the result of {chosen.render()}",
                received=f"{obj['id']} {'in' if not expected else 'not in'} it",
                reproduction=exchange.reproduction(client.redactor),
            )
    for obj in listed:
        if not querymodel.matches(chosen, obj):
            raise violation(
                "FILTER-001",
                expected=f"only objects matching {chosen.render()}",
                received=f"{obj['id']} does not match",
                reproduction=exchange.reproduction(client.redactor),
            )


@pytest.mark.rules("FILTER-002")
@hsettings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(bad=queries.bad_filters(kind=KIND.name))
@example(bad='created_at>"2024-02-30T00:00:00Z"')  # a date that does not exist, every run
def test_malformed_filter_is_rejected(client: ApiClient, bad: str) -> None:
    status_is(
        client,
        client.request("GET", PATH, params={"filter": bad}),
        (400,),
        "FILTER-002",
        f"{bad!r} is not a valid filter",
    )


@pytest.mark.rules("SORT-001")
@pytest.mark.features("filters")
@pytest.mark.parametrize("field", ["created_at", "document_number", "customer_id", "updated_at"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_sort_orders_in_the_direction_asked(
    client: ApiClient, created: list[dict[str, Any]], tag: str, field: str, direction: str
) -> None:
    exchange, listed = _listed(
        client, {"filter": f'document_number~"{tag}-q"', "sort": f"{field} {direction}"}, "SORT-001"
    )
    ours = {o["id"] for o in created}
    got = [o["id"] for o in listed if o["id"] in ours]
    want = [o["id"] for o in querymodel.expected_order([o for o in listed if o["id"] in ours], field, direction)]
    same(client, exchange, "SORT-001", f"order by {field} {direction}", want, got)


@pytest.mark.rules("EXPAND-001")
def test_expand_includes_platform_data_and_its_absence_leaves_it_out(
    client: ApiClient, created: list[dict[str, Any]]
) -> None:
    memo_id = created[0]["id"]
    exchange = client.request("GET", f"{PATH}/{memo_id}", params={"expand": "platform_data"})
    memo = envelope(
        client,
        exchange,
        status_is(client, exchange, (200,), "EXPAND-001", "fetch with expand"),
        KIND.name,
        "EXPAND-001",
    )
    same(client, exchange, "EXPAND-001", "platform_data present", True, "platform_data" in memo)
    exchange = client.request("GET", f"{PATH}/{memo_id}")
    memo = envelope(
        client,
        exchange,
        status_is(client, exchange, (200,), "EXPAND-001", "fetch without expand"),
        KIND.name,
        "EXPAND-001",
    )
    same(client, exchange, "EXPAND-001", "platform_data present", False, "platform_data" in memo)


@pytest.mark.rules("EXPAND-001")
@pytest.mark.features("filters")
@pytest.mark.parametrize("expand", [True, False])
def test_expand_on_a_list_includes_platform_data_on_every_object(
    client: ApiClient, created: list[dict[str, Any]], tag: str, expand: bool
) -> None:
    # the Expand parameter is declared on the list operations as on the fetches (#/components/parameters/Expand)
    params = {"filter": f'document_number~"{tag}-q"', **({"expand": "platform_data"} if expand else {})}
    exchange, listed = _listed(client, params, "EXPAND-001")
    same(
        client,
        exchange,
        "EXPAND-001",
        f"listed objects without platform_data ({'with' if expand else 'without'} expand)",
        [] if expand else sorted(o["id"] for o in listed),
        sorted(o["id"] for o in listed if "platform_data" not in o),
    )


@pytest.mark.rules("IDTYPE-001")
def test_id_type_platform_fetches_by_platform_id(client: ApiClient, created: list[dict[str, Any]]) -> None:
    memo = created[1]
    exchange = client.request("GET", f"{PATH}/{memo['id']}")
    platform_id = text(
        client,
        exchange,
        envelope(
            client,
            exchange,
            status_is(client, exchange, (200,), "IDTYPE-001", "the memo exists"),
            KIND.name,
            "IDTYPE-001",
        ),
        "platform_id",
        "IDTYPE-001",
    )
    exchange = client.request("GET", f"{PATH}/{platform_id}", params={"id_type": "platform"})
    body = status_is(client, exchange, (200,), "IDTYPE-001", "the platform id names the memo")
    same(
        client,
        exchange,
        "IDTYPE-001",
        "id",
        memo["id"],
        envelope(client, exchange, body, KIND.name, "IDTYPE-001").get("id"),
    )


@pytest.mark.rules("DEPRECATED-001")
@pytest.mark.features("filters")
def test_deprecated_millisecond_bounds_are_honoured(client: ApiClient, created: list[dict[str, Any]], tag: str) -> None:
    stamped = [o for o in created if o.get("updated_at") is not None]
    if not stamped:
        pytest.skip("no created memo has an updated_at to bound by")
    newest = max(stamped, key=lambda o: instant_ns(o["updated_at"]))
    oldest = min(stamped, key=lambda o: instant_ns(o["updated_at"]))
    exchange, listed = _listed(
        client,
        {"filter": f'document_number~"{tag}-q"', "updated_at_min": ms_of(newest["updated_at"])},
        "DEPRECATED-001",
    )
    same(
        client,
        exchange,
        "DEPRECATED-001",
        "newest memo within updated_at_min",
        True,
        newest["id"] in {o["id"] for o in listed},
    )
    exchange, listed = _listed(
        client,
        {"filter": f'document_number~"{tag}-q"', "updated_at_max": ms_of(oldest["updated_at"]) - 1},
        "DEPRECATED-001",
    )
    same(
        client,
        exchange,
        "DEPRECATED-001",
        "objects updated after updated_at_max",
        [],
        [o["id"] for o in listed if not querymodel.within_ms_bounds(o, updated_at_max=ms_of(oldest["updated_at"]) - 1)],
    )


@pytest.mark.rules("FILTER-001")
@pytest.mark.parametrize("op", ["=", "!=", ">", ">=", "<", "<="])
@pytest.mark.parametrize("field", ["created_at", "updated_at"])
def test_comparison_at_an_objects_own_timestamp_respects_the_boundary(
    client: ApiClient, created: list[dict[str, Any]], tag: str, field: str, op: str
) -> None:
    stamped = [o for o in created if o.get(field) is not None]
    if not stamped:
        pytest.skip(f"no created memo has a {field} to compare at")
    pivot = sorted(stamped, key=lambda o: querymodel.sort_key(o, field))[len(stamped) // 2]
    stamp = querymodel.filter_timestamp(pivot[field])
    if stamp is None:
        pytest.skip(f"{pivot[field]!r} cannot be written in the filter grammar (below a microsecond)")
    condition = queries.Condition(field, op, stamp)
    chosen = queries.Filter((queries.Condition("document_number", "~", f"{tag}-q"), condition))
    exchange, listed = _listed(client, {"filter": chosen.render()}, "FILTER-001")
    ours = {o["id"] for o in created}
    got = sorted(o["id"] for o in listed if o["id"] in ours)
    want = sorted(o["id"] for o in created if querymodel.matches(chosen, o))
    same(client, exchange, "FILTER-001", f"objects selected by {chosen.render()}", want, got)
