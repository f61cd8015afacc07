"""Lint rule (g): schema objects hold only known keywords and `x-` extensions."""

from __future__ import annotations

import copy

from accounting_conformance.conformance.contract import load_spec, parse_spec
from tests.spec.lint_keywords import schemas_hold_only_known_keywords


def test_the_contract_holds_only_known_schema_keywords() -> None:
    assert schemas_hold_only_known_keywords(load_spec()) == []


def test_an_unquoted_comma_in_a_flow_mapping_is_reported_where_it_is() -> None:
    spec = copy.deepcopy(load_spec())
    slip = parse_spec("{type: string, description: What went wrong, for people.}")
    spec["components"]["schemas"]["AsyncError"]["properties"]["description"] = slip
    assert schemas_hold_only_known_keywords(spec) == [
        "#/components/schemas/AsyncError/properties/description: unknown keyword 'for people.' "
        "(a YAML slip? quote text holding ', ')"
    ]


def test_extensions_and_schemas_inside_parameters_and_responses_are_seen() -> None:
    spec = copy.deepcopy(load_spec())
    spec["components"]["schemas"]["AsyncError"]["x-anything"] = 1
    spec["components"]["parameters"]["Cursor"]["schema"]["maxlength"] = 10
    assert schemas_hold_only_known_keywords(spec) == [
        "#/components/parameters/Cursor/schema: unknown keyword 'maxlength' (a YAML slip? quote text holding ', ')"
    ]
