"""Claimed features: a target may leave out optional features, never the money, shape or contract rules."""

from __future__ import annotations

import json

import pytest

from accounting_conformance.conformance import claims
from accounting_conformance.conformance.contract import load_spec
from accounting_conformance.conformance.rules import RULES
from accounting_conformance.conformance.settings import SettingsError, resolve


def test_no_feature_holds_a_money_status_shape_or_contract_rule() -> None:
    held = {rule for feature in claims.FEATURES.values() for rule in feature.rules}
    for rule in RULES:
        if rule.family in claims.UNSWITCHABLE:
            assert rule.id not in held


def test_a_test_is_not_claimed_only_when_every_rule_it_covers_is_unclaimed() -> None:
    assert claims.not_claimed(["ASYNC-001"], {"async_jobs"})
    assert not claims.not_claimed(["ASYNC-001", "MONEY-003"], {"async_jobs"})
    assert not claims.not_claimed([], {"async_jobs"})
    assert not claims.not_claimed(["ASYNC-001"], set())


def test_the_pruned_contract_has_no_operation_parameter_or_property_of_an_unclaimed_feature() -> None:
    spec = load_spec()
    before = json.dumps(spec)
    pruned = claims.without_unclaimed(spec, claims.FEATURES)
    assert json.dumps(spec) == before  # the shared contract is left as it was
    text = json.dumps(pruned["paths"]) + json.dumps(pruned["components"]["schemas"])
    for ref in ("parameters/IdempotencyKey", "parameters/Expand", "parameters/IdType", "parameters/UpdatedAtMin"):
        assert ref not in text
    assert "schemas/ResponseMode" not in text and "parameters/Filter" not in text and "parameters/Sort" not in text
    operations = {
        op.get("operationId") for item in pruned["paths"].values() for op in item.values() if isinstance(op, dict)
    }
    assert {"deleteInvoiceCreditMemo", "deleteBillCreditMemo", "getJob"}.isdisjoint(operations)
    assert "createInvoiceCreditApplication" in operations
    links = json.dumps(pruned.get("components", {}).get("links", {})) + text
    assert '"operationId": "deleteInvoiceCreditMemo"' not in links


def test_without_unclaimed_features_the_contract_is_the_same_object() -> None:
    spec = load_spec()
    assert claims.without_unclaimed(spec, ()) is spec


def test_an_unknown_feature_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(SettingsError, match="UNCLAIMED must list features among async_jobs"):
        resolve({"unclaimed": "async_jobs,teleport"}, env={})
    assert resolve({"unclaimed": "async_jobs, deletes"}, env={}).unclaimed == {"async_jobs", "deletes"}


def test_every_reference_of_the_pruned_contract_still_resolves() -> None:
    import re

    pruned = claims.without_unclaimed(load_spec(), claims.FEATURES)
    for ref in set(re.findall(r'"\$ref": "#/([^"]+)"', json.dumps(pruned))):
        node = pruned
        for part in ref.split("/"):
            assert isinstance(node, dict) and part in node, f"#/{ref} does not resolve"
            node = node[part]
