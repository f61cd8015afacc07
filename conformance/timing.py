"""`python -m conformance.timing`: how long each profile takes against the reference server (a benchmark)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

from accounting_conformance.conformance.commands import suite_command
from accounting_conformance.conformance.settings import PROFILES, REPO


def time_profile(profile: str, seed: int) -> tuple[float, int]:
    """Wall seconds and exit code of one run of the suite with this profile and seed."""
    with tempfile.TemporaryDirectory() as reports:
        started = time.monotonic()
        done = subprocess.run(
            suite_command(profile=profile, seed=seed, report_dir=reports),
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        return time.monotonic() - started, done.returncode


def main(argv: Sequence[str] | None = None) -> int:
    """Time the chosen profiles and print one line each against their budgets."""
    parser = argparse.ArgumentParser(prog="conformance.timing", description=__doc__)
    parser.add_argument("--profiles", default="quick,default", help="comma-separated profiles (default quick,default)")
    parser.add_argument("--seed", type=int, default=1, help="seed of every run (default 1)")
    options = parser.parse_args(argv)
    names = [name.strip() for name in options.profiles.split(",") if name.strip()]
    unknown = [name for name in names if name not in PROFILES]
    if unknown:
        parser.error(f"unknown profile(s) {', '.join(unknown)}; choose from {', '.join(PROFILES)}")
    print(f"machine: {os.cpu_count()} CPUs; seed {options.seed}")
    print(f"{'profile':<10} {'seconds':>8} {'budget':>7} {'exit':>5}")
    worst = 0
    for name in names:
        seconds, code = time_profile(name, options.seed)
        budget = PROFILES[name].budget_seconds
        print(f"{name:<10} {seconds:8.1f} {budget:7d} {code:5d}{'  OVER BUDGET' if seconds > budget else ''}")
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main())
