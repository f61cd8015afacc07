"""strategies.allocations: plans keep to their mode's bounds and the targets' dues, and reach the edges."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from accounting_conformance.strategies.allocations import Plan, allocation_plans, non_positive_amounts
from accounting_conformance.strategies.money import amounts, minor_unit
from tests.unit.strategies.spec_helpers import errors

FIND = settings(max_examples=500, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
CENT = Decimal("0.01")
TARGETS = [("inv-1", Decimal("30.00")), ("inv-2", Decimal("5.00")), ("inv-3", Decimal("100.00"))]


@st.composite
def _situations(draw: st.DrawFn) -> tuple[str, Decimal, list[tuple[str, Decimal]], str]:
    """A currency, a remaining amount, targets with dues and a mode that is possible for them."""
    currency = draw(st.sampled_from(["USD", "JPY", "KWD"]))
    unit = minor_unit(currency)
    dues = draw(st.lists(amounts(currency=currency, min_value=unit, max_value=Decimal(500)), min_size=1, max_size=4))
    targets = [(f"t{i}", due) for i, due in enumerate(dues)]
    total = sum(dues, Decimal(0))
    mode = draw(st.sampled_from(["under", "exact", "over"]))
    high = {"under": Decimal(1000), "exact": total, "over": total - unit}[mode]
    low = {"under": 2 * unit, "exact": unit, "over": Decimal(0)}[mode]
    remaining = draw(amounts(currency=currency, min_value=low, max_value=high)) if high >= low else low
    return currency, remaining, targets, mode


def _sum(plan: Plan) -> Decimal:
    return sum((amount for _, amount in plan), Decimal(0))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(situation=_situations(), data=st.data())
def test_every_plan_keeps_to_its_mode_and_to_each_targets_due(situation: Any, data: st.DataObject) -> None:
    currency, remaining, targets, mode = situation
    plan = data.draw(allocation_plans(remaining=remaining, targets=targets, mode=mode, currency=currency))
    dues = dict(targets)
    assert plan and len({t for t, _ in plan}) == len(plan)
    for target, amount in plan:
        assert isinstance(amount, Decimal) and 0 < amount <= dues[target]
        assert amount % minor_unit(currency) == 0
    total = _sum(plan)
    if mode == "under":
        assert total < remaining
    elif mode == "exact":
        assert total == remaining
    else:
        assert total >= remaining + minor_unit(currency)


def test_exact_plan_allocates_the_whole_remaining_amount_even_across_several_targets() -> None:
    strategy = allocation_plans(remaining=Decimal("120.00"), targets=TARGETS, mode="exact")
    plan = find(strategy, lambda p: len(p) == 3, settings=FIND)
    assert _sum(plan) == Decimal("120.00") and len(plan) == 3


def test_exact_plan_shrinks_to_one_target_taking_everything() -> None:
    assert find(allocation_plans(remaining=Decimal("20"), targets=TARGETS, mode="exact"), lambda p: True) == [
        ("inv-1", Decimal("20.00"))
    ]


def test_over_plan_reaches_one_minor_unit_above_remaining() -> None:
    plan = find(
        allocation_plans(remaining=Decimal("40.00"), targets=TARGETS, mode="over"),
        lambda p: _sum(p) == Decimal("40.01") and len(p) > 1,
        settings=FIND,
    )
    assert _sum(plan) == Decimal("40.01")
    assert find(allocation_plans(remaining=Decimal("0"), targets=TARGETS, mode="over"), lambda p: True) == [
        ("inv-1", CENT)
    ]


def test_under_plan_reaches_one_minor_unit_below_remaining_and_one_minor_unit_total() -> None:
    strategy = allocation_plans(remaining=Decimal("10.00"), targets=TARGETS, mode="under")
    assert _sum(find(strategy, lambda p: _sum(p) == Decimal("9.99"), settings=FIND)) == Decimal("9.99")
    assert find(strategy, lambda p: _sum(p) == CENT, settings=FIND) == [("inv-1", CENT)]


def test_plans_reach_a_share_equal_to_the_targets_whole_due() -> None:
    strategy = allocation_plans(remaining=Decimal("1000"), targets=TARGETS, mode="under")
    plan = find(strategy, lambda p: ("inv-3", Decimal("100.00")) in p, settings=FIND)
    assert ("inv-3", Decimal("100.00")) in plan


def test_plans_use_the_currencys_minor_units() -> None:
    plan = find(
        allocation_plans(
            remaining=Decimal(7), targets=[("x", Decimal(3)), ("y", Decimal(9))], mode="exact", currency="JPY"
        ),
        lambda p: len(p) == 2,
        settings=FIND,
    )
    assert all(str(amount).isdigit() for _, amount in plan) and _sum(plan) == 7


@settings(max_examples=40, deadline=None)
@given(plan=allocation_plans(remaining=Decimal("75.50"), targets=TARGETS, mode="exact"))
def test_plans_sent_as_strings_validate_against_both_application_requests(plan: Plan) -> None:
    shares = [{"id": target, "allocated_amount": str(amount)} for target, amount in plan]
    assert (
        errors(
            "InvoiceCreditApplicationRequest",
            {"invoice_credit_application": {"invoice_credit_memo_id": "memo", "linked_invoices": shares}},
        )
        == []
    )
    assert (
        errors(
            "BillCreditApplicationRequest",
            {"bill_credit_application": {"bill_credit_memo_id": "memo", "linked_bills": shares}},
        )
        == []
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"mode": "exact", "remaining": Decimal("200")},
            r"'exact' plan of 200 is impossible: the targets' dues total only 135",
        ),
        (
            {"mode": "over", "remaining": Decimal("135")},
            r"'over' plan needs the targets' dues to total at least 135\.01",
        ),
        ({"mode": "under", "remaining": CENT}, r"'under' plan needs remaining above one minor unit"),
        ({"mode": "under", "remaining": Decimal(0)}, r"'under' plan needs remaining above one minor unit"),
        ({"mode": "exact", "remaining": Decimal(0)}, r"'exact' plan needs a positive remaining"),
        (
            {"mode": "exact", "remaining": Decimal("10.005")},
            r"'exact' plan needs a positive remaining on the 2-decimal grid",
        ),
        ({"mode": "sideways"}, r"mode='sideways' must be one of"),
        ({"remaining": 10.0}, r"never a float"),
        ({"remaining": Decimal(-1)}, r"must not be negative"),
        ({"currency": "XXY"}, r"not an ISO 4217 code"),
        ({"targets": []}, r"non-empty sequence"),
        ({"targets": [("a", Decimal(1)), ("a", Decimal(2))]}, r"repeats target id 'a'"),
        ({"targets": [("a", 3.5)]}, r"never a float"),
        ({"targets": [("", Decimal(1))]}, r"must be a \(non-empty id, Decimal amount due\) tuple"),
        (
            {"targets": [("a", Decimal("0.001")), ("b", Decimal(0))]},
            r"no target has an amount due of at least one minor unit",
        ),
    ],
)
def test_impossible_or_malformed_requests_fail_when_the_strategy_is_made(kwargs: dict[str, Any], message: str) -> None:
    options: dict[str, Any] = {"remaining": Decimal(10), "targets": TARGETS, "mode": "under", **kwargs}
    with pytest.raises(InvalidArgument, match=message):
        allocation_plans(**options)


@settings(max_examples=60, deadline=None)
@given(value=non_positive_amounts())
def test_non_positive_amounts_are_zero_or_negative_and_break_the_amount_schema(value: str | int | float) -> None:
    assert Decimal(json.dumps(value).strip('"')) <= 0
    assert errors("AmountInput", value) != []


def test_non_positive_amounts_come_in_both_spellings_and_shrink_to_zero() -> None:
    assert find(non_positive_amounts(), lambda v: True) == 0
    find(non_positive_amounts(), lambda v: isinstance(v, str) and v.startswith("-"), settings=FIND)
    find(non_positive_amounts(), lambda v: isinstance(v, float) and v < 0, settings=FIND)
    find(non_positive_amounts(currency="JPY"), lambda v: isinstance(v, int) and v < 0, settings=FIND)
