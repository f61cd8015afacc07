"""Our lint's problems, located, as text lines and GitHub annotations."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounting_conformance.conformance.resources import contract_path
from tests.spec.annotate import Problem, github, main, problems, render
from tests.spec.slips import SLIPS, line_of, put_back

CONTRACT = contract_path()


def test_the_contract_has_no_problem() -> None:
    assert problems(CONTRACT.read_text(encoding="utf-8")) == []


def test_each_slip_put_back_is_a_problem_on_its_own_line() -> None:
    text = put_back(CONTRACT.read_text(encoding="utf-8"))
    found = problems(text)
    assert [(p.rule, p.line) for p in found] == [("known-schema-keywords", line_of(text, s)) for s in SLIPS]
    for problem, slip in zip(found, SLIPS, strict=True):
        assert problem.message.startswith(f"{slip.pointer}: unknown keyword {slip.stray_key!r}")


def test_a_wrong_example_is_annotated_on_the_line_of_the_wrong_value() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    wrong = text.replace("total_amount: '3'\n", "total_amount: true\n", 1)
    found = problems(wrong)
    assert found and {p.rule for p in found} == {"examples-match-schemas"}
    line = found[0].line
    assert line is not None and wrong.splitlines()[line - 1].strip() == "total_amount: true"


def test_an_annotation_escapes_what_github_would_misread() -> None:
    problem = Problem("known-schema-keywords", "#/a: 100% wrong\nsecond line", 7)
    assert github(problem, "openapi/openapi.yaml") == (
        "::error file=openapi/openapi.yaml,line=7,title=our lint%3A known-schema-keywords"
        "::#/a: 100%25 wrong%0Asecond line"
    )


def test_a_problem_without_a_line_annotates_the_file() -> None:
    assert render([Problem("unique-operation-ids", "20 operations, expected 21", None)], "x.yaml", "github") == [
        "::error file=x.yaml,title=our lint%3A unique-operation-ids::20 operations, expected 21"
    ]
    assert render([Problem("unique-operation-ids", "20 operations, expected 21", None)], "x.yaml", "text") == [
        "x.yaml:1: [unique-operation-ids] 20 operations, expected 21"
    ]


def test_a_rule_that_raises_is_reported_not_raised() -> None:
    def broken(spec: object) -> list[str]:
        raise KeyError("paths")

    assert [p.message for p in problems("openapi: 3.1.0\n", {"broken": broken})] == [
        "the rule could not run: KeyError: 'paths'"
    ]


def test_the_command_exits_1_and_prints_one_annotation_per_slip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slipped = tmp_path / "openapi.yaml"
    slipped.write_text(put_back(CONTRACT.read_text(encoding="utf-8")), encoding="utf-8")
    assert main(["--format", "github", str(slipped)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.startswith(f"::error file={slipped},line=") for line in lines)
