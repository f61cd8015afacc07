"""The faults of a server are a typed, immutable value of its settings: named by member, checked at start, passed down."""

from __future__ import annotations

import ast
import dataclasses
import operator
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from accounting_conformance.reference_server import __main__ as server_main
from accounting_conformance.reference_server.app import Settings
from accounting_conformance.reference_server.faults import NO_FAULTS, Fault, Faults, UnknownFault

REPO = Path(__file__).resolve().parents[3]
SERVER = REPO / "reference_server"


def _server_modules() -> dict[str, ast.Module]:
    """The parsed server modules (not the variation proxy, which has no faults), by module name."""
    return {
        path.stem: ast.parse(path.read_text())
        for path in sorted(SERVER.glob("*.py"))
        if not path.stem.startswith("variations")
    }


def test_every_fault_is_implemented_by_a_branch_in_the_server_and_no_branch_names_an_unknown_fault() -> None:
    named: dict[str, set[str]] = {}
    for module, tree in _server_modules().items():
        if module != "faults":
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Fault":
                    named.setdefault(node.attr, set()).add(module)
    assert "named" not in named, "the server names faults by member, never looks one up by string"
    assert set(named) == {fault.name for fault in Fault}


def test_every_call_of_a_fault_aware_function_in_the_server_passes_the_faults_on() -> None:
    modules = _server_modules()
    aware = {
        (module, node.name)
        for module, tree in modules.items()
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and "faults" in {a.arg for a in node.args.args + node.args.kwonlyargs}
    }
    checked, missing = 0, []
    for module, tree in modules.items():
        imported = {
            alias.asname or alias.name: (str(node.module).rsplit(".", 1)[-1], alias.name)
            for node in tree.body
            if isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith("accounting_conformance.reference_server.")
            for alias in node.names
        }
        for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
            callee = call.func
            if isinstance(callee, ast.Attribute) and isinstance(callee.value, ast.Name):
                target = (callee.value.id, callee.attr)
            elif isinstance(callee, ast.Name):
                target = (module, callee.id) if (module, callee.id) in aware else imported.get(callee.id, ("", ""))
            else:
                continue
            if target in aware:
                checked += 1
                passed = [*call.args, *(k.value for k in call.keywords if k.arg == "faults")]
                if not any(ast.unparse(arg).endswith("faults") for arg in passed):
                    missing.append(f"{module}.py:{call.lineno} {ast.unparse(callee)}(...)")
    assert checked > 50 and not missing, f"calls that drop the server's faults: {missing}"


def test_faults_are_looked_up_by_member_and_a_name_string_is_refused() -> None:
    chosen = Faults.of(Fault.LIMIT_IGNORED)
    assert Fault.LIMIT_IGNORED in chosen and Fault.FILTER_IGNORED not in chosen
    assert Fault.LIMIT_IGNORED not in NO_FAULTS
    with pytest.raises(TypeError, match="by Fault member"):
        operator.contains(chosen, "limit-ignored")  # type: ignore[arg-type]  # mypy refuses it too


def test_the_faults_of_a_server_are_an_immutable_value_of_its_settings() -> None:
    settings = Settings(faults=Faults.named(["limit-ignored", "filter-ignored"]))
    assert settings.faults == Faults.of(Fault.FILTER_IGNORED, Fault.LIMIT_IGNORED)
    assert isinstance(settings.faults.on, frozenset) and Settings().faults == NO_FAULTS
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.faults.on = frozenset()  # type: ignore[misc]


def test_a_misspelt_fault_name_is_refused_with_the_known_ones() -> None:
    with pytest.raises(UnknownFault, match="known faults: .*limit-ignored"):
        Faults.named(["limit-ignored", "no-such-fault"])
    assert Fault.named("limit-ignored") is Fault.LIMIT_IGNORED


def test_a_misspelt_fault_fails_at_start_listing_the_valid_names() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "accounting_conformance.reference_server",
            "--fault",
            "limit-ignored",
            "--fault",
            "no-such-fault",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown --fault 'no-such-fault'" in result.stderr
    for fault in Fault:
        assert f"\n  {fault.value}\n" in result.stderr + "\n"


def test_a_misspelt_fault_stops_the_server_before_it_builds_an_app_or_binds_a_port(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the server went on past a misspelt fault")

    monkeypatch.setattr(server_main, "create_app", never)
    monkeypatch.setattr(server_main.uvicorn, "run", never)
    with pytest.raises(SystemExit) as stopped:
        server_main.main(["--port", "8901", "--fault", "over-aplication-accepted"])
    assert stopped.value.code == 2
    assert "unknown --fault 'over-aplication-accepted'" in capsys.readouterr().err
