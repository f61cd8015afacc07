"""The outputs of `make spec-diff`: terminal text, JSON, a Markdown changelog for a PR comment, GitHub annotations."""

from __future__ import annotations

import json

from accounting_conformance.conformance.specdiff.checks import SEVERITIES
from accounting_conformance.conformance.specdiff.gate import Verdict

FORMATS = ("text", "json", "markdown", "github")
_LEVEL = {"breaking": "error", "warning": "warning", "info": "notice"}


def text(verdict: Verdict, title: str) -> str:
    """One line per finding, most severe first, then the counts and the acceptance sentence."""
    lines = [f"spec-diff: {title}"]
    for f in verdict.findings:
        via = f" ({f.operation})" if f.operation else ""
        lines.append(f"{f.severity.upper():8} {f.id}: {f.location}{via}: {f.message}")
    lines.append(_counts(verdict))
    if verdict.count("breaking"):
        lines.append(verdict.how_to_accept())
    return "\n".join(lines) + "\n"


def as_json(verdict: Verdict, title: str) -> str:
    """The verdict as a JSON document."""
    return json.dumps({"title": title, **verdict.as_dict()}, indent=2) + "\n"


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def markdown(verdict: Verdict, title: str) -> str:
    """A Markdown changelog: a headline with the counts, then a table per severity."""
    lines = [f"## API changes: {title}", "", _counts(verdict, bold=True)]
    if verdict.count("breaking"):
        lines += ["", f"_{verdict.how_to_accept()}_"]
    for severity in SEVERITIES:
        found = [f for f in verdict.findings if f.severity == severity]
        if not found:
            continue
        lines += ["", f"### {severity.capitalize()} ({len(found)})", "", "| Check | Where | Change |", "|---|---|---|"]
        for f in found:
            where = f"{f.operation} · `{f.location}`" if f.operation else f"`{f.location}`"
            lines.append(f"| `{f.id}` | {_cell(where)} | {_cell(f.message)} |")
    return "\n".join(lines) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(verdict: Verdict, path: str) -> str:
    """GitHub Actions workflow commands: an annotation on the spec's line for each finding."""
    lines = []
    for f in verdict.findings:
        place = f"file={_escape_property(path)}" + (f",line={f.line}" if f.line else "")
        title = _escape_property(f"spec-diff {f.id} ({f.severity})")
        via = f" ({f.operation})" if f.operation else ""
        lines.append(
            f"::{_LEVEL[f.severity]} {place},title={title}::{_escape_data(f'{f.message}{via} at {f.location}')}"
        )
    lines.append(_counts(verdict))
    return "\n".join(lines) + "\n"


def _counts(verdict: Verdict, bold: bool = False) -> str:
    parts = [f"{verdict.count(s)} {s}" for s in SEVERITIES]
    if bold:
        parts[0] = f"**{parts[0]}**"
    if not verdict.findings:
        return "no changes to the API's behaviour"
    suffix = "" if verdict.count("breaking") else " (no breaking change)"
    return ", ".join(parts) + suffix
