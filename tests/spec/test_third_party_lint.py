"""`make validate`'s other two voices, Redocly and Spectral (pinned in package-lock.json), on the contract and on
deliberately broken copies; and the three slips of issue 12 put back, named by `make validate`.

These run node, so they are slow; node and npm missing is a failure, not a skip (`make test` installs the tools).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from accounting_conformance.conformance.contract import load_spec
from accounting_conformance.conformance.resources import contract_path
from accounting_conformance.conformance.settings import REPO
from tests.spec.slips import SLIPS, line_of, put_back

pytestmark = pytest.mark.slow

CONTRACT = contract_path()
REDOCLY = REPO / "node_modules" / ".bin" / "redocly"
SPECTRAL = REPO / "node_modules" / ".bin" / "spectral"
ENV = {**os.environ, "SCARF_ANALYTICS": "false", "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
APPLICATION_EXAMPLE = (
    "paths",
    "/accounting/invoice_credit_applications",
    "post",
    "requestBody",
    "content",
    "application/json",
    "example",
    "invoice_credit_application",
    "linked_invoices",
    "0",
)
Result = tuple[str, tuple[str, ...], str]  # rule, path, message
INVOICE_EXAMPLE = (
    "paths",
    "/accounting/invoices",
    "post",
    "requestBody",
    "content",
    "application/json",
    "example",
    "invoice",
)


@pytest.fixture(scope="module")
def node_tools() -> None:
    """Redocly and Spectral installed by make's rule (`npm ci` from the lock); fail clearly without node."""
    missing = [tool for tool in ("node", "npm", "make") if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not on PATH: the third-party lint needs Node.js (20.19 or later) and npm; "
            "install them, then `make validate` installs Redocly and Spectral with `npm ci`",
            pytrace=False,
        )
    subprocess.run(["make", "-s", "node_modules/.installed"], cwd=REPO, env=ENV, check=True, timeout=600)
    for tool in (REDOCLY, SPECTRAL):
        if not tool.exists():
            pytest.fail(f"{tool.relative_to(REPO)} is missing after `npm ci`: is it in package.json?", pytrace=False)


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """A command in the repository, its output captured."""
    return subprocess.run(
        [str(a) for a in args], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300, check=False
    )


def redocly(spec: Path) -> dict[str, Any]:
    """`redocly lint` (redocly.yaml) of spec, as its JSON report."""
    return json.loads(run(REDOCLY, "lint", "--config", "redocly.yaml", "--format", "json", spec).stdout)


def spectral(spec: Path, ruleset: Path = REPO / ".spectral.yaml") -> list[Result]:
    """(rule, path as strings, message) of every error `spectral lint` reports in spec."""
    out = run(SPECTRAL, "lint", "--ruleset", ruleset, "--format", "json", "--quiet", spec).stdout
    return [(r["code"], tuple(map(str, r["path"])), r["message"]) for r in json.loads(out) if r["severity"] == 0]


def at(spec: dict[str, Any], path: tuple[Any, ...]) -> Any:
    """The node at path in spec."""
    for part in path:
        spec = spec[int(part)] if isinstance(spec, list) else spec[part]
    return spec


def write(tmp_path: Path, spec: dict[str, Any]) -> Path:
    """spec as a YAML file."""
    target = tmp_path / "openapi.yaml"
    target.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


def test_redocly_finds_no_error_and_only_the_deliberate_unused_basic_auth_warning(node_tools: None) -> None:
    report = redocly(CONTRACT)
    assert report["totals"]["errors"] == 0
    assert [(p["ruleId"], p["location"][0]["pointer"]) for p in report["problems"]] == [
        ("no-unused-components", "#/components/securitySchemes/basicAuth")
    ]


def test_spectral_finds_no_error_in_the_contract(node_tools: None) -> None:
    assert spectral(CONTRACT) == []


def test_spectrals_built_in_example_rule_refuses_12_34_which_is_why_it_is_replaced(
    node_tools: None, tmp_path: Path
) -> None:
    ruleset = tmp_path / "builtin.yaml"
    ruleset.write_text("extends: [[spectral:oas, off]]\nrules:\n  oas3-valid-media-example: error\n", encoding="utf-8")
    refused = spectral(CONTRACT, ruleset)
    assert refused and any("multiple of 0.0001" in message for _, _, message in refused)
    assert APPLICATION_EXAMPLE + ("allocated_amount",) in {path for _, path, _ in refused}


@pytest.fixture(scope="module")
def broken_results(node_tools: None, tmp_path_factory: pytest.TempPathFactory) -> list[Result]:
    """Spectral's errors on a copy of the contract broken once for each project rule, in different places."""
    spec = copy.deepcopy(load_spec())
    at(spec, APPLICATION_EXAMPLE)["allocated_amount"] = 12.34567
    invoice = at(spec, INVOICE_EXAMPLE)
    invoice["currency_code"] = 840
    del invoice["customer_id"]
    invoice["line_items"][0]["total_amount"] = 12.34  # as in the contract: accepted
    spec["components"]["schemas"]["AsyncError"]["properties"]["code"]["example"] = 7
    spec["components"]["parameters"]["IdType"]["schema"]["default"] = "internal"
    jobs = spec["paths"]["/jobs/{id}"]["get"]
    del jobs["x-supported-platforms"]
    refunds = spec["paths"]["/accounting/customer_refunds"]["post"]
    refunds["responses"]["201"] = refunds["responses"].pop("200")
    invoices = spec["paths"]["/accounting/invoices/{id}"]["patch"]
    invoices["parameters"] = [p for p in invoices["parameters"] if "IdempotencyKey" not in p.get("$ref", "")]
    spec["components"]["parameters"]["Limit"]["schema"]["maximum"] = 1000
    return spectral(write(tmp_path_factory.mktemp("broken"), spec))


def found(results: list[Result], rule: str) -> list[tuple[tuple[str, ...], str]]:
    """(path, message) of each result of rule."""
    return [(path, message) for code, path, message in results if code == rule]


def test_a_media_example_of_the_wrong_type_is_reported(broken_results: list[Result]) -> None:
    assert (INVOICE_EXAMPLE + ("currency_code",), '"invoice.currency_code" must be string') in found(
        broken_results, "accounting-valid-media-example"
    )


def test_a_media_example_missing_a_required_field_is_reported(broken_results: list[Result]) -> None:
    assert (INVOICE_EXAMPLE, "\"invoice\" must have required property 'customer_id'") in found(
        broken_results, "accounting-valid-media-example"
    )


def test_an_amount_of_12_34_is_accepted_and_one_of_five_decimals_is_not(broken_results: list[Result]) -> None:
    paths = [path for path, _ in found(broken_results, "accounting-valid-media-example")]
    assert INVOICE_EXAMPLE + ("line_items", "0", "total_amount") not in paths
    assert APPLICATION_EXAMPLE + ("allocated_amount",) in paths


def test_a_schema_example_of_the_wrong_type_and_a_default_outside_its_enum_are_reported(
    broken_results: list[Result],
) -> None:
    assert sorted(found(broken_results, "accounting-valid-schema-example")) == [
        (
            ("components", "parameters", "IdType", "schema", "default"),
            "the default must be equal to one of the allowed values",
        ),
        (("components", "schemas", "AsyncError", "properties", "code", "example"), "the example must be string"),
    ]


def test_a_create_answering_201_is_reported(broken_results: list[Result]) -> None:
    paths = [path for path, _ in found(broken_results, "accounting-success-is-200")]
    assert paths == [
        ("paths", "/accounting/customer_refunds", "post", "responses"),
        ("paths", "/accounting/customer_refunds", "post", "responses", "201"),
    ]


def test_a_patch_without_idempotency_key_is_reported(broken_results: list[Result]) -> None:
    assert [path for path, _ in found(broken_results, "accounting-idempotency-key-on-writes")] == [
        ("paths", "/accounting/invoices/{id}", "patch", "parameters")
    ]


def test_an_operation_without_supported_platforms_is_reported(broken_results: list[Result]) -> None:
    assert [path for path, _ in found(broken_results, "accounting-supported-platforms")] == [
        ("paths", "/jobs/{id}", "get")
    ]


def test_a_limit_above_500_is_reported(broken_results: list[Result]) -> None:
    assert [path for path, _ in found(broken_results, "accounting-limit-50-to-500")] == [
        ("components", "parameters", "Limit", "schema", "maximum")
    ]


def test_make_validate_fails_naming_each_of_the_three_slips_put_back(node_tools: None, tmp_path: Path) -> None:
    text = put_back(CONTRACT.read_text(encoding="utf-8"))
    slipped = tmp_path / "openapi.yaml"
    slipped.write_text(text, encoding="utf-8")
    result = run("make", "-s", "validate", f"SPEC={slipped}")
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    ours, rest = out.split("== redocly lint", 1)
    theirs, spectrals = rest.split("== spectral lint", 1)
    for slip in SLIPS:
        line = line_of(text, slip)
        # our lint: the rule (known-schema-keywords), on its line, with its pointer and stray key
        assert f"{slipped}:{line}: [known-schema-keywords] {slip.pointer}: unknown keyword {slip.stray_key!r}" in ours
        # Redocly's struct rule: the stray key as a property not expected there, on the same line
        assert f":{line}:" in theirs and f"at {slip.pointer}/{slip.stray_key}" in theirs
        assert f"Property `{slip.stray_key}` is not expected here." in theirs
    # Spectral's oas3-schema lets unknown keywords through in OpenAPI 3.1 schemas: it sees none of the slips.
    assert "make validate: errors from our-lint redocly\n" in spectrals
