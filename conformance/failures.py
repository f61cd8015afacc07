"""Named failures: a fixed title per rule, Expected/Received lines, and how to reproduce."""

from __future__ import annotations

from typing import ClassVar

from schemathesis.core.failures import Failure

from accounting_conformance.conformance import rules


class RuleViolation(Failure):
    """A response broke one of the contract's rules."""

    code: ClassVar[str] = "ST901"
    kind_title: ClassVar[str] = "Contract rule violated"
    family: ClassVar[str] = "rule"

    __slots__ = ("rule", "expected", "received", "reproduction")

    def __init__(
        self,
        *,
        rule: str,
        expected: str,
        received: str,
        operation: str | None = None,
        reproduction: str | None = None,
    ) -> None:
        definition = rules.get(rule)
        self.rule = rule
        self.expected = expected
        self.received = received
        self.reproduction = reproduction
        lines = [f"Expected: {expected}", f"Received: {received}", f"Rule: {rule} ({definition.citation})"]
        if reproduction:
            lines.append(f"Reproduce: {reproduction}")
        super().__init__(operation=operation, title=f"[{rule}] {definition.statement}", message="\n".join(lines))

    @property
    def _unique_key(self) -> str:
        # One finding per rule per operation: two rules on one operation are two findings.
        return self.rule


class MoneyRuleViolated(RuleViolation):
    """An amount does not add up."""

    code = "ST902"
    kind_title = "Money rule violated"
    family = "money"


class StatusRuleViolated(RuleViolation):
    """A status does not follow the amounts."""

    code = "ST903"
    kind_title = "Status does not follow amounts"
    family = "status"


class ShapeRuleViolated(RuleViolation):
    """A value has the right JSON type but breaks a rule of form (timestamps, currencies, ids)."""

    code = "ST904"
    kind_title = "Value breaks a rule of form"
    family = "shape"


class StateRuleViolated(RuleViolation):
    """The server's state after a sequence of calls is not what the contract implies."""

    code = "ST905"
    kind_title = "State differs from the model"
    family = "state"


class QueryRuleViolated(RuleViolation):
    """A list, filter, sort or paging result is wrong."""

    code = "ST906"
    kind_title = "List semantics violated"
    family = "query"


_BY_PREFIX: dict[str, type[RuleViolation]] = {
    "MONEY": MoneyRuleViolated,
    "STATUS": StatusRuleViolated,
    "TIME": ShapeRuleViolated,
    "CUR": ShapeRuleViolated,
    "FETCH": ShapeRuleViolated,
    "PAGE": QueryRuleViolated,
    "FILTER": QueryRuleViolated,
    "SORT": QueryRuleViolated,
    "EXPAND": QueryRuleViolated,
    "IDTYPE": QueryRuleViolated,
    "DEPRECATED": QueryRuleViolated,
}


def violation(
    rule: str, *, expected: str, received: str, operation: str | None = None, reproduction: str | None = None
) -> RuleViolation:
    """The named failure for a rule, of the class its family reports as."""
    cls = _BY_PREFIX.get(rule.split("-")[0], StateRuleViolated)
    return cls(rule=rule, expected=expected, received=received, operation=operation, reproduction=reproduction)
