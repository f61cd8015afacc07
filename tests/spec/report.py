"""Pytest plugin for `make validate`: prints the operation count and the field coverage of the source pages."""

from __future__ import annotations

from typing import Any

from conformance.contract import load_spec
from tests.spec.coverage import compare_fields, coverage, load_facts
from tests.spec.lint import operations


def summary_lines(spec: dict[str, Any], facts: dict[str, Any]) -> list[str]:
    """The summary lines: the operation count, the coverage figure, then any uncovered field."""
    results = compare_fields(spec, facts)
    covered, total = coverage(results)
    pct = 100.0 * covered / total if total else 0.0
    lines = [
        f"operations: {len(list(operations(spec)))}",
        f"field coverage of the source pages: {pct:.1f} % ({covered}/{total} fields)",
    ]
    uncovered = [line for result in results for line in result.lines()]
    if uncovered:
        lines.append("uncovered fields:")
        lines += [f"  {line}" for line in uncovered]
    return lines


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    """Print the summary after the test results."""
    spec = load_spec()
    try:
        facts = load_facts()
    except (OSError, ValueError) as exc:
        terminalreporter.write_line(f"operations: {len(list(operations(spec)))}")
        terminalreporter.write_line(f"field coverage of the source pages: unavailable ({exc})")
        return
    for line in summary_lines(spec, facts):
        terminalreporter.write_line(line)
