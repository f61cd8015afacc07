"""`python -m conformance.bench_remote`: the time to a verdict when the target is far away (a benchmark).

For each profile and added delay: a fresh reference server, the latency proxy in front of it (at 0 ms too, so that
the proxy's own cost is in every row), and the suite in its own process against the proxy (the target and the token
in its environment, a throwaway report folder). Prints profile, delay, requests the proxy forwarded, wall time,
requests per second and the ratio to the profile's 0 ms wall time, then the requests and seconds of each phase; writes
all of it, with each test's requests and seconds, as JSON (build/bench-remote.json). A run that does not exit 0 is
shown as such and the benchmark goes on (exit 1; 2 if interrupted). The tests' spans come from this module itself, loaded into
the suite's pytest as a plugin (PYTEST_PLUGINS) that only writes down when each test starts and ends.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from accounting_conformance.conformance import selftest_runs
from accounting_conformance.conformance.bench_timeline import TIMELINE
from accounting_conformance.conformance.commands import suite_command
from accounting_conformance.conformance.embedded import EmbeddedServer
from accounting_conformance.conformance.latency_proxy import LatencyProxy
from accounting_conformance.conformance.plugin import PHASES
from accounting_conformance.conformance.settings import DEFAULT_FIXTURES, DEFAULT_TOKEN, ENV, PROFILES, REPO, Settings

OUTSIDE = "(outside tests)"  # start-up, collection, the preflight request, the reports
NO_PHASE = "(no phase)"
PLUGIN = "accounting_conformance.conformance.bench_timeline"  # loaded into the suite's pytest


@dataclass
class Row:
    """One run: a profile at one added delay and CONCURRENCY, and where its requests and seconds went."""

    profile: str
    delay_ms: int
    concurrency: int = Settings.concurrency
    requests: int = 0
    seconds: float = 0.0
    exit_code: int | None = None  # None: timed out, or the server or the proxy did not start
    note: str = ""
    connections: int = 0  # client connections the proxy accepted: each costs a round trip or more on a real network
    proxy_broken: int = 0  # connections the proxy cut (a target or client that closed early or sent garbage)
    phases: dict[str, dict[str, float]] = field(default_factory=dict)  # phase -> tests, requests, seconds
    tests: list[dict[str, Any]] = field(default_factory=list)  # test, phase, requests, seconds

    @property
    def rate(self) -> float:
        """Requests per second of wall time."""
        return self.requests / self.seconds if self.seconds else 0.0


def attribute(
    row: Row, spans: list[dict[str, Any]], arrivals: Sequence[tuple[float, str]], sent: Sequence[dict[str, Any]] = ()
) -> list[str]:
    """Count each test's requests, then sum the tests by phase; the test of each request, in their order. With the
    suite's own counts (`sent`: each test's requests, first and last, from its recorder) those are the tests' and a
    phase's seconds are from its first request to its last (phases side by side overlap); without them, each
    request is the test's whose span holds its arrival."""
    if sent:
        return _attribute_sent(row, spans, sent, len(arrivals))
    spans = sorted(spans, key=lambda span: float(span["start"]))
    starts = [float(span["start"]) for span in spans]
    counts, outside, owners = [0] * len(spans), 0, []
    for arrival, _request in arrivals:
        at = bisect.bisect_right(starts, arrival) - 1
        if at >= 0 and arrival <= float(spans[at]["end"]):
            counts[at] += 1
            owners.append(spans[at]["test"])
        else:
            outside += 1
            owners.append(OUTSIDE)
    row.tests = [
        {"test": s["test"], "phase": s["phase"] or NO_PHASE, "requests": n, "seconds": round(s["end"] - s["start"], 4)}
        for s, n in zip(spans, counts, strict=True)
    ]
    for test in row.tests:
        phase = row.phases.setdefault(test["phase"], {"tests": 0, "requests": 0, "seconds": 0.0})
        phase["tests"] += 1
        phase["requests"] += test["requests"]
        phase["seconds"] += test["seconds"]
    rest = row.phases.setdefault(OUTSIDE, {"tests": 0, "requests": 0, "seconds": 0.0})
    rest["requests"] += outside
    rest["seconds"] += max(0.0, row.seconds - sum(test["seconds"] for test in row.tests))
    return owners


def _attribute_sent(row: Row, spans: list[dict[str, Any]], sent: Sequence[dict[str, Any]], total: int) -> list[str]:
    phase_of = {span["test"]: span["phase"] or NO_PHASE for span in spans}
    by_test = {entry["sent"]: entry for entry in sent}
    row.tests = [
        {
            "test": s["test"],
            "phase": phase_of[s["test"]],
            "requests": int(by_test.get(s["test"], {}).get("requests", 0)),
            "seconds": round(s["end"] - s["start"], 4),
        }
        for s in sorted(spans, key=lambda span: float(span["start"]))
    ]
    busy: dict[str, list[float]] = {}
    for test in row.tests:
        phase = row.phases.setdefault(test["phase"], {"tests": 0, "requests": 0, "seconds": 0.0})
        phase["tests"] += 1
        phase["requests"] += test["requests"]
        if test["test"] in by_test:
            first, last = float(by_test[test["test"]]["first"]), float(by_test[test["test"]]["last"])
            window = busy.setdefault(test["phase"], [first, last])
            window[0], window[1] = min(window[0], first), max(window[1], last)
    for name, (first, last) in busy.items():
        row.phases[name]["seconds"] = round(last - first, 4)
    attributed = sum(test["requests"] for test in row.tests)
    row.phases[OUTSIDE] = {"tests": 0, "requests": max(0, total - attributed), "seconds": 0.0}
    return ["(by the suite's recorder)"] * total


def run_one(profile: str, delay_ms: int, seed: int, timeout: float, work: Path, concurrency: int) -> Row:
    """The suite with `profile` and CONCURRENCY against a fresh reference server behind the proxy adding `delay_ms`."""
    row, timeline = Row(profile, delay_ms, concurrency), work / "timeline.jsonl"
    work.mkdir(parents=True, exist_ok=True)
    plugins = ",".join(filter(None, [os.environ.get("PYTEST_PLUGINS"), PLUGIN]))
    try:
        with EmbeddedServer(DEFAULT_TOKEN) as server:
            proxy = LatencyProxy(server.url, delay_ms)
            with proxy as url:
                env = {ENV["target"]: url, ENV["access_token"]: DEFAULT_TOKEN, ENV["fixtures"]: str(DEFAULT_FIXTURES)}
                env |= {"PYTEST_PLUGINS": plugins, TIMELINE: str(timeline), ENV["concurrency"]: str(concurrency)}
                command = suite_command(profile=profile, seed=seed, report_dir=work / "report")
                row.exit_code, row.seconds = selftest_runs.run_process(
                    command, work, work / "suite.log", timeout, selftest_runs.clean_env(env)
                )
            row.requests, row.connections, row.proxy_broken = proxy.requests, proxy.connections, proxy.broken
    except RuntimeError as exc:
        row.note = str(exc).splitlines()[0][:120]
        return row
    if row.exit_code is None:
        row.note = f"timed out after {timeout:g} s"
    elif row.exit_code != 0:  # the suite's last line says why
        log = (work / "suite.log").read_text(errors="replace").strip().splitlines() or [f"exit {row.exit_code}"]
        row.note = log[-1][:120]
    lines = (
        [json.loads(line) for line in timeline.read_text(encoding="utf-8").splitlines()] if timeline.is_file() else []
    )
    spans, sent = [e for e in lines if "test" in e], [e for e in lines if "sent" in e]
    owners = attribute(row, spans, proxy.arrivals, sent)
    with (work / "requests.jsonl").open("w", encoding="utf-8") as out:  # for a closer look (--keep)
        for (at, request), test in zip(proxy.arrivals, owners, strict=True):
            out.write(json.dumps({"at": at, "request": request, "test": test}) + "\n")
    return row


def ratio(row: Row, rows: Sequence[Row]) -> float | None:
    """The row's wall time over its profile's at 0 ms and the same CONCURRENCY (None without such a run that
    exited 0)."""
    base = [
        r
        for r in rows
        if (r.profile, r.concurrency) == (row.profile, row.concurrency) and r.delay_ms == 0 and r.exit_code == 0
    ]
    base = [r for r in base if r.seconds]
    return row.seconds / base[0].seconds if base else None


def table(rows: Sequence[Row]) -> list[str]:
    """The benchmark table: one line per run."""
    lines = [
        f"{'profile':<9} {'conc':>4} {'delay ms':>8} {'requests':>8} {'conns':>6} {'wall s':>8} {'req/s':>7} {'ratio':>6}"
        "  exit"
    ]
    for row in rows:
        share = ratio(row, rows)
        code = "-" if row.exit_code is None else str(row.exit_code)
        lines.append(
            f"{row.profile:<9} {row.concurrency:>4} {row.delay_ms:>8} {row.requests:>8} {row.connections:>6} {row.seconds:>8.1f} {row.rate:>7.1f} "
            f"{'-' if share is None else f'{share:.2f}':>6}  {code}{'  ' + row.note if row.note else ''}"
        )
    return lines


def phase_table(profile: str, concurrency: int, rows: Sequence[Row]) -> list[str]:
    """Requests and seconds of each phase of one profile and CONCURRENCY at each delay, in the order the phases run."""
    runs = [row for row in rows if (row.profile, row.concurrency) == (profile, concurrency)]
    head = f"{f'{profile} x{concurrency}: phase':<24} {'tests':>5}" + "".join(
        f" {f'req@{r.delay_ms}':>8} {f's@{r.delay_ms}':>7}" for r in runs
    )
    lines = [head]
    for phase in [*PHASES, NO_PHASE, OUTSIDE]:
        seen = [row.phases.get(phase) for row in runs]
        if any(seen):
            tests = max(int(entry["tests"]) for entry in seen if entry)
            cells = "".join(f" {int(e['requests']) if e else 0:>8} {e['seconds'] if e else 0.0:>7.1f}" for e in seen)
            lines.append(f"{phase:<24} {tests:>5}{cells}")
    return lines


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run every profile at every delay, print the tables and write the JSON; 1 if a run did not exit 0, 2 if
    interrupted (SIGINT, SIGTERM) or given bad options."""
    parser = argparse.ArgumentParser(prog="conformance.bench_remote", description=__doc__)
    parser.add_argument("--delays", default="0,25,50", help="milliseconds added before each response (default 0,25,50)")
    parser.add_argument("--profiles", default="quick,default", help="comma-separated profiles (default quick,default)")
    parser.add_argument(
        "--concurrency",
        default=str(Settings.concurrency),
        help=f"comma-separated CONCURRENCY values, each a set of runs (default {Settings.concurrency}; 1 sends one request "
        "at a time, as the suite did before its streams)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of every run (default 1)")
    parser.add_argument("--json", type=Path, default=REPO / "build" / "bench-remote.json", help="where the JSON goes")
    parser.add_argument("--keep", type=Path, help="keep each run's folder (report, log, timeline) under this one")
    parser.add_argument("--timeout", type=float, help="seconds before a run is stopped (default 20 x budget + 300)")
    options = parser.parse_args(argv)
    profiles = [name.strip() for name in options.profiles.split(",") if name.strip()]
    if unknown := [name for name in profiles if name not in PROFILES]:
        parser.error(f"unknown profile(s) {', '.join(unknown)}; choose from {', '.join(PROFILES)}")
    try:
        delays = sorted({int(text) for text in options.delays.split(",") if text.strip()})
    except ValueError:
        parser.error(f"--delays must be whole milliseconds separated by commas, got {options.delays!r}")
    if not delays or min(delays) < 0:
        parser.error("--delays must name at least one delay, none below 0")
    try:
        widths = list(dict.fromkeys(int(text) for text in options.concurrency.split(",") if text.strip()))
    except ValueError:
        parser.error(f"--concurrency must be whole numbers separated by commas, got {options.concurrency!r}")
    if not widths or min(widths) < 1:
        parser.error("--concurrency must name at least one value, none below 1")
    root = options.keep or Path(tempfile.mkdtemp(prefix="bench-remote-"))
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; seed {options.seed}", flush=True)
    rows: list[Row] = []
    interrupted = False
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        for profile in profiles:
            timeout = options.timeout or 20 * PROFILES[profile].budget_seconds + 300
            for width in widths:
                for delay in delays:
                    work = root / f"{profile}-x{width}-{delay}ms"
                    rows.append(run_one(profile, delay, options.seed, timeout, work, width))
                    print(table(rows)[-1], flush=True)
    except KeyboardInterrupt:
        selftest_runs.stop_all()
        interrupted = True
        print("bench-remote: interrupted; the runs so far:", file=sys.stderr)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if options.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print("\n".join(["", *table(rows)]))
    for profile, concurrency in dict.fromkeys((row.profile, row.concurrency) for row in rows):
        print("\n".join(["", *phase_table(profile, concurrency, rows)]))
    options.json.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "cpus": os.cpu_count(),
        "seed": options.seed,
        "runs": [{**asdict(row), "requests_per_second": row.rate, "ratio": ratio(row, rows)} for row in rows],
    }
    options.json.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nbench-remote: {options.json}")
    return 2 if interrupted else 0 if rows and all(row.exit_code == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
