"""A baseline of accepted failures (`--baseline FILE`), and writing one from a run (`--baseline-write FILE`).

```toml
[[accepted]]
rule = "APPLY-001"
operation = "createInvoiceCreditApplication"   # an operationId, or a test's node id in `test`, or both
reason = "QBO-1234: the invoice side is saved by a nightly job"
expires = 2027-01-31
```
A failure matched by an entry that has not expired is "accepted" and does not fail the run; an entry no failure
matched is "fixed, remove it"; an expired entry fails the run, and the failures it would match count as new.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import tomli_w

from accounting_conformance.conformance.rules import BY_ID

#: How long an entry written by --baseline-write stays valid before someone has to look again.
WRITTEN_VALIDITY = timedelta(days=90)


class BaselineError(ValueError):
    """The baseline file cannot be used; the message names the file, the entry and what to do."""


@dataclass(frozen=True)
class Entry:
    """One accepted failure."""

    rule: str
    reason: str
    expires: date
    operation: str = ""
    test: str = ""

    def asdict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "expires": self.expires.isoformat()}

    def matches(self, rule: str, operation: str, test: str) -> bool:
        """Whether a failure (its rule, operationId and test node id) is the one this entry accepts."""
        if rule != self.rule:
            return False
        if self.operation and operation != self.operation:
            return False
        return not self.test or test == self.test or test.split("[", 1)[0] == self.test


def load(path: Path, known_operations: Iterable[str]) -> list[Entry]:
    """The entries of a baseline file; BaselineError for anything a user must fix."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BaselineError(f"BASELINE {path}: not a readable TOML file: {exc}") from None
    unknown_keys = sorted(set(data) - {"accepted"})
    if unknown_keys:
        raise BaselineError(f"BASELINE {path}: unknown key(s) {', '.join(unknown_keys)}; entries go in [[accepted]]")
    raw = data.get("accepted", [])
    if not isinstance(raw, list):
        raise BaselineError(f"BASELINE {path}: accepted must be an array of tables ([[accepted]])")
    operations = set(known_operations)
    return [_entry(path, n, item, operations) for n, item in enumerate(raw, 1)]


def _entry(path: Path, n: int, item: Any, operations: set[str]) -> Entry:
    where = f"BASELINE {path}: entry {n}"
    if not isinstance(item, dict):
        raise BaselineError(f"{where} is not a table")
    extra = sorted(set(item) - {"rule", "operation", "test", "reason", "expires"})
    if extra:
        raise BaselineError(
            f"{where}: unknown key(s) {', '.join(extra)}; known: rule, operation, test, reason, expires"
        )
    rule, reason, expires = item.get("rule"), item.get("reason"), item.get("expires")
    operation, test = item.get("operation", ""), item.get("test", "")
    if rule not in BY_ID:
        raise BaselineError(f"{where}: rule must be one of the suite's rule IDs, got {rule!r}")
    if not isinstance(reason, str) or not reason.strip():
        raise BaselineError(f"{where}: reason must say why the failure is accepted (a ticket, a date)")
    if not isinstance(expires, date) or isinstance(expires, bool):
        raise BaselineError(f"{where}: expires must be a TOML date such as 2027-01-31, got {expires!r}")
    if not isinstance(operation, str) or not isinstance(test, str) or not (operation or test):
        raise BaselineError(f"{where}: name the failure with operation (an operationId), test (a node id) or both")
    if operation and operation not in operations:
        raise BaselineError(f"{where}: operation {operation!r} is not an operationId of the contract")
    return Entry(rule, reason.strip(), expires, operation, test)


@dataclass(frozen=True)
class Failure:
    """What the baseline judges of one failure: its rule, operationId and test."""

    rule: str
    operation: str
    test: str


def judge(entries: list[Entry], failures: list[Failure], today: date) -> tuple[list[Entry | None], dict[str, Any]]:
    """For each failure the live entry that accepts it (or None), and the baseline's part of summary.json."""
    live = [e for e in entries if e.expires >= today]
    expired = [e for e in entries if e.expires < today]
    accepting: list[Entry | None] = []
    used: set[Entry] = set()
    for failure in failures:
        entry = next((e for e in live if e.matches(failure.rule, failure.operation, failure.test)), None)
        accepting.append(entry)
        if entry is not None:
            used.add(entry)
    return accepting, {
        "accepted": [e.asdict() for e in live if e in used],
        "fixed": [e.asdict() for e in live if e not in used],
        "expired": [e.asdict() for e in expired],
        "new": sum(1 for entry in accepting if entry is None),
    }


def write(path: Path, failures: list[Failure], titles: list[str], today: date) -> int:
    """Write a baseline accepting these failures (one entry per rule, operation and test); the entries written."""
    seen: dict[tuple[str, str, str], str] = {}
    for failure, title in zip(failures, titles, strict=True):
        seen.setdefault((failure.rule, failure.operation, "" if failure.operation else failure.test), title)
    expires = today + WRITTEN_VALIDITY
    accepted = []
    for (rule, operation, test), title in sorted(seen.items()):
        entry: dict[str, Any] = {"rule": rule}
        entry.update({"operation": operation} if operation else {"test": test})
        entry.update({"reason": f"recorded by --baseline-write on {today.isoformat()}: {title}", "expires": expires})
        accepted.append(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Accepted failures: edit each reason, keep expires honest, remove what is fixed.\n"
    path.write_text(header + tomli_w.dumps({"accepted": accepted}), encoding="utf-8")
    return len(accepted)


def operation_namer(match: Callable[[str, str], str | None]) -> Callable[[str], str]:
    """Turns a failure's operation text ("POST /accounting/invoices/abc") into its operationId, when it names one."""

    def name(text: str) -> str:
        method, _, path = text.strip().partition(" ")
        if method and path.startswith("/"):
            return match(method.upper(), path.split("?", 1)[0]) or text
        return text

    return name
