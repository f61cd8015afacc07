"""The score counts the rules a run judged, per family and overall; an accepted failure is not a pass, and rules
not claimed or not exercised count nowhere. The badge says the verdict and the score in the shields.io format."""

from __future__ import annotations

from typing import Any

import pytest

from accounting_conformance.conformance.score import badge, percent_text, score, status_of


def _rule(rule_id: str, family: str, status: str) -> dict[str, Any]:
    return {"id": rule_id, "family": family, "status": status, "passed": 0, "failed": 0, "skipped": 0, "accepted": 0}


RULES = [
    _rule("MONEY-001", "money", "passed"),
    _rule("MONEY-002", "money", "failed"),
    _rule("MONEY-003", "money", "accepted"),
    _rule("SHAPE-001", "shape", "passed"),
    _rule("ASYNC-001", "state", "not claimed"),
    _rule("SORT-001", "query", "not exercised"),
]


def test_passed_failed_and_accepted_rules_are_judged_and_only_passed_ones_pass() -> None:
    assert score(RULES)["overall"] == {"passed": 2, "judged": 4, "percent": 50.0}


def test_each_family_is_scored_apart_in_the_order_its_first_rule_comes() -> None:
    families = score(RULES)["families"]
    assert list(families) == ["money", "shape", "state", "query"]
    assert families["money"] == {"passed": 1, "judged": 3, "percent": 33.3}
    assert families["shape"] == {"passed": 1, "judged": 1, "percent": 100.0}


def test_a_family_with_nothing_judged_has_no_percentage_rather_than_zero() -> None:
    families = score(RULES)["families"]
    assert families["state"] == {"passed": 0, "judged": 0, "percent": None}
    assert families["query"]["percent"] is None and percent_text(families["query"]) == "\N{EM DASH}"


def test_no_rules_score_nothing() -> None:
    assert score([]) == {"overall": {"passed": 0, "judged": 0, "percent": None}, "families": {}}


def test_percentages_have_one_decimal_and_print_without_a_trailing_zero() -> None:
    rules = [_rule(f"R-{i}", "money", "passed") for i in range(30)] + [_rule("F", "money", "failed")] * 3
    overall = score(rules)["overall"]
    assert overall["percent"] == 90.9 and percent_text(overall) == "90.9%"
    assert percent_text({"percent": 100.0}) == "100%"


def test_a_rule_without_a_family_counts_under_other() -> None:
    assert list(score([{"id": "X-1", "status": "passed"}])["families"]) == ["other"]


@pytest.mark.parametrize(
    ("counts", "status"),
    [
        ({"passed": 3, "failed": 1}, "failed"),
        ({"passed": 3}, "passed"),
        ({"accepted": 1}, "accepted"),
        ({"skipped": 2}, "not exercised"),
        ({"status": "not claimed", "passed": 0}, "not claimed"),
    ],
)
def test_a_rule_without_a_stated_status_takes_the_one_its_counts_say(counts: dict[str, Any], status: str) -> None:
    assert status_of({"id": "X-1", **counts}) == status


def test_the_badge_is_in_the_shields_endpoint_format_with_the_verdict_and_the_score() -> None:
    data = {"verdict": "violations", "score": {"overall": {"passed": 30, "judged": 33, "percent": 90.9}}}
    assert badge(data) == {
        "schemaVersion": 1,
        "label": "conformance",
        "message": "violations \u00b7 90.9% of 33 rules",
        "color": "orange",
    }


@pytest.mark.parametrize(
    ("verdict", "percent", "color"),
    [
        ("conformant", 100.0, "brightgreen"),
        ("conformant", 97.0, "green"),  # passing thanks to accepted failures
        ("violations", 96.0, "yellow"),
        ("violations", 50.0, "red"),
        ("insufficient coverage", 100.0, "orange"),
        ("suite error", 80.0, "lightgrey"),
    ],
)
def test_the_badge_colour_follows_the_verdict_then_the_score(verdict: str, percent: float, color: str) -> None:
    data = {"verdict": verdict, "score": {"overall": {"passed": 1, "judged": 1, "percent": percent}}}
    assert badge(data)["color"] == color


def test_a_run_that_could_not_judge_gets_a_grey_badge_saying_so() -> None:
    assert badge({"verdict": "could not judge", "reason": "target unreachable"}) == {
        "schemaVersion": 1,
        "label": "conformance",
        "message": "could not judge",
        "color": "lightgrey",
    }


def test_the_badge_scores_the_rules_itself_when_the_summary_has_no_score() -> None:
    assert badge({"verdict": "violations", "rules": RULES})["message"] == "violations \u00b7 50% of 4 rules"
