"""Pytest plugin for `make validate`: which contract to lint, then the operation count, the field coverage of the
source pages and every problem our lint finds, each with its line (as GitHub annotations with --lint-format github).

`--contract FILE` points conformance.contract.load_spec() (and so every test of tests/spec) at another file, e.g.
a deliberately broken copy: `make validate SPEC=FILE`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accounting_conformance.conformance import contract as contract_module
from accounting_conformance.conformance.contract import load_spec
from tests.spec.annotate import problems, render, shown
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


def pytest_addoption(parser: Any) -> None:
    """--contract and --lint-format."""
    group = parser.getgroup("contract lint")
    group.addoption("--contract", metavar="FILE", help="lint FILE instead of openapi/openapi.yaml")
    group.addoption(
        "--lint-format",
        choices=("text", "github"),
        default="text",
        help="how to print our lint's problems: file:line lines, or GitHub Actions annotations",
    )


def pytest_configure(config: Any) -> None:
    """Point load_spec() at --contract before any test module is collected."""
    contract = config.getoption("contract")
    if contract:
        path = Path(contract).resolve()
        if not path.is_file():
            raise pytest.UsageError(f"--contract {contract}: no such file")
        contract_module.SPEC_PATH = path


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    """Print the summary after the test results, then our lint's problems with their lines."""
    path = contract_module.SPEC_PATH
    spec = load_spec()
    try:
        facts = load_facts()
    except (OSError, ValueError) as exc:
        terminalreporter.write_line(f"operations: {len(list(operations(spec)))}")
        terminalreporter.write_line(f"field coverage of the source pages: unavailable ({exc})")
    else:
        for line in summary_lines(spec, facts):
            terminalreporter.write_line(line)
    found = problems(path.read_text(encoding="utf-8"))
    terminalreporter.write_line(f"our lint: {len(found)} problem(s) in {shown(path)}")
    for line in render(found, shown(path), config.getoption("lint_format")):
        terminalreporter.write_line(line)
