"""The command line of one conformance run in its own process, as the developer tools (selftest, interop,
variations, timing) start it: the installed module, so that it works from a wheel as from a checkout."""

from __future__ import annotations

import sys
from pathlib import Path

from accounting_conformance.conformance.settings import DEFAULT_TOKEN


def suite_command(
    *, profile: str, seed: int, report_dir: Path | str, target: str | None = None, fixtures: Path | None = None
) -> list[str]:
    """`python -m accounting_conformance.conformance` with a profile, a seed and a report folder; against target
    (with the default token and the fixtures) when given, else the embedded reference server."""
    command = [sys.executable, "-m", "accounting_conformance.conformance"]
    if target is not None:
        command += ["--target", target, "--access-token", DEFAULT_TOKEN]
        if fixtures is not None:
            command += ["--fixtures", str(fixtures)]
    return [*command, "--profile", profile, "--seed", str(seed), "--report-dir", str(report_dir)]
