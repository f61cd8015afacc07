"""The markers of the conformance tests: `rules` is the one tie between tests and rules (every rule has a test,
every marker names a rule, every test names the rules it covers); `phase` says when a module's tests run."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest

import accounting_conformance.suite
from accounting_conformance.conformance.plugin import PHASES, register_markers
from accounting_conformance.conformance.rules import FAMILIES, RULES, Rule


def _suite_modules() -> Iterator[Any]:
    """Every test module of the conformance suite."""
    for info in pkgutil.iter_modules(accounting_conformance.suite.__path__):
        if info.name.startswith("test_"):
            yield importlib.import_module(f"{accounting_conformance.suite.__name__}.{info.name}")


def _suite_tests(modules: list[Any]) -> Iterator[tuple[str, Any]]:
    """(module.test name, test function) for every test of these modules."""
    for module in modules:
        for name, value in vars(module).items():
            if name.startswith("test_") and inspect.isfunction(value):
                yield f"{module.__name__.rsplit('.', 1)[-1]}.{name}", value


def _marks(marked: Any, name: str) -> list[Any]:
    """The marks of this name on a test function or module (a module's `pytestmark` may be one mark or a list)."""
    found = getattr(marked, "pytestmark", [])
    return [mark for mark in (found if isinstance(found, list) else [found]) if mark.name == name]


@pytest.fixture(scope="module")
def modules(pytestconfig: pytest.Config) -> list[Any]:
    """The suite's test modules, imported once the plugin's markers are registered (as a run registers them)."""
    register_markers(pytestconfig)
    return list(_suite_modules())


@pytest.fixture(scope="module")
def tests(modules: list[Any]) -> dict[str, Any]:
    """The suite's tests by module and name."""
    return dict(_suite_tests(modules))


@pytest.fixture(scope="module")
def marked(tests: dict[str, Any]) -> dict[str, list[str]]:
    """The rule IDs each test's `rules` markers name."""
    return {name: [rule for mark in _marks(test, "rules") for rule in mark.args] for name, test in tests.items()}


def test_the_suite_has_tests_to_look_at(tests: dict[str, Any]) -> None:
    assert len(tests) > 40 and "test_writes.test_application_moves_money_on_both_sides" in tests


def test_every_conformance_test_names_the_rules_it_covers(marked: dict[str, list[str]]) -> None:
    assert [name for name, rules in marked.items() if not rules] == []


def test_every_rules_marker_names_a_rule(marked: dict[str, list[str]]) -> None:
    known = {rule.id for rule in RULES}
    assert {name: sorted(set(rules) - known) for name, rules in marked.items() if set(rules) - known} == {}


def test_every_rule_has_a_test(marked: dict[str, list[str]]) -> None:
    covered = {rule for rules in marked.values() for rule in rules}
    assert [rule.id for rule in RULES if rule.id not in covered] == []


def test_rule_ids_are_unique_and_each_rule_is_of_a_known_family() -> None:
    assert len({rule.id for rule in RULES}) == len(RULES)
    assert {rule.family for rule in RULES} == set(FAMILIES)
    with pytest.raises(ValueError, match="unknown family 'misc'"):
        Rule("X-001", "a statement", "#/paths", "misc")


def test_every_conformance_module_runs_in_one_known_phase_and_every_phase_has_one(modules: list[Any]) -> None:
    phases = {module.__name__: [m.args for m in _marks(module, "phase")] for module in modules}
    assert {name: found for name, found in phases.items() if len(found) != 1 or found[0][0] not in PHASES} == {}
    assert {found[0][0] for found in phases.values()} == set(PHASES)


def test_no_test_chooses_its_phase_on_its_own(tests: dict[str, Any]) -> None:
    assert [name for name, test in tests.items() if _marks(test, "phase")] == []
