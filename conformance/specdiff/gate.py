"""The verdict of `make spec-diff`: the findings, and whether a breaking change was accepted on purpose.

A deliberate breaking change is accepted when `info.version` was bumped (a higher major for x.y.z
versions, 0.x counting its minor; a later date for YYYY-MM-DD versions; any other change of text
otherwise) and the changelog beside the spec has a line naming the new version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accounting_conformance.conformance.specdiff.model import Finding

FAIL_ON = ("breaking", "warning", "never")
_SEMVER = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def version_bumped(old: str, new: str) -> bool:
    """Whether new is a version that announces a breaking change after old."""
    old_semver, new_semver = _SEMVER.match(old), _SEMVER.match(new)
    if old_semver and new_semver:
        before, after = (int(old_semver[1]), int(old_semver[2])), (int(new_semver[1]), int(new_semver[2]))
        return after[0] > before[0] or (before[0] == after[0] == 0 and after[1] > before[1])
    if _DATE.match(old) and _DATE.match(new):
        return new > old
    return new != old


def changelog_names(path: Path | None, version: str) -> bool:
    """Whether the changelog file has a line naming the version."""
    if path is None or not path.is_file():
        return False
    return any(version in line for line in path.read_text(encoding="utf-8", errors="replace").splitlines())


@dataclass(frozen=True)
class Verdict:
    """The findings of one comparison and what they mean for the gate."""

    findings: list[Finding]
    old_version: str
    new_version: str
    changelog: Path | None
    fail_on: str

    def count(self, severity: str) -> int:
        """How many findings have a severity."""
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def bumped(self) -> bool:
        """info.version announces a breaking change."""
        return version_bumped(self.old_version, self.new_version)

    @property
    def logged(self) -> bool:
        """The changelog names the new version."""
        return changelog_names(self.changelog, self.new_version)

    @property
    def accepted(self) -> bool:
        """The breaking changes (if any) are deliberate: version bumped and changelog line written."""
        return self.bumped and self.logged

    @property
    def failing(self) -> list[Finding]:
        """The findings that fail the gate under --fail-on, unless accepted."""
        levels = {"breaking": ("breaking",), "warning": ("breaking", "warning"), "never": ()}[self.fail_on]
        return [] if self.accepted else [f for f in self.findings if f.severity in levels]

    @property
    def exit_code(self) -> int:
        """1 when the gate fails, else 0."""
        return 1 if self.failing else 0

    def how_to_accept(self) -> str:
        """One sentence on the state of acceptance."""
        name = self.changelog.name if self.changelog else "CHANGELOG.md"
        if self.accepted:
            return f"accepted: info.version {self.old_version} -> {self.new_version} and {name} names it"
        wanted = [] if self.bumped else [f"bump info.version (now {self.new_version})"]
        wanted += [] if self.logged else [f"add a line naming the new version to {name}"]
        return "to accept a deliberate breaking change: " + " and ".join(wanted)

    def as_dict(self) -> dict[str, Any]:
        """The verdict as plain JSON data."""
        return {
            "findings": [f.as_dict() for f in self.findings],
            "counts": {s: self.count(s) for s in ("breaking", "warning", "info")},
            "version": {"old": self.old_version, "new": self.new_version, "bumped": self.bumped},
            "changelog": {"path": str(self.changelog) if self.changelog else None, "names_version": self.logged},
            "accepted": self.accepted,
            "fail_on": self.fail_on,
            "exit_code": self.exit_code,
        }
