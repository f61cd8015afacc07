"""Lint rule: a schema object holds only JSON Schema 2020-12 / OpenAPI 3.1 keywords and `x-` extensions.

A YAML flow mapping with a comma in an unquoted description (`{type: string, description: What went wrong, for
people.}`) parses as a description cut at the comma plus a stray key `for people.`; every validator ignores
unknown keys, so only a rule like this one (or `redocly lint`) sees the slip.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: JSON Schema 2020-12 (core, applicator, validation, unevaluated, format, content, meta-data) and OpenAPI 3.1's own.
KEYWORDS = frozenset(
    """
$schema $id $ref $anchor $dynamicRef $dynamicAnchor $vocabulary $comment $defs
allOf anyOf oneOf not if then else dependentSchemas prefixItems items contains properties patternProperties
additionalProperties propertyNames unevaluatedItems unevaluatedProperties
type enum const multipleOf maximum exclusiveMaximum minimum exclusiveMinimum maxLength minLength pattern maxItems
minItems uniqueItems maxContains minContains maxProperties minProperties required dependentRequired
format contentEncoding contentMediaType contentSchema
title description default deprecated readOnly writeOnly examples
discriminator xml externalDocs example
""".split()
)
_ONE = (
    "not",
    "if",
    "then",
    "else",
    "items",
    "contains",
    "additionalProperties",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
)
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_NAMED = ("properties", "patternProperties", "$defs", "dependentSchemas")


def _subschemas(schema: dict[str, Any], where: str) -> Iterator[tuple[dict[str, Any], str]]:
    for key in _ONE:
        if isinstance(schema.get(key), dict):
            yield schema[key], f"{where}/{key}"
    for key in _MANY:
        for i, sub in enumerate(schema.get(key) or []):
            if isinstance(sub, dict):
                yield sub, f"{where}/{key}/{i}"
    for key in _NAMED:
        for name, sub in (schema.get(key) or {}).items():
            if isinstance(sub, dict):
                yield sub, f"{where}/{key}/{name}"


def _schemas(spec: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Every schema object the document holds at the top of a schema position (components, parameters, media, headers)."""
    for name, schema in (spec.get("components", {}).get("schemas") or {}).items():
        yield schema, f"#/components/schemas/{name}"

    def walk(node: Any, where: str) -> Iterator[tuple[dict[str, Any], str]]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "schema" and isinstance(value, dict):
                    yield value, f"{where}/schema"
                elif key != "schemas" and not key.startswith("x-") and key not in ("example", "examples"):
                    yield from walk(value, f"{where}/{key.replace('/', '~1')}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                yield from walk(item, f"{where}/{i}")

    yield from walk({k: v for k, v in spec.items() if k != "components"}, "#")
    yield from walk({k: v for k, v in (spec.get("components") or {}).items() if k != "schemas"}, "#/components")


def schemas_hold_only_known_keywords(spec: dict[str, Any]) -> list[str]:
    """(g) Every key of every schema object is a JSON Schema / OpenAPI keyword or an `x-` extension."""
    problems: list[str] = []
    stack = list(_schemas(spec))
    while stack:
        schema, where = stack.pop()
        problems += [
            f"{where}: unknown keyword {key!r} (a YAML slip? quote text holding ', ')"
            for key in schema
            if key not in KEYWORDS and not str(key).startswith("x-")
        ]
        stack += list(_subschemas(schema, where))
    return sorted(problems)
