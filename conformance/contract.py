"""The contract, openapi/openapi.yaml, loaded once and shared read-only by the suite's modules."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from accounting_conformance.conformance.resources import contract_path

SPEC_PATH = contract_path()


class SpecLoader(yaml.SafeLoader):
    """A safe YAML loader that leaves timestamps as strings (YAML 1.2, as OpenAPI 3.1 and its validator read it)."""


SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_spec(text: str) -> Any:
    """Parse YAML or JSON spec text the way load_spec does (dates stay strings)."""
    return yaml.load(text, Loader=SpecLoader)  # noqa: S506 - SpecLoader is a SafeLoader


@lru_cache(maxsize=8)
def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        spec = parse_spec(handle.read())
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: not an OpenAPI document (top level is {type(spec).__name__})")
    return spec


def load_spec(path: str | Path | None = None) -> dict[str, Any]:
    """The parsed spec at path (default: the repo's openapi/openapi.yaml), cached; do not mutate it."""
    return _load(str(Path(path) if path is not None else SPEC_PATH))


def component(name: str, section: str = "schemas", path: str | Path | None = None) -> dict[str, Any]:
    """One entry of components/<section> (schemas by default), failing loudly on an unknown name."""
    entries = load_spec(path).get("components", {}).get(section, {})
    try:
        found = entries[name]
    except KeyError:
        raise KeyError(f"components/{section} has no {name!r}") from None
    if not isinstance(found, dict):
        raise ValueError(f"components/{section}/{name} is not an object")
    return found


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow local `$ref`s (`#/...`) from node until a node without one is reached."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            raise ValueError(f"cannot resolve $ref {ref!r}")
        seen.add(ref)
        node = pointer(spec, ref[1:])
    return node


def pointer(document: Any, path: str) -> Any:
    """The node at a JSON pointer (`/components/schemas/X`) inside document."""
    node = document
    for raw in path.lstrip("/").split("/") if path.strip("/") else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(f"no {path!r} in the document")
    return node


def operation_pointer(operation_id: str, *keys: str, path: str | Path | None = None) -> str:
    """The JSON pointer of an operation, or of a key under it: getInvoice -> `#/paths/~1accounting~1invoices~1{id}/get`."""
    for route, item in load_spec(path).get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                parts = (route, method, *keys)
                return "#/" + "/".join(["paths", *(p.replace("~", "~0").replace("/", "~1") for p in parts)])
    raise KeyError(f"the contract has no operation {operation_id!r}")


def _exact_multiple_of(
    validator: Any, step: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """`multipleOf` as JSON Schema means it, on exact decimals (jsonschema divides binary floats: 0.15 / 0.0001 fails)."""
    if validator.is_type(instance, "number"):
        quotient = Decimal(str(instance)) / Decimal(str(step))
        if quotient != quotient.to_integral_value():
            yield ValidationError(f"{instance!r} is not a multiple of {step}")


#: Draft 2020-12 (OpenAPI 3.1's dialect) with `multipleOf` decided exactly: the contract bounds amounts to 4 decimal
#: places with `multipleOf: 0.0001`, which a validator dividing floats would wrongly refuse for 0.15.
ExactValidator: Any = validators.extend(  # type: ignore[no-untyped-call]  # jsonschema's stubs leave extend untyped
    Draft202012Validator, {"multipleOf": _exact_multiple_of}
)
