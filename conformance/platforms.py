"""Which operations the contract documents for a platform (`x-supported-platforms`)."""

from __future__ import annotations

from functools import lru_cache

import pytest

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.contract import load_spec

ANY = "ANY"


@lru_cache(maxsize=1)
def supported_platforms() -> dict[str, tuple[str, ...]]:
    """operationId -> the platforms its page documents it for (ANY when the page names none)."""
    found: dict[str, tuple[str, ...]] = {}
    for item in load_spec()["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = tuple(operation.get("x-supported-platforms", [ANY]))
    return found


def operation_id(verb: str, kind: str) -> str:
    """The contract's operationId for a verb on a kind: ("create", "bill_credit_memo") -> createBillCreditMemo."""
    return kinds.get(kind).operation(verb)


def marked_operations(node: pytest.Item) -> list[str]:
    """The operationIds a test's `operations` markers name (closest first)."""
    return [operation for mark in node.iter_markers("operations") for operation in mark.args]


def unsupported(platform: str | None, *operation_ids: str) -> list[str]:
    """The operations among these that the contract does not document for `platform`."""
    if not platform:
        return []
    table = supported_platforms()
    return [op for op in operation_ids if ANY not in table[op] and platform not in table[op]]


def require(platform: str | None, *operation_ids: str) -> None:
    """Skip the calling test, saying why, when the target's platform lacks one of these operations."""
    missing = unsupported(platform, *operation_ids)
    if missing:
        pytest.skip(f"unsupported: {', '.join(missing)} not documented for {platform}")
