"""Reading the two specs: a file, or a file at a git ref; and the line a JSON pointer sits on, for annotations."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from accounting_conformance.conformance.contract import parse_spec
from accounting_conformance.conformance.locate import Locator
from accounting_conformance.conformance.specdiff.model import SpecError


def as_spec(text: str, origin: str) -> dict[str, Any]:
    """Parse spec text; SpecError names the origin when it is not YAML/JSON or not an OpenAPI document."""
    try:
        spec = parse_spec(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{origin}: not valid YAML or JSON ({exc})") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict):
        raise SpecError(f"{origin}: not an OpenAPI document (no `paths` object)")
    return spec


def read_file(path: Path) -> str:
    """The text of a spec file (SpecError when it cannot be read)."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read {path}: {exc}") from None


def read_at(ref: str, path: Path) -> str:
    """The text of a file at a git ref (`git show REF:path`), the path taken inside the repository holding it."""
    git = ["git", "-C", str(path.resolve().parent)]
    try:
        verify = subprocess.run(
            [*git, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], capture_output=True, text=True, check=False
        )
        shown = subprocess.run([*git, "show", f"{ref}:./{path.name}"], capture_output=True, text=True, check=False)
    except OSError as exc:
        raise SpecError(f"cannot run git: {exc}") from None
    if verify.returncode != 0:
        raise SpecError(f"unknown git ref {ref!r} (in the repository holding {path})")
    if shown.returncode != 0:
        raise SpecError(f"cannot read {path.name} at {ref}: {shown.stderr.strip()}")
    return shown.stdout


def line_finder(text: str) -> Callable[[str], int | None]:
    """A function from a JSON pointer to its 1-based line in text (or its nearest existing parent's), the YAML composed
    once; every pointer gives None when the text cannot be composed."""
    try:
        locator = Locator(text)
    except (yaml.YAMLError, ValueError):
        return lambda pointer: None
    return locator.pointer_line


def line_of(text: str, pointer: str) -> int | None:
    """The line of one pointer in text (see line_finder)."""
    return line_finder(text)(pointer)
