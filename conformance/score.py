"""The run's score: of the rules it judged, the share that passed, per rule family and overall; and its badge.

A rule counts as judged when its status is passed, failed or accepted, and as passed only when it passed: an accepted
failure is still a failure for the score. Rules "not claimed" or "not exercised" are left out of both counts.
"""

from __future__ import annotations

from typing import Any

#: The statuses a rule may have in summary.json, in the order the reports explain them.
STATUSES = ("passed", "failed", "accepted", "not claimed", "not exercised")
JUDGED = frozenset({"passed", "failed", "accepted"})
OTHER_FAMILY = "other"  # the family of a rule that names none


def status_of(rule: dict[str, Any]) -> str:
    """A rule's status: the one summary.json states, else what its counts say."""
    stated = rule.get("status")
    if stated in STATUSES:
        return str(stated)
    if rule.get("failed"):
        return "failed"
    if rule.get("accepted"):
        return "accepted"
    return "passed" if rule.get("passed") else "not exercised"


def title_of(failure: dict[str, Any]) -> str:
    """A failure's title without the "[RULE-ID] " it may start with, since the reports print the rule beside it."""
    return str(failure.get("title") or "").removeprefix(f"[{failure.get('rule')}] ")


def tally(passed: int, judged: int) -> dict[str, Any]:
    """passed of judged, with the percentage to one decimal (None when nothing was judged)."""
    return {"passed": passed, "judged": judged, "percent": round(100 * passed / judged, 1) if judged else None}


def score(rules: list[dict[str, Any]]) -> dict[str, Any]:
    """The score overall and per family (families in the order their first rule comes), as summary.json holds it."""
    counts: dict[str, list[int]] = {}  # family -> [passed, judged]
    for rule in rules:
        family = counts.setdefault(str(rule.get("family") or OTHER_FAMILY), [0, 0])
        status = status_of(rule)
        if status in JUDGED:
            family[1] += 1
            family[0] += status == "passed"
    passed = sum(p for p, _ in counts.values())
    judged = sum(j for _, j in counts.values())
    return {"overall": tally(passed, judged), "families": {name: tally(p, j) for name, (p, j) in counts.items()}}


def percent_text(entry: dict[str, Any] | None) -> str:
    """A tally's percentage as the reports print it ("90.9%", "100%"), or an em dash when nothing was judged."""
    if not entry or entry.get("percent") is None:
        return "\N{EM DASH}"
    return f"{float(entry['percent']):g}%"


BADGE_COLOR = {"could not judge": "lightgrey", "suite error": "lightgrey", "insufficient coverage": "orange"}


def badge(data: dict[str, Any]) -> dict[str, Any]:
    """The shields.io endpoint badge: the verdict with the overall score, coloured by verdict and score."""
    verdict = str(data.get("verdict") or "could not judge")
    overall = (data.get("score") or (score(data["rules"]) if data.get("rules") else {})).get("overall") or {}
    percent = overall.get("percent")
    message = verdict if percent is None else f"{verdict} \u00b7 {percent_text(overall)} of {overall['judged']} rules"
    if verdict == "conformant":
        color = "brightgreen" if percent in (None, 100.0, 100) else "green"
    elif verdict == "violations":
        color = "red" if percent is None or percent < 80 else ("orange" if percent < 95 else "yellow")
    else:
        color = BADGE_COLOR.get(verdict, "lightgrey")
    return {"schemaVersion": 1, "label": "conformance", "message": message, "color": color}
