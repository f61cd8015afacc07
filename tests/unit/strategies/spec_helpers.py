"""The contract as the strategy tests read it: request-schema validators and parameter patterns."""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from accounting_conformance.conformance.contract import ExactValidator
from accounting_conformance.conformance.fixtures import Fixtures, load_fixtures

SPEC_PATH = Path(__file__).resolve().parents[3] / "openapi" / "openapi.yaml"
SPEC_URI = "urn:spec"
#: kind -> the suffix of its list's Filter*/Sort* parameters in the contract
PARAMETERS = {
    "invoice_credit_memo": "InvoiceCreditMemos",
    "bill_credit_memo": "BillCreditMemos",
    "customer_refund": "CustomerRefunds",
    "invoice": "Invoices",
}


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    """The parsed contract (cached; do not mutate)."""
    with SPEC_PATH.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


@cache
def validator(schema: str) -> Draft202012Validator:
    """A Draft 2020-12 validator for components/schemas/<schema>, with the whole spec as its registry."""
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, Resource.from_contents(spec(), DRAFT202012))
    return ExactValidator(
        {"$ref": f"{SPEC_URI}#/components/schemas/{schema}"}, registry=registry, format_checker=FormatChecker()
    )


def errors(schema: str, instance: Any) -> list[str]:
    """The contract's complaints about instance as it would go over the wire (JSON round trip)."""
    wire = json.loads(json.dumps(instance))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(schema).iter_errors(wire)]


def parameter(name: str) -> dict[str, Any]:
    """One entry of components/parameters."""
    found: dict[str, Any] = spec()["components"]["parameters"][name]
    return found


def filter_regex(kind: str) -> re.Pattern[str]:
    """The contract's filter `pattern` for a kind's list, compiled with Python `re`."""
    return re.compile(parameter(f"Filter{PARAMETERS[kind]}")["schema"]["pattern"])


def sort_regex(kind: str) -> re.Pattern[str]:
    """The contract's sort `pattern` for a kind's list, compiled with Python `re`."""
    return re.compile(parameter(f"Sort{PARAMETERS[kind]}")["schema"]["pattern"])


@lru_cache(maxsize=1)
def reference_fixtures() -> Fixtures:
    """The reference server's fixtures."""
    return load_fixtures(None)
