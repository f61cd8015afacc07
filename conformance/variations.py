"""`python -m conformance.variations`: the suite must not cry wolf on legitimate variation.

For each variation of `reference_server/variations.py` (a way a server may differ from the reference
server that the contract or HTTP permits): start the embedded reference server, the variation proxy in
front of it, and `python -m conformance --target PROXY` against the proxy. A variation passes only with
exit 0; any other exit is a false alarm. Prints one line per variation and `variations run N, false alarms
M`; exit 0 iff M == 0, 2 on bad options or when interrupted. Every process started is stopped, on SIGTERM too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from accounting_conformance.conformance import selftest_runs
from accounting_conformance.conformance.commands import suite_command
from accounting_conformance.conformance.embedded import EmbeddedServer, free_port
from accounting_conformance.conformance.settings import DEFAULT_FIXTURES, DEFAULT_TOKEN, PROFILES, REPO
from accounting_conformance.reference_server import variations as catalogue
from accounting_conformance.reference_server.variations import select

CLEAN, FALSE_ALARM, ERROR = "clean", "FALSE ALARM", "error"


@dataclass
class VariationRun:
    """One suite run through the proxy with one variation, and what it reported."""

    variation: str
    seed: int
    exit_code: int | None = None  # None: timed out, or the harness could not start the proxy or server
    found: list[str] = field(default_factory=list)  # the failing rules
    failures: list[dict[str, str]] = field(default_factory=list)  # test, rule, expected, received, detail
    seconds: float = 0.0
    applied: int | None = None  # how often the proxy applied the variation (None: not reported)
    proxy_errors: int = 0  # requests the proxy itself failed on (its bug: the run judges nothing)
    note: str = ""
    log: str = ""

    @property
    def verdict(self) -> str:
        """clean (exit 0), FALSE ALARM (the suite failed or could not judge a legitimate server), error (the
        harness failed: timeout, a proxy that did not start or raised)."""
        if self.proxy_errors:
            return ERROR
        if self.exit_code == 0:
            return CLEAN
        return FALSE_ALARM if self.exit_code is not None else ERROR


def start_proxy(
    upstream: str, names: Sequence[str], workdir: Path, seed: int, timeout: float = 20.0
) -> tuple[Any, str]:
    """Start the variation proxy in front of `upstream` in its own process group; (process, base URL)."""
    for _attempt in (1, 2):  # a port taken between picking and binding: pick again
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "accounting_conformance.reference_server.variations",
            "--upstream",
            upstream,
            "--port",
            str(port),
            "--seed",
            str(seed),
            *[f"--variation={name}" for name in names],
        ]
        proc = selftest_runs.spawn(command, REPO, workdir / "proxy.log", selftest_runs.clean_env())
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None and not selftest_runs.STOPPING.is_set():
            try:
                httpx.get(f"{url}/jobs/probe", timeout=1)
                return proc, url
            except httpx.TransportError:
                time.sleep(0.1)
        selftest_runs.reap(proc)
    raise RuntimeError(f"the variation proxy did not start: {(workdir / 'proxy.log').read_text()[-500:]}")


def applied(proxy_log: Path) -> dict[str, int]:
    """The counts the proxy printed on its way out: how often each variation changed something."""
    text = proxy_log.read_text(errors="replace") if proxy_log.is_file() else ""
    lines = [line for line in text.splitlines() if line.startswith("variations applied: ")]
    try:
        return dict(json.loads(lines[-1].split(": ", 1)[1])) if lines else {}
    except ValueError:
        return {}


def _failures(summary: dict[str, Any]) -> list[dict[str, str]]:
    found = [
        {k: str(f.get(k) or "") for k in ("test", "rule", "expected", "received", "detail")}
        for f in summary.get("failures", [])
    ]
    found += [
        {
            "test": e.get("test", ""),
            "rule": "SUITE-ERROR",
            "expected": "",
            "received": "",
            "detail": str(e.get("traceback", ""))[-1500:],
        }
        for e in summary.get("suite_errors", [])
    ]
    return found


def run_variation(name: str, seed: int, profile: str, workdir: Path, timeout: float) -> VariationRun:
    """The suite against the reference server behind the proxy with one variation."""
    report_dir, log = workdir / "report", workdir / "conformance.log"
    report_dir.mkdir(parents=True, exist_ok=True)
    run = VariationRun(name, seed, log=str(log))
    server = EmbeddedServer(DEFAULT_TOKEN)
    proxy = None
    try:
        upstream = server.start()
        proxy, url = start_proxy(upstream, [name], workdir, seed)
        command = suite_command(
            profile=profile, seed=seed, report_dir=report_dir, target=url, fixtures=DEFAULT_FIXTURES
        )
        # cwd = the run's own directory: its own .hypothesis example database
        run.exit_code, run.seconds = selftest_runs.run_process(
            command, workdir, log, timeout, selftest_runs.clean_env()
        )
    except RuntimeError as exc:
        run.note = str(exc).splitlines()[0][:120]
        return run
    finally:
        if proxy is not None:
            selftest_runs.reap(proxy)
            counts = applied(workdir / "proxy.log")
            run.applied, run.proxy_errors = counts.get(name, 0), counts.get("proxy-errors", 0)
        server.stop()
    summary = report_dir / "summary.json"
    if summary.is_file():
        run.failures = _failures(json.loads(summary.read_text()))
        run.found = list(dict.fromkeys(f["rule"] for f in run.failures))
    if run.proxy_errors:
        run.note = f"PROXY BUG: {run.proxy_errors} request(s) failed in the proxy, see proxy.log"
    elif run.exit_code is None:
        run.note = f"timed out after {timeout:g} s"
    elif run.exit_code not in (0, 1):
        text = log.read_text(errors="replace") if log.is_file() else ""
        reasons = [
            line.split("could not judge:", 1)[1].strip() for line in text.splitlines() if "could not judge:" in line
        ]
        run.note = (reasons[-1] if reasons else f"exit {run.exit_code}")[:160]
    return run


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table(runs: Sequence[VariationRun]) -> list[str]:
    """One line per variation, the details of every false alarm, and the totals line."""
    width = max([len("variation")] + [len(r.variation) for r in runs])
    head = (
        f"{'variation':<{width}}  {'citation':<44}  {'exit':>4}  {'verdict':<11}  {'false alarms (rules)':<34}  "
        f"{'secs':>5}  {'applied':>7}"
    )
    lines = [head, "-" * len(head)]
    for run in runs:
        alarms = ",".join(run.found) or run.note or "-"
        exit_text = "-" if run.exit_code is None else str(run.exit_code)
        lines.append(
            f"{run.variation:<{width}}  {_cut(catalogue.by_name(run.variation).citation, 44):<44}  "
            f"{exit_text:>4}  {run.verdict:<11}  {_cut(alarms, 34):<34}  {run.seconds:>5.1f}  "
            f"{'-' if run.applied is None else run.applied:>7}"
        )
    lines.append("-" * len(head))
    alarmed = [r for r in runs if r.verdict != CLEAN]
    for run in alarmed:
        lines.append(
            f"{run.verdict} {run.variation} (exit {run.exit_code}{', ' + run.note if run.note else ''}) - log {run.log}"
        )
        for failure in run.failures[:12]:
            lines.append(f"  {failure['rule']}  {failure['test']}")
            if failure["expected"]:
                lines.append(f"    Expected: {_cut(failure['expected'], 300)}")
                lines.append(f"    Received: {_cut(failure['received'], 300)}")
            else:
                lines.append(f"    {_cut(' '.join(failure['detail'].split()), 300)}")
        if len(run.failures) > 12:
            lines.append(f"  ... and {len(run.failures) - 12} more failures (see variations.json)")
    lines.append(
        f"variations run {len(runs)}, false alarms {len(alarmed)}"
        + (f" ({', '.join(r.variation for r in alarmed)})" if alarmed else "")
    )
    harness = [r.variation for r in runs if r.verdict == ERROR]
    if harness:
        lines.append(
            f"  of which the harness failed (timeout, proxy start or proxy bug; not the suite's fault): {', '.join(harness)}"
        )
    unused = [r.variation for r in runs if r.applied == 0]
    if unused:
        lines.append(
            f"  never applied (the run did not exercise them; a clean verdict proves little): {', '.join(unused)}"
        )
    return lines


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(
        prog="python -m conformance.variations",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--variations", help="all (default), none, or comma-separated variation names")
    p.add_argument("--profile", choices=list(PROFILES), default="quick", help="the suite's profile (default: quick)")
    p.add_argument("--seed", type=int, help="seed of every run (default: random)")
    p.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="runs at once (default: 2, at most the CPUs)"
    )
    p.add_argument(
        "--timeout", type=float, help="seconds before one run is stopped (default: 6 x the profile's budget + 120)"
    )
    p.add_argument(
        "--report-dir", default="reports/variations", help="where variations.json, table.txt and the runs go"
    )
    p.add_argument("--list", action="store_true", help="list the variations with their citations and exit")
    return p


def run_all(
    names: Sequence[str], profile: str, seed: int, jobs: int, workroot: Path, timeout: float
) -> list[VariationRun]:
    """Run the variations, `jobs` at once, printing each as it ends; in catalogue order."""
    done: list[VariationRun] = []

    def report(run: VariationRun) -> None:
        done.append(run)
        print(
            f"[{len(done):>3}/{len(names)}] variation {run.variation:<28} {run.verdict:<11} "
            f"{_cut(','.join(run.found) or run.note or '-', 50):<50} {run.seconds:.0f} s",
            flush=True,
        )

    selftest_runs.run_all(lambda n: run_variation(n, seed, profile, workroot / n, timeout), names, jobs, report)
    return sorted(done, key=lambda r: list(names).index(r.variation))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the variations; 0 no false alarm, 1 a false alarm, 2 bad options or interrupted."""
    options = parser().parse_args(argv)
    try:
        names = select(options.variations)
    except catalogue.UnknownVariation as exc:
        print(f"variations: {exc}", file=sys.stderr)
        return 2
    if options.list:
        print("\n".join(catalogue.describe(names)))
        return 0
    if options.jobs < 1:
        print("variations: --jobs must be >= 1", file=sys.stderr)
        return 2
    profile = PROFILES[options.profile]
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**31 - 100)
    report_dir = Path(options.report_dir).resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    workroot = Path(tempfile.mkdtemp(prefix="run-", dir=report_dir))
    print(
        f"variations: profile {profile.name}, seed {seed}, {len(names)} variation(s), {options.jobs} at once; "
        f"runs in {workroot}",
        flush=True,
    )
    started = time.monotonic()
    try:
        runs = run_all(
            names, profile.name, seed, options.jobs, workroot, options.timeout or 6 * profile.budget_seconds + 120
        )
    except KeyboardInterrupt:
        print("variations: interrupted; every process started was stopped", file=sys.stderr)
        return 2
    lines = table(runs) + [f"elapsed {time.monotonic() - started:.0f} s; runs and logs in {workroot}"]
    print("\n" + "\n".join(lines))
    (report_dir / "table.txt").write_text("\n".join(lines) + "\n")
    (report_dir / "variations.json").write_text(
        json.dumps(
            {
                "profile": profile.name,
                "seed": seed,
                "runs": [
                    {**asdict(r), "verdict": r.verdict, "citation": catalogue.by_name(r.variation).citation}
                    for r in runs
                ],
            },
            indent=2,
        )
    )
    return 0 if all(r.verdict == CLEAN for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
