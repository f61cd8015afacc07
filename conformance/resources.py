"""Where the suite's data lives, installed or in a checkout: the contract, the conformance tests, the default
fixtures and the schemathesis overrides, found with importlib.resources (package data of the wheel)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _path(package: str, name: str = "") -> Path:
    """A file or folder of a package as a filesystem path (the wheel is installed unzipped)."""
    resource = files(package) / name if name else files(package)
    return Path(str(resource))


def contract_path() -> Path:
    """openapi/openapi.yaml, the contract."""
    return _path("accounting_conformance.openapi", "openapi.yaml")


def suite_path() -> Path:
    """tests/conformance, the tests a conformance run executes."""
    return _path("accounting_conformance.suite")


def fixtures_path() -> Path:
    """reference_server/fixtures.json, the default fixtures (the reference server's seed data)."""
    return _path("accounting_conformance.reference_server", "fixtures.json")


def schemathesis_config_path() -> Path:
    """conformance/schemathesis.toml, the per-operation overrides of schemathesis' checks."""
    return _path("accounting_conformance.conformance", "schemathesis.toml")
