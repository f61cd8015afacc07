"""`make spec-diff`: each kind of breaking change is found in a hand-made spec pair, and nothing else is."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.specdiff import breaking_changes, main

REPO = Path(__file__).resolve().parents[2]


def base() -> dict[str, Any]:
    """A small spec: one list and one create operation, a shared component and a parameter."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {
                "get": {
                    "operationId": "listThings",
                    "parameters": [{"$ref": "#/components/parameters/Limit"}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {"things": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}},
                                       "next_cursor": {"type": ["string", "null"]}}}}}}},
                },
                "post": {
                    "operationId": "createThing",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/ThingCreate"}}}},
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Thing"}}}}},
                },
            },
        },
        "components": {
            "parameters": {"Limit": {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer"}}},
            "schemas": {
                "Thing": {"type": "object", "properties": {
                    "id": {"type": "string"},
                    "total": {"type": "number"},
                    "memo": {"type": ["string", "null"]},
                    "status": {"type": "string", "enum": ["open", "paid", "void"]},
                    "currency": {"oneOf": [{"$ref": "#/components/schemas/Code"}, {"type": "null"}]}}},
                "ThingCreate": {"type": "object", "required": ["id"], "additionalProperties": False, "properties": {
                    "id": {"type": "string"},
                    "memo": {"type": ["string", "null"]},
                    "amount": {"anyOf": [{"type": "number"}, {"type": "string"}]},
                    "currency": {"$ref": "#/components/schemas/Code"}}},
                "Code": {"type": "string", "enum": ["EUR", "USD"]},
            },
        },
    }


def diff(change: Any) -> list[str]:
    old, new = base(), base()
    change(new)
    return breaking_changes(old, new)


def schemas(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["schemas"]


def test_an_unchanged_spec_has_no_breaking_change() -> None:
    assert breaking_changes(base(), base()) == []


def test_a_removed_operation_is_breaking() -> None:
    assert diff(lambda s: s["paths"]["/things"].pop("post")) == [
        "BREAKING removed-operation: POST /things: operation createThing is gone"]


def test_a_removed_response_field_of_a_component_is_breaking() -> None:
    assert diff(lambda s: schemas(s)["Thing"]["properties"].pop("memo")) == [
        "BREAKING removed-field: components/schemas/Thing.memo: response field removed"]


def test_a_removed_request_field_is_breaking() -> None:
    assert diff(lambda s: schemas(s)["ThingCreate"]["properties"].pop("memo")) == [
        "BREAKING removed-field: components/schemas/ThingCreate.memo: request field removed"]


def test_a_removed_field_of_an_inline_schema_is_breaking() -> None:
    def change(spec: dict[str, Any]) -> None:
        spec["paths"]["/things"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["properties"].pop(
            "next_cursor")
    assert diff(change) == ["BREAKING removed-field: GET /things 200 response.next_cursor: response field removed"]


def test_a_removed_enum_value_is_breaking() -> None:
    assert diff(lambda s: schemas(s)["Thing"]["properties"]["status"]["enum"].remove("void")) == [
        "BREAKING removed-enum-value: components/schemas/Thing.status: 'void' removed (response)"]


def test_a_removed_enum_value_behind_a_nullable_one_of_is_breaking_for_requests_and_responses() -> None:
    assert diff(lambda s: schemas(s)["Code"]["enum"].remove("EUR")) == [
        "BREAKING removed-enum-value: components/schemas/Code: 'EUR' removed (request)",
        "BREAKING removed-enum-value: components/schemas/Thing.currency: 'EUR' removed (response)",
    ]


def test_a_request_field_newly_required_is_breaking() -> None:
    assert diff(lambda s: schemas(s)["ThingCreate"]["required"].append("memo")) == [
        "BREAKING newly-required: components/schemas/ThingCreate.memo: request field is now required"]


def test_a_response_field_newly_required_is_not_breaking() -> None:
    assert diff(lambda s: schemas(s)["Thing"].update(required=["id", "memo"])) == []


def test_a_parameter_newly_required_is_breaking() -> None:
    assert diff(lambda s: s["components"]["parameters"]["Limit"].update(required=True)) == [
        "BREAKING newly-required: GET /things parameter limit (query): parameter is now required"]


def test_a_new_required_parameter_is_breaking() -> None:
    new_param = {"name": "access_token", "in": "query", "required": True, "schema": {"type": "string"}}
    assert diff(lambda s: s["paths"]["/things"]["post"].update(parameters=[new_param])) == [
        "BREAKING newly-required: POST /things parameter access_token (query): parameter is now required"]


def test_a_narrowed_type_is_breaking() -> None:
    assert diff(lambda s: schemas(s)["Thing"]["properties"]["total"].update(type="integer")) == [
        "BREAKING type-narrowed: components/schemas/Thing.total: number -> integer (response)"]


def test_an_amount_that_no_longer_accepts_strings_is_narrowed() -> None:
    assert diff(lambda s: schemas(s)["ThingCreate"]["properties"].update(amount={"type": "number"})) == [
        "BREAKING type-narrowed: components/schemas/ThingCreate.amount: number/string -> number (request)"]


def test_a_parameter_type_narrowed_is_breaking() -> None:
    assert diff(lambda s: s["components"]["parameters"]["Limit"]["schema"].update(type="boolean")) == [
        "BREAKING type-narrowed: components/parameters/Limit: integer -> boolean (request)"]


def test_a_request_field_that_no_longer_accepts_null_is_narrowed() -> None:
    assert diff(lambda s: schemas(s)["ThingCreate"]["properties"]["memo"].update(type="string")) == [
        "BREAKING type-narrowed: components/schemas/ThingCreate.memo: null is no longer accepted (request)"]


def test_a_widened_type_is_not_breaking() -> None:
    assert diff(lambda s: schemas(s)["ThingCreate"]["properties"]["id"].update(type=["string", "integer"])) == []


def test_a_response_field_made_nullable_is_breaking() -> None:
    assert diff(lambda s: schemas(s)["Thing"]["properties"]["total"].update(type=["number", "null"])) == [
        "BREAKING made-nullable: components/schemas/Thing.total: the response value may now be null"]


def test_a_renamed_component_with_the_same_shape_is_not_breaking() -> None:
    def rename(spec: dict[str, Any]) -> None:
        schemas(spec)["Item"] = schemas(spec).pop("Thing")
        post = spec["paths"]["/things"]["post"]["responses"]["200"]["content"]["application/json"]
        post["schema"] = {"$ref": "#/components/schemas/Item"}
        listed = spec["paths"]["/things"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        listed["properties"]["things"]["items"] = {"$ref": "#/components/schemas/Item"}
    assert diff(rename) == []


def test_added_operations_fields_and_enum_values_are_not_breaking() -> None:
    def grow(spec: dict[str, Any]) -> None:
        spec["paths"]["/others"] = copy.deepcopy(spec["paths"]["/things"])
        schemas(spec)["Thing"]["properties"]["extra"] = {"type": "string"}
        schemas(spec)["Code"]["enum"].append("GBP")
    assert diff(grow) == []


def test_the_cli_finds_nothing_between_head_and_an_unchanged_tree(capsys: pytest.CaptureFixture[str]) -> None:
    committed = subprocess.run(["git", "-C", str(REPO), "show", "HEAD:openapi/openapi.yaml"],
                               capture_output=True, text=True, check=True).stdout
    working = (REPO / "openapi" / "openapi.yaml").read_text(encoding="utf-8")
    expected = 0 if committed == working else None
    code = main(["--base", "HEAD", str(REPO / "openapi" / "openapi.yaml")])
    assert code == expected if expected is not None else code in (0, 1)


def test_the_cli_runs_as_a_module_against_head() -> None:
    run = subprocess.run([sys.executable, "-m", "conformance.specdiff", "--base", "HEAD", "openapi/openapi.yaml"],
                         cwd=REPO, capture_output=True, text=True, check=False)
    assert run.returncode in (0, 1), run.stderr
    assert all(line.startswith("BREAKING ") for line in run.stdout.splitlines())


def test_an_unknown_ref_exits_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--base", "no-such-ref-anywhere", str(REPO / "openapi" / "openapi.yaml")]) == 2
    assert "unknown git ref 'no-such-ref-anywhere'" in capsys.readouterr().err


def test_an_unreadable_spec_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--base", "HEAD", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_a_spec_that_is_not_openapi_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "openapi.yaml"
    broken.write_text("- just\n- a list\n", encoding="utf-8")
    assert main(["--base", "HEAD", str(broken)]) == 2
    assert "not an OpenAPI document" in capsys.readouterr().err
