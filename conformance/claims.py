"""Claimed features: what a target may declare it does not offer, the rules that then go unjudged, and the contract
the generated phases fuzz without them.

A feature is named by what the contract offers: parameters by their `name` (or `deprecated: true`), operations by
their method or path, the async switch by the `response_mode` property of write bodies. Money, status, shape and
contract rules belong to no feature: they cannot be switched off.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from accounting_conformance.conformance.contract import resolve
from accounting_conformance.conformance.rules import BY_ID

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Feature:
    """One optional capability of a target: its rules and the parts of the contract it is made of."""

    name: str
    summary: str
    rules: tuple[str, ...]
    parameters: tuple[str, ...] = ()  # parameter names (query or header)
    deprecated_parameters: bool = False  # every parameter marked deprecated
    methods: tuple[str, ...] = ()  # operations with these methods
    path_prefixes: tuple[str, ...] = ()  # operations under these paths
    body_properties: tuple[str, ...] = ()  # properties of request bodies


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature(
            "async_jobs",
            "async writes (response_mode) and the jobs that carry them",
            ("ASYNC-001",),
            path_prefixes=("/jobs",),
            body_properties=("response_mode",),
        ),
        Feature(
            "idempotency_keys", "the Idempotency-Key header on writes", ("IDEM-001",), parameters=("Idempotency-Key",)
        ),
        Feature("filters", "the filter parameter of lists", ("FILTER-001", "FILTER-002"), parameters=("filter",)),
        Feature("sort", "the sort parameter of lists", ("SORT-001",), parameters=("sort",)),
        Feature("expand", "expand=platform_data", ("EXPAND-001",), parameters=("expand",)),
        Feature("id_type", "id_type=platform on fetches", ("IDTYPE-001",), parameters=("id_type",)),
        Feature(
            "deprecated_params",
            "the deprecated millisecond parameters (updated_at_min, ...)",
            ("DEPRECATED-001",),
            deprecated_parameters=True,
        ),
        Feature("deletes", "deletes of credit memos", ("WRITE-003",), methods=("delete",)),
    )
}

#: Rule families no feature may hold: a target cannot opt out of adding up, of its shapes or of its contract.
UNSWITCHABLE = ("contract", "money", "status", "shape")


def unclaimed_rules(unclaimed: Iterable[str]) -> frozenset[str]:
    """The rule IDs of the features a target does not claim."""
    return frozenset(rule for name in unclaimed for rule in FEATURES[name].rules)


def not_claimed(test_rules: Iterable[str], unclaimed: Iterable[str]) -> bool:
    """Whether a test exists only for features the target does not claim (every rule it covers is theirs)."""
    covered = set(test_rules)
    return bool(covered) and covered <= unclaimed_rules(unclaimed)


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every operation of a contract: (path, method, operation), in document order."""
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if isinstance(operation, dict):
                yield path, method, operation


def feature_operations(spec: dict[str, Any], unclaimed: Iterable[str]) -> frozenset[str]:
    """The operationIds that belong to features the target does not claim."""
    features = [FEATURES[name] for name in unclaimed]
    return frozenset(
        operation.get("operationId", f"{method} {path}")
        for path, method, operation in operations(spec)
        if any(method in f.methods or path.startswith(f.path_prefixes or ("\0",)) for f in features)
    )


def _dropped_parameter(spec: dict[str, Any], parameter: Any, features: list[Feature]) -> bool:
    try:
        resolved = resolve(spec, parameter)
    except (KeyError, ValueError, IndexError):
        return False  # a reference the contract cannot resolve is make validate's to report
    if not isinstance(resolved, dict):
        return False
    return any(
        resolved.get("name") in f.parameters or (f.deprecated_parameters and resolved.get("deprecated") is True)
        for f in features
    )


def _drop_properties(node: Any, names: frozenset[str]) -> None:
    """Remove the named properties (and their `required` entries) from every schema below node."""
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name in names & set(properties):
                del properties[name]
            if isinstance(node.get("required"), list):
                node["required"] = [r for r in node["required"] if r not in names]
        for value in node.values():
            _drop_properties(value, names)
    elif isinstance(node, list):
        for value in node:
            _drop_properties(value, names)


def without_unclaimed(spec: dict[str, Any], unclaimed: Iterable[str]) -> dict[str, Any]:
    """A copy of the contract without what the target does not claim: its operations, parameters, body properties,
    and the links that lead to a removed operation. The original is left as it was."""
    features = [FEATURES[name] for name in sorted(set(unclaimed))]
    if not features:
        return spec
    pruned = copy.deepcopy(spec)
    gone = feature_operations(pruned, unclaimed)
    for path, item in list(pruned.get("paths", {}).items()):
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            if operation.get("operationId", f"{method} {path}") in gone:
                del item[method]
                continue
            operation["parameters"] = [
                p for p in operation.get("parameters", []) if not _dropped_parameter(pruned, p, features)
            ]
        if isinstance(item.get("parameters"), list):
            item["parameters"] = [p for p in item["parameters"] if not _dropped_parameter(pruned, p, features)]
        if not any(m in item for m in HTTP_METHODS):
            del pruned["paths"][path]
    _drop_properties(
        pruned.get("components", {}).get("schemas", {}), frozenset(p for f in features for p in f.body_properties)
    )
    _drop_links(pruned, gone)
    return pruned


def _drop_links(spec: dict[str, Any], gone: frozenset[str]) -> None:
    """Remove every link to a removed operation: those written in place and those referring to a component link."""
    components = spec.get("components", {}).get("links", {})
    dead = {f"#/components/links/{name}" for name, link in components.items() if _leads_to(link, gone)}

    def prune(node: Any) -> None:
        if isinstance(node, dict):
            links = node.get("links")
            if isinstance(links, dict):
                for name, link in list(links.items()):
                    if _leads_to(link, gone) or (isinstance(link, dict) and link.get("$ref") in dead):
                        del links[name]
            for value in node.values():
                prune(value)
        elif isinstance(node, list):
            for value in node:
                prune(value)

    prune(spec)


def _leads_to(link: Any, gone: frozenset[str]) -> bool:
    return isinstance(link, dict) and link.get("operationId") in gone


def _check_families() -> None:
    for feature in FEATURES.values():
        for rule in feature.rules:
            if BY_ID[rule].family in UNSWITCHABLE:
                raise ValueError(
                    f"feature {feature.name}: rule {rule} is of family {BY_ID[rule].family}, never optional"
                )


_check_families()
