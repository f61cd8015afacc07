"""Breaking-change detection between two versions of an OpenAPI 3.1 document (`make spec-diff`).

`diff(old, new)` returns every change the checks in `checks.CHECKS` know, each a `Finding` with a
stable check ID, a severity (breaking, warning, info), a JSON-pointer location and a sentence.

Why our own: oasdiff (Go) is the reference tool, but a binary we cannot download here and its npm
wrappers fetch it at install. On PyPI, `api-schema-diff` 1.0.4 reads `type` only as a single string,
so it misses every OpenAPI 3.1 `type: [x, 'null']` change and has no enum or nullability rules;
`kryptorious-apiguard` 1.0.x is a new single-author tool with a paid tier. The checks here follow
oasdiff's catalogue (`checker/rules.go`) category by category, IDs in its style.
"""

from __future__ import annotations

from typing import Any

from accounting_conformance.conformance.specdiff.checks import CHECKS, SEVERITIES, Check
from accounting_conformance.conformance.specdiff.model import Finding, SpecError
from accounting_conformance.conformance.specdiff.operations import OperationDiffer

__all__ = ["CHECKS", "Check", "Finding", "SpecError", "breaking_changes", "diff"]


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    """Every change from the old spec to the new one, most severe first, then by location."""
    if not isinstance(old.get("paths"), dict) or not isinstance(new.get("paths"), dict):
        raise SpecError("not an OpenAPI document (no `paths` object)")
    found = OperationDiffer(old, new).run().findings.values()
    return sorted(found, key=lambda f: (SEVERITIES.index(f.severity), f.location, f.id, f.message))


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[Finding]:
    """The breaking findings only."""
    return [f for f in diff(old, new) if f.severity == "breaking"]
