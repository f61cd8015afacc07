"""`python -m conformance.reliability` (`make reliability`): hostile targets and input, crashes and load, in one table.

Runs, one after another and each as a subprocess, the pytest modules that attack the suite and the
reference server (broken targets, secret leaks, hostile input, races, SIGKILL mid-stream, restarts)
and `python -m reference_server.loadmix`, then prints one table of what they established and a last
line saying whether anything was lost. Exit 0 only when every part passed and nothing was lost.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accounting_conformance.conformance.settings import REPO

BUDGET_S = 420.0  # a part that would start after this is not run (and fails): the whole run stays bounded
LOAD_SECONDS, LOAD_CLIENTS = 10, 4
OUTCOME = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)\b")
SUMMARY = re.compile(r"\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|deselected).* in [\d.]+s")


@dataclass
class Part:
    """One subprocess of the run and what it showed."""

    name: str
    command: list[str]
    timeout_s: float
    returncode: int | None = None  # None: not run, or killed at its timeout
    output: str = ""
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    is_pytest: bool = False

    @property
    def collected(self) -> int:
        """Tests pytest ran (not deselected)."""
        return sum(n for outcome, n in self.counts.items() if outcome != "deselected")

    @property
    def ok(self) -> bool:
        """Exit 0, and (for pytest) at least one test, all passed."""
        if self.returncode != 0:
            return False
        return not self.is_pytest or self.collected == self.counts.get("passed", 0) > 0


def pytest_part(name: str, module: str, timeout_s: float) -> Part:
    """A pytest run of one module, quiet and without cache."""
    return Part(
        name, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", module], timeout_s, is_pytest=True
    )


def outcomes(output: str) -> dict[str, int]:
    """The counts of pytest's last summary line (`3 passed, 1 failed in 2.0s`)."""
    lines = [line for line in output.splitlines() if SUMMARY.search(line)]
    if not lines:
        return {}
    counts: dict[str, int] = {}
    for number, outcome in OUTCOME.findall(lines[-1]):
        counts["error" if outcome.startswith("error") else outcome] = int(number)
    return counts


def run(part: Part, env: dict[str, str]) -> None:
    """Run the part in its own process group; kill the group at its timeout."""
    began = time.monotonic()
    process = subprocess.Popen(
        part.command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        part.output, _ = process.communicate(timeout=part.timeout_s)
        part.returncode = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        part.output = (process.communicate(timeout=30)[0] or "") + f"\n[killed after {part.timeout_s:g} s]"
    part.seconds = time.monotonic() - began
    part.counts = outcomes(part.output)


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSON-lines file (none if it is missing)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def tests_passed(part: Part) -> str:
    """`passed/collected`."""
    return f"{part.counts.get('passed', 0)}/{part.collected}"


def crash_result(part: Part, runs: list[dict[str, Any]], lost: list[str]) -> str:
    """The crash runs' figures; what they lost is added to `lost`."""
    if not runs or len(runs) != part.collected:
        lost.append(f"unknown: {len(runs)} of {part.collected} crash runs reported figures")
        return f"{len(runs)} of {part.collected} runs reported figures"
    total = {
        key: sum(int(r[key]) for r in runs)
        for key in ("acknowledged", "acknowledged_applications", "in_flight", "lost", "inconsistent")
    }
    if total["lost"]:
        lost.append(f"{total['lost']} acknowledged writes after SIGKILL")
    if total["inconsistent"]:
        lost.append(f"{total['inconsistent']} objects half-applied or off balance after SIGKILL")
    return (
        f"{len(runs)} SIGKILLs, {total['acknowledged']} acknowledged writes ({total['acknowledged_applications']} "
        f"applications), {total['in_flight']} cut in flight; acknowledged writes lost {total['lost']}, "
        f"inconsistent objects {total['inconsistent']}"
    )


def load_result(part: Part, figures: dict[str, Any] | None) -> str:
    """Throughput, p99 and error rate of the mixed load."""
    if figures is None:
        return "no figures"
    total = figures["rows"]["total"]
    return (
        f"{total['req_per_s']:.1f} req/s, p99 {total['p99_ms']:.1f} ms, error rate {total['error_rate']:.2%} "
        f"({total['requests']} requests, {total['rejected']} expected 400s, {figures['clients']} clients, "
        f"{figures['seconds']:g} s)"
    )


def rows_of(
    parts: dict[str, Part], crash_runs: list[dict[str, Any]], load: dict[str, Any] | None, lost: list[str]
) -> list[tuple[str, str, Part]]:
    """(figure, result, part) per line of the table."""
    p = parts
    if not p["persistence"].ok:
        lost.append(
            "a restart changed what clients read (test_persistence failed)"
            if p["persistence"].collected
            else "unknown: the restart check did not complete"
        )

    def passed(part: Part, text: str) -> str:
        return text if part.ok else f"FAILED: {tests_passed(part)} tests passed"

    return [
        ("hostile-target scenarios survived", tests_passed(p["hostile"]), p["hostile"]),
        (
            "secret leak checks passed",
            f"{tests_passed(p['secrets'])} (token, basic id/secret/base64; stdout, stderr, every report)",
            p["secrets"],
        ),
        (
            "bad inputs answered 4xx",
            f"{tests_passed(p['input'])} test_http cases (never 5xx, nothing stored)",
            p["input"],
        ),
        (
            "concurrency",
            passed(p["concurrency"], "50 x 30.00 on a memo of 100.00: 3 ok / 47 OVER_APPLICATION, remaining 10.00"),
            p["concurrency"],
        ),
        (
            "idempotency",
            passed(
                p["concurrency"],
                "20 x one Idempotency-Key: 20 x 200, identical bodies, money moved once (remaining 70.00)",
            ),
            p["concurrency"],
        ),
        ("crash runs", crash_result(p["crash"], crash_runs, lost), p["crash"]),
        ("restart", passed(p["persistence"], "every read byte for byte as before the restart"), p["persistence"]),
        ("load (mixed)", load_result(p["load"], load), p["load"]),
    ]


def table(rows: Sequence[tuple[str, str, Part]], seconds: float) -> str:
    """The figures, one line each, with the part's time and verdict."""
    width = max(len(figure) for figure, _, _ in rows)
    lines = [f"{'figure':<{width}}  {'verdict':<7}  {'s':>5}  result"]
    for figure, result, part in rows:
        lines.append(f"{figure:<{width}}  {'ok' if part.ok else 'FAIL':<7}  {part.seconds:>5.0f}  {result}")
    lines.append(f"{'total runtime':<{width}}  {'':<7}  {seconds:>5.0f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every part, print the table and the lost line; 1 if any part failed or anything was lost."""
    argparse.ArgumentParser(prog="conformance.reliability", description=__doc__.splitlines()[0]).parse_args(argv)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp:
        crash_file, load_file = Path(tmp) / "crash.jsonl", Path(tmp) / "load.json"
        parts = {
            "hostile": pytest_part("hostile targets", "tests/unit/test_hostile_targets.py", 200),
            "secrets": pytest_part("secrets", "tests/unit/test_secrets.py", 200),
            "input": pytest_part("hostile input", "tests/unit/server/test_http.py", 120),
            "concurrency": pytest_part("concurrency", "tests/unit/server/test_concurrency.py", 120),
            "crash": pytest_part("crash", "tests/unit/server/test_crash.py", 120),
            "persistence": pytest_part("persistence", "tests/unit/server/test_persistence.py", 120),
            "load": Part(
                "load",
                [
                    sys.executable,
                    "-m",
                    "accounting_conformance.reference_server.loadmix",
                    "--seconds",
                    str(LOAD_SECONDS),
                    "--clients",
                    str(LOAD_CLIENTS),
                    "--json",
                    str(load_file),
                ],
                LOAD_SECONDS + 90,
            ),
        }
        env = {**os.environ, "RELIABILITY_FIGURES": str(crash_file)}
        for part in parts.values():
            if time.monotonic() - began > BUDGET_S:
                part.output = f"not run: the {BUDGET_S:g} s budget was spent"
                continue
            print(f"reliability: {part.name} ...", file=sys.stderr, flush=True)
            run(part, env)
        crash_runs = read_json_lines(crash_file)
        load = json.loads(load_file.read_text()) if load_file.exists() else None
    for part in parts.values():
        if not part.ok:
            print(
                f"--- {part.name}: exit {part.returncode}, last lines ---\n"
                + "\n".join(part.output.splitlines()[-40:]),
                file=sys.stderr,
            )
    lost: list[str] = []
    print(table(rows_of(parts, crash_runs, load, lost), time.monotonic() - began))
    print(f"anything lost: {'; '.join(lost) if lost else 'none'}")
    return 0 if all(part.ok for part in parts.values()) and not lost else 1


if __name__ == "__main__":
    sys.exit(main())
