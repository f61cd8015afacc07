"""schemathesis.toml: the operations whose documented business rules answer schema-valid requests with 400."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from accounting_conformance.conformance.contract import load_spec
from accounting_conformance.conformance.resources import schemathesis_config_path

METHODS = ("get", "post", "patch", "put", "delete")


def _operations() -> dict[str, str]:
    spec: dict[str, Any] = load_spec()
    return {
        op["operationId"]: op.get("description", "")
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in METHODS
    }


def _accepting_400() -> list[re.Pattern[str]]:
    config = tomllib.loads((schemathesis_config_path()).read_text())
    return [
        re.compile(entry["include-operation-id-regex"])
        for entry in config.get("operations", [])
        if "400" in entry["checks"]["positive_data_acceptance"]["expected-statuses"]
    ]


def test_every_operation_with_a_documented_rule_refusal_accepts_400_from_schema_valid_data() -> None:
    patterns = _accepting_400()
    documented = {op for op, text in _operations().items() if re.search(r"answered\s+400|the answer is 400", text)}
    assert documented, "the contract documents business-rule 400s"
    uncovered = sorted(op for op in documented if not any(p.search(op) for p in patterns))
    assert uncovered == []


def test_no_other_operation_is_excused() -> None:
    patterns = _accepting_400()
    excused = {op for op, text in _operations().items() if any(p.search(op) for p in patterns)}
    documented = {op for op, text in _operations().items() if re.search(r"answered\s+400|the answer is 400", text)}
    # list operations answer 400 to a cursor they never issued (the Cursor parameter, not their description)
    assert sorted(excused - documented) == sorted(op for op in excused if op.startswith("list"))
