"""What the differ produces and walks with: findings, locations in both specs, `$ref` resolution."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from accounting_conformance.conformance.specdiff.checks import CHECKS, Severity


class SpecError(Exception):
    """A spec cannot be read or walked (unreadable, unparsable, a `$ref` cycle)."""


def escape(part: str) -> str:
    """One JSON-pointer segment (RFC 6901: `~` as `~0`, `/` as `~1`)."""
    return str(part).replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class At:
    """Where a node sits: its JSON pointer in the old and in the new spec, and the operation that reached it."""

    old: str
    new: str
    via: str = ""

    def child(self, *parts: str) -> At:
        """The location of a node below this one."""
        tail = "".join(f"/{escape(p)}" for p in parts)
        return At(self.old + tail, self.new + tail, self.via)

    def moved(self, old: str, new: str) -> At:
        """The same walk continued at other pointers (after following `$ref`s)."""
        return At(old, new, self.via)


@dataclass(frozen=True)
class Finding:
    """One change between the two specs, under one check."""

    id: str
    severity: Severity
    location: str  # a JSON pointer into the new spec, or into the old one when the thing is gone (side="old")
    side: str
    operation: str
    message: str
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The finding as plain JSON data."""
        return asdict(self)


@dataclass
class Recorder:
    """Collects findings once each (a check at a location), in the order they were found."""

    findings: dict[tuple[str, str], Finding] = field(default_factory=dict)

    def add(self, check_id: str, at: At, message: str, *, side: str = "new") -> None:
        """Record a finding of a registered check (an unknown ID is a bug of ours and raises)."""
        check = CHECKS[check_id]
        location = at.new if side == "new" else at.old
        key = (check_id, location)
        if key not in self.findings:
            self.findings[key] = Finding(check_id, check.severity, location, side, at.via, message)


def resolve(spec: dict[str, Any], pointer: str) -> Any:
    """The node at a local JSON pointer (`#/a/b`), or None when there is none."""
    node: Any = spec
    for raw in pointer.lstrip("#").strip("/").split("/") if pointer.strip("#/") else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def deref(spec: dict[str, Any], node: Any, pointer: str) -> tuple[Any, str]:
    """The node a chain of local `$ref`s leads to, and its pointer (the last target, or the given one)."""
    hops = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
        pointer, hops = node["$ref"], hops + 1
        node = resolve(spec, pointer)
        if hops > 64:
            raise SpecError(f"$ref cycle at {pointer}")
    return node, pointer


def canonical(value: Any) -> str:
    """A stable text of a JSON value, for comparing shapes and enum members."""
    return json.dumps(value, sort_keys=True, default=str)


def shown(value: Any) -> str:
    """A short text of a value for a message."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def mapping(value: Any) -> dict[str, Any]:
    """The value if it is a JSON object, else an empty one (an odd document is judged, never crashed on)."""
    return value if isinstance(value, dict) else {}


def sequence(value: Any) -> list[Any]:
    """The value if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def names(value: Any) -> set[str]:
    """The members of an array of names (required, x-filterable-fields ...) as text, whatever they are."""
    return {str(v) if not isinstance(v, (dict, list)) else canonical(v) for v in sequence(value)}
