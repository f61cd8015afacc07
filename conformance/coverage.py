"""What a run exercised: every operation of the contract by documented response status, from the exchanges it made.

An operation counts as exercised when it answered a success (2xx) at least once; a documented response as seen when
its status came back at least once. Statuses the contract does not document for an operation are counted apart.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from accounting_conformance.conformance.claims import operations
from accounting_conformance.conformance.recorder import Recorded


@dataclass(frozen=True)
class Operation:
    """One operation of the contract and the statuses it documents."""

    operation_id: str
    method: str  # upper case
    path: str  # the path template
    documented: tuple[str, ...]  # status codes ("200", "4XX" ranges as written)
    pattern: re.Pattern[str]
    literal: bool  # a path without templates matches before any template (OpenAPI 3.1, Path Templating)


def _pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", path)
    regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts if part)
    return re.compile(f"^{regex}/?$")


def operations_of(spec: dict[str, Any]) -> list[Operation]:
    """The contract's operations in document order."""
    found = []
    for path, method, operation in operations(spec):
        statuses = tuple(str(code) for code in operation.get("responses", {}) if str(code) != "default")
        found.append(
            Operation(
                operation.get("operationId", f"{method.upper()} {path}"),
                method.upper(),
                path,
                statuses,
                _pattern(path),
                "{" not in path,
            )
        )
    return found


class Matcher:
    """Names the contract operation of a method and a request path (None when the contract has none)."""

    def __init__(self, operations: list[Operation]) -> None:
        # literal paths first, then templates with more literal segments first
        self._ordered = sorted(operations, key=lambda op: (not op.literal, -op.path.count("/") + op.path.count("{")))

    def __call__(self, method: str, path: str) -> str | None:
        """The operationId, or None."""
        for operation in self._ordered:
            if operation.method == method and operation.pattern.match(path):
                return operation.operation_id
        return None


def documents(operation: Operation, status: int) -> str | None:
    """The documented response key a status falls under ("404", or a range such as "4XX"), or None."""
    exact = str(status)
    if exact in operation.documented:
        return exact
    ranged = f"{exact[0]}XX"
    return ranged if ranged in operation.documented else None


@dataclass
class Coverage:
    """Counts of responses by operation and status, fed one exchange at a time."""

    operations: list[Operation]
    seen: dict[str, Counter[str]] = field(default_factory=dict)  # operationId -> documented key -> count
    undocumented: dict[str, Counter[str]] = field(default_factory=dict)
    _by_id: dict[str, Operation] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._by_id = {op.operation_id: op for op in self.operations}

    def observe(self, entry: Recorded) -> None:
        """Count one exchange (one without a response or outside the contract counts nowhere)."""
        operation = self._by_id.get(entry.operation_id or "")
        if operation is None or not entry.status:
            return
        key = documents(operation, entry.status)
        with self._lock:
            if key is None:
                self.undocumented.setdefault(operation.operation_id, Counter())[str(entry.status)] += 1
            else:
                self.seen.setdefault(operation.operation_id, Counter())[key] += 1

    def exercised(self, operation: Operation) -> bool:
        """Whether the operation answered a success at least once."""
        return any(key.startswith("2") and n for key, n in self.seen.get(operation.operation_id, Counter()).items())

    def asdict(self, minimum: tuple[float, float] | None = None) -> dict[str, Any]:
        """The matrix as summary.json holds it, with the totals and, given a minimum, whether it was met."""
        rows: list[dict[str, Any]] = []
        for op in self.operations:
            responses = {key: self.seen.get(op.operation_id, Counter())[key] for key in op.documented}
            rows.append(
                {
                    "operation_id": op.operation_id,
                    "method": op.method,
                    "path": op.path,
                    "responses": responses,
                    "undocumented": dict(sorted(self.undocumented.get(op.operation_id, Counter()).items())),
                    "success": self.exercised(op),
                }
            )
        totals = {
            "operations_total": len(rows),
            "operations_exercised": sum(1 for row in rows if row["success"]),
            "responses_total": sum(len(row["responses"]) for row in rows),
            "responses_seen": sum(1 for row in rows for n in row["responses"].values() if n),
        }
        return {"operations": rows, **totals, **judge(totals, minimum)}


def percent(part: int, whole: int) -> float:
    """part of whole in percent, one decimal (100 when there is nothing to cover)."""
    return round(100.0 * part / whole, 1) if whole else 100.0


def judge(totals: dict[str, int], minimum: tuple[float, float] | None) -> dict[str, Any]:
    """The minimum asked for and whether the totals meet it (met is True without a minimum)."""
    if minimum is None:
        return {"minimum": None, "met": True}
    operations = percent(totals["operations_exercised"], totals["operations_total"])
    responses = percent(totals["responses_seen"], totals["responses_total"])
    return {
        "minimum": {"operations": minimum[0], "responses": minimum[1]},
        "met": operations >= minimum[0] and responses >= minimum[1],
    }


def headline(data: dict[str, Any]) -> str:
    """`21/21 operations, 97/104 documented responses seen` from the summary's coverage."""
    return (
        f"{data['operations_exercised']}/{data['operations_total']} operations, "
        f"{data['responses_seen']}/{data['responses_total']} documented responses seen"
    )
