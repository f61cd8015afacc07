"""Named failures: a fixed title per rule, Expected/Received lines, and how to reproduce."""

from __future__ import annotations

from schemathesis.core.failures import Failure

from accounting_conformance.conformance import rules


class RuleViolation(Failure):
    """A response broke one of the contract's rules."""

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


def violation(
    rule: str, *, expected: str, received: str, operation: str | None = None, reproduction: str | None = None
) -> RuleViolation:
    """The named failure for a rule."""
    return RuleViolation(
        rule=rule, expected=expected, received=received, operation=operation, reproduction=reproduction
    )
