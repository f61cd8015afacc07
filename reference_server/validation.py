"""Request validation read from openapi/openapi.yaml itself (jsonschema over the spec's components).

We use `jsonschema` (Draft 2020-12, the dialect of OpenAPI 3.1) with a `referencing` registry holding the
whole spec, rather than openapi-core: it is the validator the rest of the project already relies on, it
follows the 3.1 dialect exactly, and validating parameters ourselves keeps the error messages precise
(`limit: 501 is greater than the maximum of 500`). There is no second, hand-written copy of any schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from accounting_conformance.reference_server.faults import NO_FAULTS, Fault, Faults

SPEC_PATH = Path(str(files("accounting_conformance.openapi") / "openapi.yaml"))  # package data of the wheel
SPEC_URI = "urn:contract"
_FORMATS = FormatChecker()


def _exact_multiple_of(validator: Any, step: Any, instance: Any, schema: Mapping[str, Any]) -> Any:
    """`multipleOf` decided on exact decimals: jsonschema divides binary floats, and 0.3 / 0.0001 is not whole there."""
    if not validator.is_type(instance, "number"):
        return
    quotient = Decimal(str(instance)) / Decimal(str(step))
    if quotient != quotient.to_integral_value():
        yield ValidationError(f"{instance} is not a multiple of {step}")


#: Draft 2020-12 with amounts parsed as Decimal (parse_float) and multipleOf judged exactly.
_Validator = validators.extend(  # type: ignore[no-untyped-call]  # jsonschema's stubs leave extend untyped
    Draft202012Validator, {"multipleOf": _exact_multiple_of}
)


class InvalidRequest(ValueError):
    """The request breaks the contract; `field` names where."""

    def __init__(self, field: str, problem: str, code: str = "INVALID_FIELD") -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
        self.code = code


def _reject_constant(name: str) -> Any:
    raise InvalidRequest("body", f"{name} is not a JSON number", "INVALID_JSON")


def _check_text(value: Any) -> None:
    """Refuse strings that are not Unicode text (lone surrogates from \\ud800-style escapes)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidRequest("body", "a string holds an unpaired surrogate escape", "INVALID_JSON") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def parse_json(raw: bytes, *, faults: Faults = NO_FAULTS) -> Any:
    """Parse a request body with exact decimals; NaN, Infinity and non-Unicode strings are refused."""
    try:
        parsed = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
        _check_text(parsed)
        return parsed
    except InvalidRequest:
        raise
    except RecursionError:
        raise InvalidRequest("body", "the JSON is nested too deeply", "INVALID_JSON") from None
    except ArithmeticError:  # decimal.InvalidOperation / Overflow: an exponent no amount can have
        raise InvalidRequest("body", "a number is out of range", "INVALID_JSON") from None
    except (ValueError, UnicodeDecodeError) as exc:
        if Fault.MALFORMED_JSON_500 in faults:
            raise
        raise InvalidRequest("body", f"malformed JSON ({exc})", "INVALID_JSON") from None


def _path_of(error: ValidationError, root: str) -> str:
    path = root
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _first_error(validator: Any, instance: Any, root: str) -> InvalidRequest | None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: (len(list(e.absolute_path)), str(e.message)))
    if not errors:
        return None
    best = errors[-1] if errors[-1].context else errors[0]
    # anyOf/oneOf: name the deepest branch error, which says what was wrong.
    while best.context:
        # Prefer the branch of the right type: "0 is less than the minimum" beats "0 is not a string".
        best = sorted(best.context, key=lambda e: (e.validator != "type", len(list(e.absolute_path))))[-1]
    message = best.message if len(best.message) < 300 else best.message[:300] + "..."
    return InvalidRequest(_path_of(best, root), message)


@dataclass
class Parameter:
    """One declared parameter of an operation."""

    name: str
    location: str
    required: bool
    schema: dict[str, Any]


@dataclass
class Operation:
    """What the contract declares for one method and path."""

    operation_id: str
    parameters: list[Parameter] = field(default_factory=list)
    body_schema: dict[str, Any] | None = None
    body_required: bool = False


class Contract:
    """The spec, loaded once, with a validator per schema it needs."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        self.spec: dict[str, Any] = yaml.safe_load(path.read_text())
        resource = Resource.from_contents(self.spec, default_specification=DRAFT202012)
        self.registry: Registry = Registry().with_resource(SPEC_URI, resource)
        self._validators: dict[str, Any] = {}

    def _deref(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def _validator(self, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            # Local refs ("#/components/...") are made absolute so they resolve against the whole spec.
            rooted = json.loads(json.dumps(schema).replace('"#/components', f'"{SPEC_URI}#/components'))
            self._validators[key] = _Validator(rooted, registry=self.registry, format_checker=_FORMATS)
        return self._validators[key]

    @cached_property
    def operations(self) -> dict[tuple[str, str], Operation]:
        """Every operation by (METHOD, path template)."""
        found: dict[tuple[str, str], Operation] = {}
        for template, item in self.spec["paths"].items():
            shared = [self._deref(p) for p in item.get("parameters", [])]
            for method, op in item.items():
                if method not in ("get", "post", "patch", "delete", "put"):
                    continue
                operation = Operation(op["operationId"])
                for p in shared + [self._deref(p) for p in op.get("parameters", [])]:
                    operation.parameters.append(Parameter(p["name"], p["in"], p.get("required", False), p["schema"]))
                if "requestBody" in op:
                    body = self._deref(op["requestBody"])
                    operation.body_schema = body["content"]["application/json"]["schema"]
                    operation.body_required = body.get("required", False)
                found[(method.upper(), template)] = operation
        return found

    def validate_parameters(
        self, operation: Operation, values: Mapping[str, Mapping[str, str]], *, faults: Faults
    ) -> dict[str, Any]:
        """Check and convert the declared query, path and header parameters; return them typed."""
        typed: dict[str, Any] = {}
        for param in operation.parameters:
            if param.name == "access_token":
                continue  # authentication answers 401 for it, before validation
            source = values.get(param.location, {})
            key = param.name.lower() if param.location == "header" else param.name
            if key not in source:
                if param.required:
                    raise InvalidRequest(param.name, "is required", "MISSING_FIELD")
                continue
            raw = source[key]
            value: Any = raw
            if param.schema.get("type") == "integer":
                if Fault.BAD_INTEGER_PARAM_500 in faults:
                    raw = str(int(raw))  # trusts the client to send digits
                if not raw.lstrip("-").isascii() or not raw.lstrip("-").isdigit() or len(raw) > 20:
                    raise InvalidRequest(param.name, f"{raw!r} is not an integer")
                value = int(raw)
            error = _first_error(self._validator(param.schema), value, param.name)
            if error:
                raise error
            typed[param.name] = value
        return typed

    def validate_body(self, operation: Operation, body: Any) -> None:
        """Check a parsed JSON body against the operation's request schema."""
        if operation.body_schema is None:
            return
        error = _first_error(self._validator(operation.body_schema), body, "body")
        if error:
            raise error
