"""Allocation plans for credit applications: which targets get how much of a memo's remaining amount.

A plan is a list of (target_id, amount): each target at most once, every amount > 0, on the
currency's minor-unit grid and at most that target's amount due. The mode fixes how the plan's sum
stands to the memo's remaining amount, so the caller knows the right answer before sending it:
"under" (sum < remaining), "exact" (sum == remaining) or "over" (sum >= remaining + one minor unit).
Impossible requests fail at call time with InvalidArgument, never at draw time.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from accounting_conformance.strategies.money import amounts, check_amount, minor_units, spelled, to_units

__all__ = ["Mode", "Plan", "allocation_plans", "non_positive_amounts"]

Mode = Literal["under", "exact", "over"]
Plan = list[tuple[str, Decimal]]
_MODES = ("under", "exact", "over")
# How one share is chosen: the sum's boundary first (so plans shrink to it), then the extremes.
_CHOICES = ("boundary", "full", "least", "any")


def _targets(targets: Sequence[tuple[str, Decimal]], places: int) -> list[tuple[str, int]]:
    """Validated targets as (id, due in minor units, floored), keeping those that can take one unit."""
    if isinstance(targets, (str, bytes)) or not isinstance(targets, Sequence) or not targets:
        raise InvalidArgument(f"targets={targets!r} must be a non-empty sequence of (target_id, amount_due)")
    seen: set[str] = set()
    usable = []
    for index, pair in enumerate(targets):
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str) and pair[0]):
            raise InvalidArgument(f"targets[{index}]={pair!r} must be a (non-empty id, Decimal amount due) tuple")
        if pair[0] in seen:
            raise InvalidArgument(f"targets[{index}] repeats target id {pair[0]!r}; each target appears once")
        seen.add(pair[0])
        due = to_units(check_amount(f"targets[{index}] amount due", pair[1]), places, ROUND_FLOOR)
        if due >= 1:
            usable.append((pair[0], due))
    if not usable:
        raise InvalidArgument(f"no target has an amount due of at least one minor unit: {targets!r}")
    return usable


def _sum_bounds(mode: str, remaining: Decimal, places: int, total_due: int) -> tuple[int, int | None]:
    """Inclusive bounds (in minor units) on the plan's sum for the mode; InvalidArgument when impossible."""
    below = to_units(remaining, places, ROUND_CEILING) - 1  # largest grid sum strictly under remaining
    if mode == "under":
        if below < 1:
            raise InvalidArgument(f"an 'under' plan needs remaining above one minor unit, got remaining={remaining}")
        return 1, below
    if mode == "exact":
        units = to_units(remaining, places, ROUND_FLOOR)
        if Decimal(units).scaleb(-places) != remaining or units < 1:
            raise InvalidArgument(
                f"an 'exact' plan needs a positive remaining on the {places}-decimal grid, got remaining={remaining}"
            )
        if total_due < units:
            raise InvalidArgument(
                f"an 'exact' plan of {remaining} is impossible: the targets' dues total only "
                f"{Decimal(total_due).scaleb(-places)}"
            )
        return units, units
    least = below + 2  # remaining + one minor unit, rounded up to the grid
    if total_due < least:
        raise InvalidArgument(
            f"an 'over' plan needs the targets' dues to total at least {Decimal(least).scaleb(-places)} "
            f"(remaining + one minor unit), they total {Decimal(total_due).scaleb(-places)}"
        )
    return least, None


def allocation_plans(
    *,
    remaining: Decimal,
    targets: Sequence[tuple[str, Decimal]],
    mode: Mode,
    currency: str = "USD",
) -> SearchStrategy[Plan]:
    """Plans of (target_id, amount) whose sum is under, exactly or over `remaining`, each share <= its due.

    Shrinks towards the fewest targets, taken in the order given, with the sum at the mode's boundary:
    remaining minus one minor unit ("under"), remaining ("exact"), remaining plus one minor unit ("over").
    """
    if mode not in _MODES:
        raise InvalidArgument(f"mode={mode!r} must be one of {_MODES}")
    places = minor_units(currency)
    rest = check_amount("remaining", remaining)
    usable = _targets(targets, places)
    low, high = _sum_bounds(mode, rest, places, sum(due for _, due in usable))
    return _plans(usable, low, high, places)


@st.composite
def _plans(draw: st.DrawFn, usable: list[tuple[str, int]], low: int, high: int | None, places: int) -> Plan:
    """Walk a permutation of the targets, giving each a share that keeps the sum bounds reachable."""
    order = draw(st.permutations(usable))
    after = sum(due for _, due in order)
    boundary = low if high is None else high
    plan: Plan = []
    total = 0
    for target_id, due in order:
        after -= due
        if plan and total >= low and (total == high or not draw(st.booleans())):
            break
        least = max(1, low - total - after)
        most = due if high is None else min(due, high - total)
        choice = draw(st.sampled_from(_CHOICES))
        if choice == "any":
            share = draw(st.integers(least, most))
        else:
            share = {"boundary": min(max(boundary - total, least), most), "full": most, "least": least}[choice]
        plan.append((target_id, Decimal(share).scaleb(-places)))
        total += share
    assert low <= total and (high is None or total <= high), "allocation walk broke its own bounds"
    return plan


def non_positive_amounts(*, currency: str = "USD") -> SearchStrategy[str | int | float]:
    """Zero and negative amounts, as JSON numbers and as decimal strings, for rejection tests; shrinks towards 0."""
    places = minor_units(currency)
    zeros: tuple[str | int | float, ...] = (0, "0", 0.0, -0.0, "-0", "0." + "0" * max(places, 1))
    negatives = amounts(currency=currency, max_value=Decimal(1000)).flatmap(
        lambda amount: spelled(-amount, spelling="either")
    )
    return st.one_of(st.sampled_from(zeros), negatives)
