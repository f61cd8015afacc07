"""Coverage of the source pages: every field fact of tests/spec/source_facts.yaml compared with the spec.

The lint rule (tests/spec/lint.py) and the `make validate` summary (tests/spec/report.py) both use
`compare_fields`, so the figures printed are the ones the test enforces.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FACTS_PATH = Path(__file__).resolve().parent / "source_facts.yaml"

#: Fact component name -> spec component name, where the transcription named an object differently.
#: A fact component that is neither here nor in components/schemas is reported, never skipped.
COMPONENT_NAMES: dict[str, str] = {}

_JSON_TYPES = ("string", "number", "integer", "boolean", "array", "object")


@dataclass(frozen=True)
class FieldResult:
    """One field fact and what the spec says about it; `problems` is empty when the spec covers it."""

    component: str
    field: str
    problems: tuple[str, ...]

    @property
    def covered(self) -> bool:
        """Whether the spec has the field with the fact's type, nullability and filterability."""
        return not self.problems

    def lines(self) -> list[str]:
        """One line per problem: `Component.field: problem`."""
        return [f"{self.component}.{self.field}: {problem}" for problem in self.problems]


def load_facts(path: Path = FACTS_PATH) -> dict[str, Any]:
    """The parsed facts file."""
    with open(path, encoding="utf-8") as handle:
        facts = yaml.safe_load(handle)
    if not isinstance(facts, dict) or not isinstance(facts.get("components"), dict):
        raise ValueError(f"{path}: expected a mapping with `components`")
    return facts


def _deref(spec: dict[str, Any], node: Any) -> Any:
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"] not in seen:
        seen.add(node["$ref"])
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def accepted(spec: dict[str, Any], schema: Any) -> tuple[set[str], bool, list[Any] | None]:
    """What a property schema accepts: (JSON types other than null, or all of them; null allowed?; enum)."""
    schema = _deref(spec, schema)
    if not isinstance(schema, dict):
        return set(_JSON_TYPES), True, None
    branches = [b for key in ("oneOf", "anyOf") for b in schema.get(key, [])]
    if branches:
        types: set[str] = set()
        nullable, enum = False, None
        for branch in branches:
            branch_types, branch_null, branch_enum = accepted(spec, branch)
            types |= branch_types
            nullable = nullable or branch_null
            enum = enum if branch_enum is None else (enum or []) + branch_enum
        return types, nullable, enum
    declared = schema.get("type")
    enum = schema.get("enum")
    if declared is None and enum is None:
        return set(_JSON_TYPES), True, None  # unconstrained, e.g. PlatformData.data
    if declared is None:
        declared = sorted({_json_type(value) for value in enum})
    names = {declared} if isinstance(declared, str) else set(declared)
    nullable = "null" in names and (enum is None or None in enum)
    return names - {"null"}, nullable, enum


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "object")


def _type_ok(fact_type: str, types: set[str]) -> bool:
    return fact_type in types or (fact_type == "integer" and "number" in types)


def _field_problems(spec: dict[str, Any], fact: dict[str, Any], prop: Any) -> list[str]:
    types, nullable, enum = accepted(spec, prop)
    problems = []
    fact_type = fact.get("type")
    if fact_type not in _JSON_TYPES:
        problems.append(f"the fact's type {fact_type!r} is not a JSON type")
    elif not _type_ok(fact_type, types):
        problems.append(f"type differs: the page says {fact_type}, the spec accepts {' or '.join(sorted(types))}")
    if fact.get("nullable") is not None and bool(fact["nullable"]) != nullable:
        said = "nullable" if fact["nullable"] else "not nullable"
        problems.append(
            f"nullability differs: the page says {said}, the spec {'allows' if nullable else 'refuses'} null"
        )
    spec_filterable = any(
        isinstance(node, dict) and node.get("x-filterable") is True for node in (prop, _deref(spec, prop))
    )
    # The Invoices page names no filterable fields; API-NOTES adopts some, and the spec says so on each.
    adopted = any(
        isinstance(node, dict) and node.get("x-filterable-adopted") is True for node in (prop, _deref(spec, prop))
    )
    if bool(fact.get("filterable")) != spec_filterable and not (
        adopted and spec_filterable and not fact.get("filterable")
    ):
        said = "filterable" if fact.get("filterable") else "not filterable"
        problems.append(
            f"filterability differs: the page says {said}, the spec {'marks' if spec_filterable else 'does not mark'} it x-filterable"
        )
    if fact.get("enum") and enum is None:
        problems.append("the page types it an enum, the spec has no enum")
    missing = [v for v in fact.get("enum_values") or [] if enum is None or v not in enum]
    if missing:
        problems.append(f"enum values of the page missing from the spec: {', '.join(map(str, missing))}")
    return problems


def compare_fields(spec: dict[str, Any], facts: dict[str, Any]) -> list[FieldResult]:
    """Every field fact, compared with the spec's component of the same (or mapped) name."""
    schemas = spec.get("components", {}).get("schemas", {})
    results = []
    for name, component in facts["components"].items():
        spec_name = COMPONENT_NAMES.get(name, name)
        schema = _deref(spec, schemas.get(spec_name))
        fields = (component or {}).get("fields") or {}
        for field, fact in fields.items():
            if not isinstance(schema, dict):
                problem = f"no component {spec_name!r} in the spec (map it in COMPONENT_NAMES)"
                results.append(FieldResult(name, field, (problem,)))
                continue
            props = schema.get("properties", {})
            if field not in props:
                results.append(FieldResult(name, field, (f"missing from components/schemas/{spec_name}",)))
                continue
            results.append(FieldResult(name, field, tuple(_field_problems(spec, fact or {}, props[field]))))
    return results


def _platforms(names: list[str]) -> list[str]:
    return sorted(n.upper().replace(" ", "_") for n in names) or ["ANY"]


def compare_operations(spec: dict[str, Any], facts: dict[str, Any]) -> list[str]:
    """One line per documented operation the spec lacks, or whose supported platforms differ."""
    problems = []
    for op in facts.get("operations") or []:
        method, path = str(op.get("method", "")).lower(), op.get("path")
        operation = spec.get("paths", {}).get(path, {}).get(method)
        if not isinstance(operation, dict):
            problems.append(f"operation {method.upper()} {path}: missing from the spec")
            continue
        pages = _platforms(list(op.get("supported_for") or []))
        declared = sorted(operation.get("x-supported-platforms") or [])
        if pages != declared:
            problems.append(
                f"operation {method.upper()} {path}: supported platforms differ: page {pages}, spec {declared}"
            )
    return problems


def coverage(results: list[FieldResult]) -> tuple[int, int]:
    """(covered, total) field facts."""
    return sum(r.covered for r in results), len(results)
