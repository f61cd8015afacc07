"""The spec-diff catalogue (tests/spec/diff_cases): each case is an edit of a spec and the check IDs it must report.

In the style of JSON-Schema-Test-Suite: one YAML file per category, each naming its base (`base.yaml` beside
it, or `contract` for openapi/openapi.yaml) and a list of cases. A case is a description, an optional RFC 6902
patch `before` (the old spec; default the base as it is), a patch `after` (the new spec), the exact set of
check IDs `diff(old, new)` must report (`[]` for none), and optionally `xfail: <reason>` where the detector is
known to be wrong. The expectations are written from each check's statement in conformance/specdiff/checks.py
and from what a client of the old spec would experience, not from what the detector prints.

Marked slow (every patched spec is also validated as OpenAPI 3.1, some 15 s): `make test` runs it, our lint in
`make validate` (`-m 'not slow'`, possibly on another `--contract`) leaves it out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jsonpatch
import pytest
import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator

from accounting_conformance.conformance.contract import load_spec, parse_spec
from accounting_conformance.conformance.specdiff import diff
from accounting_conformance.conformance.specdiff.checks import CHECKS

CASES_DIR = Path(__file__).resolve().parent / "diff_cases"
BASE_FILE = "base.yaml"
CONTRACT = "contract"
CATEGORIES = (
    "paths",
    "parameters",
    "request_bodies",
    "responses",
    "schemas_request",
    "schemas_response",
    "security",
    "extensions",
    "harmless",
    "contract",
)
FILE_KEYS = frozenset({"description", "base", "cases"})
CASE_KEYS = frozenset({"description", "before", "after", "expect", "xfail"})


class CaseError(Exception):
    """A case file or a case that cannot be used; the message names the file and, where it can, the case."""


@dataclass(frozen=True)
class Case:
    """One catalogued edit: its file, description, base, the two patches, the expected check IDs, an xfail reason."""

    file: str
    description: str
    base: str
    before: tuple[dict[str, Any], ...]
    after: tuple[dict[str, Any], ...]
    expect: frozenset[str]
    xfail: str | None = None

    @property
    def name(self) -> str:
        """The test id: the file's stem and the description."""
        return f"{Path(self.file).stem}: {self.description}"

    @property
    def label(self) -> str:
        """The case as error messages name it."""
        return f"{self.file}, case {self.description!r}"


def _patch(raw: Any, where: str, side: str) -> tuple[dict[str, Any], ...]:
    """A patch of a case as read: a list of operations, each a mapping with `op` and `path`."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(op, dict) and "op" in op and "path" in op for op in raw):
        raise CaseError(f"{where}: `{side}` must be a list of JSON Patch operations (each with `op` and `path`)")
    return tuple(raw)


def _case(file: str, base: str, index: int, raw: Any) -> Case:
    """One case of a file, its shape checked; CaseError names the file and the case."""
    description = raw.get("description") if isinstance(raw, dict) else None
    where = f"{file}, case {description!r}" if isinstance(description, str) else f"{file}, case #{index}"
    if not isinstance(raw, dict):
        raise CaseError(f"{where}: a case must be a mapping")
    if not isinstance(description, str) or not description.strip():
        raise CaseError(f"{where}: `description` must be a non-empty string")
    unknown = set(raw) - CASE_KEYS
    missing = {"after", "expect"} - set(raw)
    if unknown or missing:
        raise CaseError(f"{where}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    expect = raw["expect"]
    if not isinstance(expect, list) or not all(isinstance(check, str) for check in expect):
        raise CaseError(f"{where}: `expect` must be a list of check IDs ([] for no change)")
    if len(set(expect)) != len(expect):
        raise CaseError(f"{where}: `expect` names a check twice")
    xfail = raw.get("xfail")
    if "xfail" in raw and (not isinstance(xfail, str) or not xfail.strip()):
        raise CaseError(f"{where}: `xfail` must be a one-line reason")
    before, after = _patch(raw.get("before"), where, "before"), _patch(raw["after"], where, "after")
    if not before and not after:
        raise CaseError(f"{where}: neither `before` nor `after` changes the base")
    return Case(file, description, base, before, after, frozenset(expect), xfail)


def read_case_file(path: Path) -> list[Case]:
    """The cases of one catalogue file; CaseError names the file (and the case) when it is malformed."""
    try:
        data = parse_spec(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CaseError(f"{path.name}: cannot be read as YAML: {exc}") from None
    if not isinstance(data, dict) or set(data) - FILE_KEYS or not {"base", "cases"} <= set(data):
        raise CaseError(f"{path.name}: must be a mapping of `description`, `base` and `cases`")
    base = data["base"]
    if base != CONTRACT and (not isinstance(base, str) or not (path.parent / base).is_file()):
        raise CaseError(f"{path.name}: `base` must be {CONTRACT!r} or a file beside it, not {base!r}")
    if not isinstance(data["cases"], list) or not data["cases"]:
        raise CaseError(f"{path.name}: `cases` must be a non-empty list")
    cases = [
        _case(path.name, str(path.parent / base) if base != CONTRACT else CONTRACT, i, raw)
        for i, raw in enumerate(data["cases"])
    ]
    seen: set[str] = set()
    for case in cases:
        if case.description in seen:
            raise CaseError(f"{case.label}: the description is used twice in the file")
        seen.add(case.description)
    return cases


def case_files(directory: Path = CASES_DIR) -> list[Path]:
    """The catalogue's case files (every YAML file but the base spec), in name order."""
    return sorted(p for p in directory.glob("*.yaml") if p.name != BASE_FILE)


def all_cases(directory: Path = CASES_DIR) -> list[Case]:
    """Every case of every catalogue file."""
    return [case for path in case_files(directory) for case in read_case_file(path)]


@lru_cache(maxsize=8)
def _base_file(path: str) -> dict[str, Any]:
    """A base spec file, parsed once (never mutated: patches copy it)."""
    try:
        spec = parse_spec(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CaseError(f"{Path(path).name}: the base cannot be read as YAML: {exc}") from None
    if not isinstance(spec, dict):
        raise CaseError(f"{Path(path).name}: the base is not a mapping")
    return spec


def base_spec(base: str) -> dict[str, Any]:
    """The base a case file names: the real contract or a spec file of the catalogue."""
    return load_spec() if base == CONTRACT else _base_file(base)


def build(case: Case) -> tuple[dict[str, Any], dict[str, Any]]:
    """The old and the new spec of a case, each a patched copy of its base; CaseError when a patch does not apply."""
    base = base_spec(case.base)
    specs = []
    for side, patch in (("before", case.before), ("after", case.after)):
        try:
            specs.append(jsonpatch.apply_patch(base, list(patch)))  # a deep copy, even for an empty patch
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError) as exc:
            raise CaseError(f"{case.label}: the `{side}` patch does not apply: {exc}") from None
    return specs[0], specs[1]


def reported(case: Case) -> set[str]:
    """The check IDs the detector reports for a case."""
    old, new = build(case)
    return {finding.id for finding in diff(old, new)}


@cache
def _problems_of(text: str) -> tuple[str, ...]:
    """What openapi-spec-validator (OpenAPI 3.1) finds wrong with a spec given as canonical JSON text (cached)."""
    return tuple(
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
        for e in OpenAPIV31SpecValidator(json.loads(text)).iter_errors()
    )


def openapi_problems(spec: dict[str, Any]) -> list[str]:
    """What openapi-spec-validator (OpenAPI 3.1) finds wrong with a spec (empty when it is valid)."""
    return list(_problems_of(json.dumps(spec, sort_keys=True)))


def info_only(checks: frozenset[str]) -> bool:
    """Whether every one of these check IDs is registered with severity info."""
    return all(check in CHECKS and CHECKS[check].severity == "info" for check in checks)


def _params(cases: list[Case]) -> Iterator[Any]:
    """The cases as pytest parameters, a strict xfail on each case marked as a known detector bug."""
    for case in cases:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        yield pytest.param(case, id=case.name, marks=marks)


pytestmark = pytest.mark.slow
CASES = all_cases()


# -- the catalogue ----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(_params(CASES)))
def test_each_case_reports_exactly_the_check_ids_it_expects(case: Case) -> None:
    assert reported(case) == case.expect


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_each_case_edits_a_valid_openapi_3_1_document_into_another(case: Case) -> None:
    for side, spec in zip(("before", "after"), build(case), strict=True):
        assert openapi_problems(spec) == [], f"{case.label}: the `{side}` spec is not valid OpenAPI 3.1"


# harmless: every case that expects info-level checks only (all of harmless.yaml, and the contract's harmless edits)
@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES if info_only(c.expect) and not c.xfail])
def test_a_harmless_edit_reports_no_breaking_or_warning_finding(case: Case) -> None:
    old, new = build(case)
    assert [f"{f.severity} {f.id} at {f.location}" for f in diff(old, new) if f.severity != "info"] == []


def test_the_harmless_cases_expect_info_level_checks_only() -> None:
    harmless = [case for case in CASES if Path(case.file).stem == "harmless"]
    assert harmless
    assert [case.label for case in harmless if not info_only(case.expect)] == []


def test_every_check_is_expected_by_at_least_one_case() -> None:
    expected = {check for case in CASES for check in case.expect}
    assert sorted(set(CHECKS) - expected) == []


def test_every_check_is_expected_by_a_case_the_detector_passes() -> None:
    expected = {check for case in CASES if not case.xfail for check in case.expect}
    assert sorted(set(CHECKS) - expected) == []


def test_every_expected_check_id_is_a_registered_check() -> None:
    unknown = {f"{case.label}: {check}" for case in CASES for check in case.expect if check not in CHECKS}
    assert sorted(unknown) == []


def test_the_catalogue_has_one_file_per_category_and_nothing_else() -> None:
    assert [path.stem for path in case_files()] == sorted(CATEGORIES)


def test_the_contract_cases_are_patched_onto_the_real_contract_and_the_others_onto_the_base() -> None:
    bases = {Path(case.file).stem: case.base for case in CASES}
    assert bases.pop("contract") == CONTRACT
    assert set(bases.values()) == {str(CASES_DIR / BASE_FILE)}


def test_the_base_and_the_contract_are_valid_openapi_3_1_and_unchanged_they_report_nothing() -> None:
    for spec in (base_spec(str(CASES_DIR / BASE_FILE)), load_spec()):
        assert openapi_problems(spec) == []
        assert diff(spec, spec) == []


def test_the_case_names_are_unique() -> None:
    names = [case.name for case in CASES]
    assert sorted({n for n in names if names.count(n) > 1}) == []


# -- a broken catalogue is an error that names the file and the case ------------------------------------
def _write(directory: Path, name: str, text: str) -> Path:
    """A catalogue file in a scratch directory, with a copy of the base beside it."""
    (directory / BASE_FILE).write_text((CASES_DIR / BASE_FILE).read_text(encoding="utf-8"), encoding="utf-8")
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_case_file_that_does_not_parse_is_an_error_naming_the_file(tmp_path: Path) -> None:
    _write(tmp_path, "broken.yaml", "description: x\nbase: base.yaml\ncases: [\n")
    with pytest.raises(CaseError, match=r"^broken\.yaml: cannot be read as YAML"):
        all_cases(tmp_path)


def test_a_case_without_an_expectation_is_an_error_naming_the_file_and_the_case(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "odd.yaml",
        "base: base.yaml\ncases:\n  - description: no expect\n    after: [{op: remove, path: /info}]\n",
    )
    with pytest.raises(CaseError, match=r"^odd\.yaml, case 'no expect': .*missing keys \['expect'\]"):
        all_cases(tmp_path)


def test_a_patch_that_does_not_apply_is_an_error_naming_the_file_and_the_case(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "stale.yaml",
        "base: base.yaml\ncases:\n  - description: a stale path\n"
        "    after: [{op: remove, path: /paths/~1nowhere}]\n    expect: [operation-removed]\n",
    )
    [case] = read_case_file(path)
    with pytest.raises(CaseError, match=r"^stale\.yaml, case 'a stale path': the `after` patch does not apply"):
        build(case)


def test_a_malformed_patch_operation_is_an_error_naming_the_file_and_the_case(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "bad.yaml",
        "base: base.yaml\ncases:\n  - description: no such op\n"
        "    before: [{op: frobnicate, path: /info}]\n    after: []\n    expect: []\n",
    )
    [case] = read_case_file(path)
    with pytest.raises(CaseError, match=r"^bad\.yaml, case 'no such op': the `before` patch does not apply"):
        build(case)


def test_a_case_file_naming_a_missing_base_is_an_error_naming_the_file(tmp_path: Path) -> None:
    _write(tmp_path, "lost.yaml", "base: nowhere.yaml\ncases: []\n")
    with pytest.raises(CaseError, match=r"^lost\.yaml: `base` must be"):
        all_cases(tmp_path)
