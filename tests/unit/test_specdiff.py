"""`make spec-diff`: the walk through `$ref`s, the CLI, its formats and exit codes, and accepting a breaking change.

What each check finds is the data-driven catalogue's job (tests/spec/diff_cases, tests/spec/test_diff_cases.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from accounting_conformance.conformance.resources import contract_path
from accounting_conformance.conformance.specdiff import breaking_changes, diff
from accounting_conformance.conformance.specdiff.__main__ import main
from accounting_conformance.conformance.specdiff.gate import version_bumped
from accounting_conformance.conformance.specdiff.source import line_of

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
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "things": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Thing"},
                                            },
                                            "next_cursor": {"type": ["string", "null"]},
                                        },
                                    }
                                }
                            },
                        }
                    },
                },
                "post": {
                    "operationId": "createThing",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingCreate"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                        }
                    },
                },
            },
        },
        "components": {
            "parameters": {"Limit": {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer"}}},
            "schemas": {
                "Thing": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "total": {"type": "number"},
                        "memo": {"type": ["string", "null"]},
                        "status": {"type": "string", "enum": ["open", "paid", "void"]},
                        "currency": {"oneOf": [{"$ref": "#/components/schemas/Code"}, {"type": "null"}]},
                    },
                },
                "ThingCreate": {
                    "type": "object",
                    "required": ["id"],
                    "additionalProperties": False,
                    "properties": {
                        "id": {"type": "string"},
                        "memo": {"type": ["string", "null"]},
                        "amount": {"anyOf": [{"type": "number"}, {"type": "string"}]},
                        "currency": {"$ref": "#/components/schemas/Code"},
                    },
                },
                "Code": {"type": "string", "enum": ["EUR", "USD"]},
            },
        },
    }


def changed(change: Any) -> list[tuple[str, str]]:
    """(check ID, location) of every finding after applying a change to a copy of the base."""
    old, new = base(), base()
    change(new)
    return [(f.id, f.location) for f in diff(old, new)]


def schemas(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["schemas"]


def write(path: Path, spec: dict[str, Any]) -> Path:
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def test_an_unchanged_spec_has_no_change() -> None:
    assert diff(base(), base()) == []


def test_a_change_to_a_shared_component_is_reported_once_at_the_component() -> None:
    assert changed(lambda s: schemas(s)["Thing"]["properties"].pop("memo")) == [
        ("response-optional-property-removed", "#/components/schemas/Thing/properties/memo")
    ]


def test_a_component_reached_by_requests_and_responses_is_judged_both_ways() -> None:
    assert sorted(changed(lambda s: schemas(s)["Code"]["enum"].remove("EUR"))) == [
        ("request-enum-value-removed", "#/components/schemas/Code"),
        ("response-enum-value-removed", "#/components/schemas/Thing/properties/currency"),
    ]


def test_a_renamed_component_with_the_same_shape_is_no_change() -> None:
    def rename(spec: dict[str, Any]) -> None:
        schemas(spec)["Item"] = schemas(spec).pop("Thing")
        post = spec["paths"]["/things"]["post"]["responses"]["200"]["content"]["application/json"]
        post["schema"] = {"$ref": "#/components/schemas/Item"}
        listed = spec["paths"]["/things"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        listed["properties"]["things"]["items"] = {"$ref": "#/components/schemas/Item"}

    assert changed(rename) == []


def test_a_nullable_one_of_that_loses_an_enum_value_is_judged_through_the_union() -> None:
    assert ("response-enum-value-removed", "#/components/schemas/Thing/properties/currency") in changed(
        lambda s: schemas(s)["Code"]["enum"].remove("USD")
    )


def test_a_ref_cycle_is_an_error_not_a_hang() -> None:
    def loop(spec: dict[str, Any]) -> None:
        schemas(spec)["A"] = {"$ref": "#/components/schemas/B"}
        schemas(spec)["B"] = {"$ref": "#/components/schemas/A"}
        spec["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"]["schema"] = {
            "$ref": "#/components/schemas/A"
        }

    old, new = base(), base()
    loop(new)
    with pytest.raises(Exception, match="cycle"):
        diff(old, new)


def test_breaking_changes_keeps_only_the_breaking_findings() -> None:
    old, new = base(), base()
    schemas(new)["Code"]["enum"].append("GBP")  # request: info; response: breaking
    assert [f.id for f in breaking_changes(old, new)] == ["response-enum-value-added"]


@pytest.mark.parametrize(
    ("old", "new", "bumped"),
    [
        ("1.4.2", "2.0.0", True),
        ("1.4.2", "1.5.0", False),
        ("0.3.0", "0.4.0", True),
        ("v1", "v2", True),
        ("2024-08-31", "2026-12-01", True),
        ("2024-08-31", "2023-01-01", False),
        ("2024-08-31", "2024-08-31", False),
        ("alpha", "beta", True),
    ],
)
def test_a_version_bump_is_judged_by_the_kind_of_version(old: str, new: str, bumped: bool) -> None:
    assert version_bumped(old, new) is bumped


def test_a_breaking_change_fails_the_gate_with_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = base(), base()
    new["paths"]["/things"].pop("post")
    code = main(["--old", str(write(tmp_path / "old.json", old)), str(write(tmp_path / "new.json", new))])
    out = capsys.readouterr().out
    assert code == 1
    assert "BREAKING operation-removed: #/paths/~1things/post" in out
    assert "to accept a deliberate breaking change: bump info.version" in out


def test_a_bumped_version_and_a_changelog_line_accept_a_breaking_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = base(), base()
    new["paths"]["/things"].pop("post")
    new["info"]["version"] = "2"
    (tmp_path / "CHANGELOG.md").write_text("## 2\n- createThing removed\n", encoding="utf-8")
    code = main(["--old", str(write(tmp_path / "old.json", old)), str(write(tmp_path / "new.json", new))])
    assert code == 0
    assert "accepted: info.version 1 -> 2 and CHANGELOG.md names it" in capsys.readouterr().out


def test_a_bumped_version_without_a_changelog_line_is_not_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = base(), base()
    new["paths"]["/things"].pop("post")
    new["info"]["version"] = "2"
    code = main(["--old", str(write(tmp_path / "old.json", old)), str(write(tmp_path / "new.json", new))])
    assert code == 1
    assert "add a line naming the new version to CHANGELOG.md" in capsys.readouterr().out


@pytest.mark.parametrize(("fail_on", "code"), [("breaking", 0), ("warning", 1), ("never", 0)])
def test_fail_on_decides_which_severities_fail(tmp_path: Path, fail_on: str, code: int) -> None:
    old, new = base(), base()
    new["paths"]["/things"]["get"]["operationId"] = "listAllThings"  # operation-id-changed: a warning
    args = [
        "--old",
        str(write(tmp_path / "old.json", old)),
        str(write(tmp_path / "new.json", new)),
        "--fail-on",
        fail_on,
    ]
    assert main(args) == code


def test_json_output_carries_ids_severities_locations_and_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = base(), base()
    schemas(new)["ThingCreate"]["required"].append("memo")
    assert (
        main(
            [
                "--old",
                str(write(tmp_path / "old.json", old)),
                str(write(tmp_path / "new.json", new)),
                "--format",
                "json",
            ]
        )
        == 1
    )
    report = json.loads(capsys.readouterr().out)
    assert report["counts"] == {"breaking": 1, "warning": 0, "info": 0}
    assert report["findings"][0] | {"line": None} == {
        "id": "request-property-became-required",
        "severity": "breaking",
        "location": "#/components/schemas/ThingCreate/properties/memo",
        "side": "new",
        "operation": "POST /things",
        "message": "property memo is now required",
        "line": None,
    }
    assert report["accepted"] is False and report["exit_code"] == 1


def test_markdown_output_is_a_changelog_with_a_table_per_severity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = base(), base()
    schemas(new)["Code"]["enum"].append("GBP")
    main(
        [
            "--old",
            str(write(tmp_path / "old.json", old)),
            str(write(tmp_path / "new.json", new)),
            "--format",
            "markdown",
        ]
    )
    out = capsys.readouterr().out
    assert out.startswith("## API changes: ")
    assert "**1 breaking**, 0 warning, 1 info" in out
    assert "### Breaking (1)" in out and "### Info (1)" in out
    assert (
        "| `response-enum-value-added` | GET /things · `#/components/schemas/Thing/properties/currency` | "
        'enum value "GBP" added |'
    ) in out


def test_github_output_annotates_the_line_of_the_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = base()
    new_text = "\n".join(json.dumps(base(), indent=1).splitlines())
    spec_path = tmp_path / "new.json"
    spec_path.write_text(new_text.replace('"EUR",', '"EUR", "GBP",'), encoding="utf-8")
    main(["--old", str(write(tmp_path / "old.json", old)), str(spec_path), "--format", "github"])
    lines = capsys.readouterr().out.splitlines()
    error = next(line for line in lines if line.startswith("::error "))
    expected_line = next(i for i, line in enumerate(new_text.splitlines(), 1) if '"currency": {' in line)
    assert error.startswith(f"::error file={spec_path},line={expected_line},title=spec-diff response-enum-value-added")


def test_a_pointer_is_mapped_to_its_line_or_its_nearest_parent() -> None:
    text = "openapi: 3.1.0\npaths:\n  /a~b/c:\n    get:\n      responses: {}\ncomponents:\n  schemas:\n    X: {type: string}\n"
    assert line_of(text, "#/paths/~1a~0b~1c/get") == 4
    assert line_of(text, "#/components/schemas/X") == 8
    assert line_of(text, "#/components/schemas/Gone/properties/y") == 7


def test_the_cli_finds_no_change_between_head_and_an_unchanged_tree(tmp_path: Path) -> None:
    committed = subprocess.run(
        ["git", "-C", str(REPO), "show", "HEAD:openapi/openapi.yaml"], capture_output=True, text=True, check=True
    ).stdout
    copy_path = tmp_path / "openapi.yaml"
    copy_path.write_text(committed, encoding="utf-8")
    assert main(["--old", str(copy_path), str(copy_path)]) == 0


def test_the_cli_runs_as_a_module_against_head() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "accounting_conformance.conformance.specdiff", "--base", "HEAD", "openapi/openapi.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr
    assert run.stdout.startswith("spec-diff: openapi/openapi.yaml since HEAD")


def test_an_unknown_ref_exits_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--base", "no-such-ref-anywhere", str(contract_path())]) == 2
    assert "unknown git ref 'no-such-ref-anywhere'" in capsys.readouterr().err


def test_an_unreadable_spec_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--base", "HEAD", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_a_document_without_paths_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.yaml").write_text("openapi: 3.1.0\n", encoding="utf-8")
    assert main(["--old", str(tmp_path / "x.yaml"), str(tmp_path / "x.yaml")]) == 2
    assert "no `paths` object" in capsys.readouterr().err


def test_the_check_list_names_every_check_once(capsys: pytest.CaptureFixture[str]) -> None:
    from accounting_conformance.conformance.specdiff.checks import CHECKS

    assert main(["--checks"]) == 0
    ids = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert ids == list(CHECKS) and len(set(ids)) == len(ids)


def test_nothing_to_compare_against_exits_2_with_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "--base REF (a git ref) or --old FILE" in capsys.readouterr().err
