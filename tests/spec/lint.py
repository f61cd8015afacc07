"""The lint rules of `make validate`: pure functions from a spec dict to a list of problems (strings).

Each rule has a test on the real spec (no problems) and a test on a deliberately broken deep copy
(tests/spec/test_lint.py). The spec is never modified here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.contract import ExactValidator
from accounting_conformance.conformance.invariants import check_object, iter_objects
from tests.spec.coverage import compare_fields, compare_operations

OPERATION_COUNT = 21
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ALWAYS = ("400", "401", "429", "500")
_URI = "urn:openapi-spec"


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _deref(spec: dict[str, Any], node: Any, where: str) -> tuple[Any, str]:
    """(the node a local $ref leads to, its JSON pointer); where is the node's own pointer."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        where = node["$ref"][1:]
        node = spec
        for part in where.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, where


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], str]]:
    """(method, path, operation, JSON pointer) for every operation of the spec."""
    for path, item in (spec.get("paths") or {}).items():
        for method in METHODS:
            if isinstance(item, dict) and isinstance(item.get(method), dict):
                yield method, path, item[method], f"/paths/{_escape(path)}/{method}"


def parameters(spec: dict[str, Any], path: str, method: str) -> list[tuple[dict[str, Any], str]]:
    """The resolved parameters of an operation (path-level ones included), with their pointers."""
    item, where = spec["paths"][path], f"/paths/{_escape(path)}"
    found = []
    for scope, at in ((item, where), (item[method], f"{where}/{method}")):
        for index, raw in enumerate(scope.get("parameters") or []):
            node, pointer = _deref(spec, raw, f"{at}/parameters/{index}")
            if isinstance(node, dict):
                found.append((node, pointer))
    return found


def spec_is_valid_openapi_31(spec: dict[str, Any]) -> list[str]:
    """(a) The spec validates against the OpenAPI 3.1 meta-schema (openapi-spec-validator)."""
    try:
        errors = list(OpenAPIV31SpecValidator(spec).iter_errors())
    except Exception as exc:  # the validator raises on what it cannot walk, e.g. a dangling $ref
        return [f"the validator could not walk the spec: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"]
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in errors]


def operation_ids_are_unique(spec: dict[str, Any]) -> list[str]:
    """(b) operationIds are present and unique, and there are exactly 21 operations."""
    problems, seen = [], {}
    ops = list(operations(spec))
    for method, path, op, _ in ops:
        op_id = op.get("operationId")
        if not op_id:
            problems.append(f"{method.upper()} {path}: no operationId")
        elif op_id in seen:
            problems.append(f"{method.upper()} {path}: operationId {op_id!r} already used by {seen[op_id]}")
        else:
            seen[op_id] = f"{method.upper()} {path}"
    if len(ops) != OPERATION_COUNT:
        problems.append(f"{len(ops)} operations, expected {OPERATION_COUNT}")
    return problems


def error_responses_are_documented(spec: dict[str, Any]) -> list[str]:
    """(c) 400/401/429/500 everywhere; 404/410 with an {id} path parameter; 409 with Idempotency-Key."""
    problems = []
    for method, path, op, _ in operations(spec):
        params = [p for p, _ in parameters(spec, path, method)]
        wanted = list(ALWAYS)
        if any(p.get("in") == "path" and p.get("name") == "id" for p in params):
            wanted += ["404", "410"]
        takes_key = any(p.get("in") == "header" and str(p.get("name")).lower() == "idempotency-key" for p in params)
        if method in ("post", "patch") and takes_key:
            wanted.append("409")
        documented = {str(code) for code in (op.get("responses") or {})}
        problems += [
            f"{op.get('operationId', method + ' ' + path)}: no {code} response"
            for code in wanted
            if code not in documented
        ]
    return problems


def _media_examples(spec: dict[str, Any], media: dict[str, Any], where: str) -> Iterator[tuple[str, Any]]:
    if "example" in media:
        yield f"{where}/example", media["example"]
    for name, raw in (media.get("examples") or {}).items():
        example, pointer = _deref(spec, raw, f"{where}/examples/{_escape(name)}")
        if isinstance(example, dict) and "value" in example:
            yield pointer + "/value", example["value"]


def examples(spec: dict[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    """(status or 'request' or 'parameter', schema pointer, example pointer, value) for every example."""
    for method, path, op, where in operations(spec):
        for param, pointer in parameters(spec, path, method):
            schema = f"{pointer}/schema"
            if "example" in param:
                yield "parameter", schema, f"{pointer}/example", param["example"]
            if isinstance(param.get("schema"), dict) and "example" in param["schema"]:
                yield "parameter", schema, f"{schema}/example", param["schema"]["example"]
            yield from (("parameter", schema, p, v) for p, v in _media_examples(spec, param, pointer))
        body, body_at = _deref(spec, op.get("requestBody"), f"{where}/requestBody")
        for kind, container, at in [("request", body, body_at)] + [
            (str(code), *_deref(spec, raw, f"{where}/responses/{code}"))
            for code, raw in (op.get("responses") or {}).items()
        ]:
            for media_type, media in ((container or {}).get("content") or {}).items():
                media_at = f"{at}/content/{_escape(media_type)}"
                yield from ((kind, f"{media_at}/schema", p, v) for p, v in _media_examples(spec, media, media_at))


def examples_match_their_schemas(spec: dict[str, Any]) -> list[str]:
    """(d) Every example validates (Draft 2020-12, formats checked) against its schema, refs resolved in the spec."""
    registry = Registry().with_resource(_URI, DRAFT202012.create_resource(spec))
    problems, checked = [], set()
    for _, schema_at, example_at, value in examples(spec):
        if (schema_at, example_at) in checked:
            continue  # a shared component response is reached from many operations
        checked.add((schema_at, example_at))
        validator = ExactValidator({"$ref": f"{_URI}#{schema_at}"}, registry=registry, format_checker=FormatChecker())
        try:
            errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        except Exception as exc:  # an unresolvable $ref in the schema
            problems.append(f"{example_at}: cannot validate: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            continue
        problems += [f"{example_at}: {_describe(error)}" for error in errors[:3]]
    return list(dict.fromkeys(problems))  # a component example used by two operations is reported once


def _describe(error: ValidationError) -> str:
    """Where and why an example fails; for oneOf/anyOf, the closest branch's own error."""
    at = "/".join(map(str, error.absolute_path)) or "(root)"
    if error.validator in ("oneOf", "anyOf") and error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        # The branch that got furthest into the instance is the one the example meant.
        furthest = max(branches.values(), key=lambda errs: min(len(e.relative_path) for e in errs))
        closest = max(furthest, key=lambda e: len(e.absolute_path))
        return f"{at}: matches no branch of {error.validator}; closest: {_describe(closest)}"
    return f"{at}: {error.message[:300]}"


def response_examples_keep_the_amount_rules(spec: dict[str, Any]) -> list[str]:
    """(e) Every 200 example satisfies the invariants of conformance/invariants.py."""
    problems, seen = [], set()
    for kind, _, example_at, value in examples(spec):
        if kind != "200" or example_at in seen:
            continue
        seen.add(example_at)
        for obj_kind, obj in iter_objects(value):
            problems += [
                f"{example_at}: {kinds.get(obj_kind).schema}.{v.path}: {v.rule}: expected {v.expected}, "
                f"received {v.received}"
                for v in check_object(obj_kind, obj)
            ]
    return problems


def _listed_schema(spec: dict[str, Any], op: dict[str, Any]) -> str | None:
    schema, _ = _deref(
        spec,
        ((op.get("responses") or {}).get("200") or {}).get("content", {}).get("application/json", {}).get("schema"),
        "",
    )
    for prop in (schema or {}).get("properties", {}).values():
        ref = (prop.get("items") or {}).get("$ref", "") if isinstance(prop, dict) else ""
        if prop.get("type") == "array" and ref.startswith("#/components/schemas/"):
            return ref.rsplit("/", 1)[1]
    return None


def filterable_fields_agree(spec: dict[str, Any]) -> list[str]:
    """(f) x-filterable fields exist and equal the filter and sort parameters' field lists and descriptions."""
    problems, filtered = [], set()
    schemas = spec.get("components", {}).get("schemas", {})
    for method, path, op, _ in operations(spec):
        params = {p.get("name"): p for p, _ in parameters(spec, path, method) if p.get("in") == "query"}
        if "filter" not in params and "sort" not in params:
            continue
        name = _listed_schema(spec, op)
        if name is None:
            problems.append(f"{op.get('operationId')}: filter/sort on a response that lists no component")
            continue
        filtered.add(name)
        props = schemas[name].get("properties", {})
        marked = {field for field, prop in props.items() if isinstance(prop, dict) and prop.get("x-filterable") is True}
        for param, key in (("filter", "x-filterable-fields"), ("sort", "x-sortable-fields")):
            listed = set((params.get(param) or {}).get(key) or [])
            where = f"{op.get('operationId')} {param} {key}"
            problems += [f"{where}: {field} is not a field of {name}" for field in sorted(listed - set(props))]
            problems += [f"{where}: lists {f} but {name}.{f} is not x-filterable" for f in sorted(listed - marked)]
            problems += [f"{where}: lacks {f}, which {name} marks x-filterable" for f in sorted(marked - listed)]
            text = str((params.get(param) or {}).get("description", ""))
            problems += [
                f"{where}: {f} does not appear in the {param} description"
                for f in sorted(listed | marked)
                if not re.search(rf"\b{re.escape(f)}\b", text)
            ]
    for name, schema in schemas.items():
        for field, prop in (schema.get("properties") or {}).items():
            if isinstance(prop, dict) and prop.get("x-filterable") is True and name not in filtered:
                problems.append(f"{name}.{field} is x-filterable but no list operation filters {name}")
    return problems


def source_pages_are_covered(spec: dict[str, Any], facts: dict[str, Any]) -> list[str]:
    """(g) Every field and operation fact of the source pages is in the spec, with the same type, nullability and filterability."""
    lines = [line for result in compare_fields(spec, facts) for line in result.lines()]
    return lines + compare_operations(spec, facts)
