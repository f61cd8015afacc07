"""Our lint's problems with their lines, as text or as GitHub Actions annotations (`make validate LINT_FORMAT=github`).

`python -m tests.spec.annotate [--format text|github] [SPEC]` runs every rule of tests/spec/lint.py and
tests/spec/lint_keywords.py over SPEC (default the contract) and prints one line per problem; exit 1 if any.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accounting_conformance.conformance.contract import SPEC_PATH, parse_spec
from accounting_conformance.conformance.locate import Locator
from tests.spec import lint
from tests.spec.coverage import load_facts
from tests.spec.lint_keywords import schemas_hold_only_known_keywords

Rule = Callable[[dict[str, Any]], list[str]]


def _source_pages(spec: dict[str, Any]) -> list[str]:
    return lint.source_pages_are_covered(spec, load_facts())


#: Each rule of our lint by the name its annotations carry.
RULES: dict[str, Rule] = {
    "valid-openapi-3.1": lint.spec_is_valid_openapi_31,
    "unique-operation-ids": lint.operation_ids_are_unique,
    "error-responses": lint.error_responses_are_documented,
    "examples-match-schemas": lint.examples_match_their_schemas,
    "examples-keep-amount-rules": lint.response_examples_keep_the_amount_rules,
    "filterable-fields": lint.filterable_fields_agree,
    "source-pages-covered": _source_pages,
    "known-schema-keywords": schemas_hold_only_known_keywords,
}


@dataclass(frozen=True)
class Problem:
    """One problem one rule found, with the line it is on (None where it names no place)."""

    rule: str
    message: str
    line: int | None


def problems(text: str, rules: dict[str, Rule] = RULES) -> list[Problem]:
    """Every problem each rule finds in the spec text, located; a rule that raises is one problem."""
    spec, locator = parse_spec(text), Locator(text)
    if not isinstance(spec, dict):
        return [Problem("valid-openapi-3.1", "the document is not a mapping", 1)]
    found = []
    for name, rule in rules.items():
        try:
            messages = rule(spec)
        except Exception as exc:  # noqa: BLE001 - a rule that cannot walk a broken spec is a finding, not a crash
            messages = [f"the rule could not run: {type(exc).__name__}: {exc}"]
        found += [Problem(name, message, locator.line(_location(message))) for message in messages]
    return found


def _location(message: str) -> str:
    """The place a problem names: its text before the first ': ', with an example's instance path appended
    (`/components/examples/X/value: invoice/status: ...` is at .../value/invoice/status)."""
    parts = message.split(": ")
    if len(parts) < 2:
        return ""
    head, then = parts[0], parts[1]
    if head.startswith(("#/", "/")) and len(parts) > 2 and " " not in then and then != "(root)":
        return f"{head}/{then}"
    return head


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(problem: Problem, file: str) -> str:
    """The GitHub Actions workflow command that annotates problem's line of file."""
    where = f"file={_escape_property(file)}" + (f",line={problem.line}" if problem.line else "")
    return f"::error {where},title={_escape_property('our lint: ' + problem.rule)}::{_escape_data(problem.message)}"


def text_line(problem: Problem, file: str) -> str:
    """One problem as `file:line: [rule] message`."""
    return f"{file}:{problem.line or 1}: [{problem.rule}] {problem.message}"


def render(found: Sequence[Problem], file: str, form: str) -> list[str]:
    """The lines to print for found problems in form 'text' or 'github'."""
    return [github(p, file) if form == "github" else text_line(p, file) for p in found]


def shown(path: Path) -> str:
    """path as annotations name it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: print the problems of SPEC; 1 if there are any."""
    parser = argparse.ArgumentParser(prog="python -m tests.spec.annotate", description=__doc__)
    parser.add_argument("spec", nargs="?", type=Path, default=SPEC_PATH, help="the spec (default: the contract)")
    parser.add_argument("--format", choices=("text", "github"), default="text")
    args = parser.parse_args(argv)
    found = problems(args.spec.read_text(encoding="utf-8"))
    for line in render(found, shown(args.spec), args.format):
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
