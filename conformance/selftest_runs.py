"""The runs a selftest is made of: one `python -m conformance` or one plain `schemathesis run`, with or
without a fault of the reference server, each in its own process group, and what each one found."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from accounting_conformance.conformance.commands import suite_command
from accounting_conformance.conformance.embedded import EmbeddedServer
from accounting_conformance.conformance.resources import contract_path
from accounting_conformance.conformance.settings import DEFAULT_TOKEN, ENV, REPO

CAUGHT, MISSED, ERROR = "caught", "missed", "error"
J = TypeVar("J")
T = TypeVar("T")
SPEC = contract_path()


@dataclass
class Run:
    """One run of the suite or of the plain CLI, with or without a fault, and what it found."""

    tool: str  # "suite" | "cli"
    fault: str | None
    seed: int
    exit_code: int | None = None  # None: timed out or did not start
    found: list[str] = field(default_factory=list)  # suite: rule IDs; cli: check names
    noise: list[str] = field(default_factory=list)  # cli: checks that only flagged documented rule refusals
    first_failure_seconds: float | None = None
    wall_seconds: float = 0.0
    note: str = ""
    states: dict[str, int] = field(default_factory=dict)  # suite: how often each document state was reached
    log: str = ""

    @property
    def label(self) -> str:
        """The fault's name, or `clean` for a run without one."""
        return self.fault or "clean"

    @property
    def verdict(self) -> str:
        """caught (violations reported), missed (conformant) or error (could not judge, timeout)."""
        if self.exit_code == 1:
            return CAUGHT if self.found or not self.noise else MISSED
        if self.exit_code == 0:
            return MISSED
        return ERROR


# ------------------------------------------------------------------------------------------- running


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without the suite's settings, so nothing redirects a run to another target."""
    env = {k: v for k, v in os.environ.items() if k not in ENV.values()}
    env.update(extra or {})
    return env


_LIVE: set[subprocess.Popen[bytes]] = set()  # every process group started here, for stop_all (by id)
_LIVE_LOCK = threading.Lock()
STOPPING = threading.Event()  # set by stop_all: start nothing more


def spawn(command: list[str], cwd: Path, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a command in its own process group, output appended to `log`, registered for `stop_all`."""
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    with _LIVE_LOCK:
        _LIVE.add(proc)
    return proc


def reap(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop a spawned process group (SIGTERM, then SIGKILL after `grace` s) and forget it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    with _LIVE_LOCK:
        _LIVE.discard(proc)


def stop_all() -> None:
    """Stop every process group still running (an interrupted selftest) and start no new one."""
    STOPPING.set()
    with _LIVE_LOCK:
        live = list(_LIVE)
    for proc in live:
        reap(proc, grace=5.0)


def run_process(
    command: list[str], cwd: Path, log: Path, timeout: float, env: dict[str, str]
) -> tuple[int | None, float]:
    """Run a command in its own process group, output to `log`; (exit code or None on timeout, seconds)."""
    started = time.monotonic()
    log.write_bytes(b"")
    if STOPPING.is_set():
        return None, 0.0
    proc = spawn(command, cwd, log, env)
    try:
        code: int | None = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        code = None  # the run and everything it started (its reference server) go with its group
    reap(proc)
    if STOPPING.is_set():
        code = None  # stopped by stop_all: not a verdict
    return code, time.monotonic() - started


_run_process = run_process  # run_suite and run_cli look it up at call time (tests replace it)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_all(work: Callable[[J], T], jobs: Sequence[J], workers: int, done: Callable[[T], None]) -> None:
    """`work(job)` for every job, `workers` at once, `done(result)` as each ends. SIGTERM ends it as Ctrl-C does:
    what has not started is cancelled, every process group started is stopped, and KeyboardInterrupt is raised."""
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(work, job) for job in jobs]
            try:
                for future in as_completed(futures):
                    done(future.result())
            except KeyboardInterrupt:
                pool.shutdown(wait=False, cancel_futures=True)
                stop_all()
                raise
    finally:
        if main:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def run_suite(
    fault: str | None, seed: int, profile: str, workdir: Path, timeout: float, *, stop_first: bool = False
) -> Run:
    """`python -m conformance` against the embedded reference server, with `fault` injected; `stop_first`
    ends the run at its first failing test (pytest -x), as a mutation tester stops once a mutant is killed."""
    run = Run("suite", fault, seed)
    report_dir = workdir / "report"
    report_dir.mkdir(parents=True, exist_ok=True)
    command = suite_command(profile=profile, seed=seed, report_dir=report_dir)
    if fault:
        command += ["--fault", fault]
    if stop_first:
        command += ["--", "-x"]
    log = workdir / "conformance.log"
    for attempt in (1, 2):
        # cwd = the run's own directory: its own .hypothesis example database
        run.exit_code, run.wall_seconds = _run_process(command, workdir, log, timeout, clean_env())
        text = log.read_text(errors="replace")
        if run.exit_code == 2 and "reference server exited at start" in text and attempt == 1:
            continue  # a port taken between picking and binding: start again
        break
    run.log = str(log)
    summary_path = report_dir / "summary.json"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        run.found = list(dict.fromkeys(f["rule"] for f in summary.get("failures", [])))
        run.first_failure_seconds = summary.get("first_failure_seconds")
        run.states = dict((summary.get("states") or {}).get("reached") or {})
    if run.exit_code is None:
        run.note = f"timed out after {timeout:g} s"
    elif run.exit_code not in (0, 1):
        reasons = [
            line.split("could not judge:", 1)[1].strip() for line in text.splitlines() if "could not judge:" in line
        ]
        run.note = (reasons[-1] if reasons else f"exit {run.exit_code}")[:120]
    return run


def schemathesis_command() -> str:
    """The schemathesis executable next to this Python, else on PATH."""
    local = Path(sys.executable).with_name("schemathesis")
    if local.exists():
        return str(local)
    found = shutil.which("schemathesis")
    if found is None:
        raise FileNotFoundError("schemathesis is not installed (pip install schemathesis)")
    return found


#: Error codes of the reference server's request validation: a 400 with any other code is a business rule.
_VALIDATION_CODES = frozenset({"INVALID_FIELD", "MISSING_FIELD", "MISSING_BODY", "INVALID_JSON"})


def _rule_refusal(interaction: dict[str, object] | None) -> bool:
    """True when a response is the contract's documented 400 for a business rule (OVER_APPLICATION, ...).

    The plain CLI's positive_data_acceptance flags those (the request is schema-valid), but the contract
    says they must be refused, whatever the server: they are false alarms, not findings.
    """
    response = (interaction or {}).get("response")
    if not isinstance(response, dict) or response.get("status_code") != 400:
        return False
    content = response.get("content")
    try:
        raw = base64.b64decode(content["$base64"]) if isinstance(content, dict) else str(content or "").encode()
        code = json.loads(raw).get("error_code")
    except (ValueError, TypeError, KeyError, AttributeError):
        return False
    return isinstance(code, str) and code not in _VALIDATION_CODES


def _cli_findings(ndjson: Path) -> tuple[list[str], list[str], float | None]:
    """From a `schemathesis run --report ndjson` file: the failed checks, the checks that only flagged rule
    refusals (false alarms), and seconds from the engine's start to the first real failure."""
    checks: dict[str, None] = {}
    noise: dict[str, None] = {}
    started = first = None
    with ndjson.open(encoding="utf-8", errors="replace") as events:
        for line in events:
            if line.startswith('{"EngineStarted"'):
                started = json.loads(line)["EngineStarted"]["timestamp"]
            if not line.startswith('{"ScenarioFinished"') or '"failure"' not in line:
                continue
            finished = json.loads(line)["ScenarioFinished"]
            recorder = finished.get("recorder") or {}
            interactions = recorder.get("interactions") or {}
            failed = []
            for case_id, results in (recorder.get("checks") or {}).items():
                for check in results:
                    if check.get("status") != "failure":
                        continue
                    if check["name"] == "positive_data_acceptance" and _rule_refusal(interactions.get(case_id)):
                        noise[check["name"]] = None
                    else:
                        failed.append(check["name"])
            if failed and first is None:
                first = finished["timestamp"]
            checks.update(dict.fromkeys(failed))
    seconds = None if first is None or started is None else round(first - started, 3)
    return list(checks), [n for n in noise if n not in checks], seconds


def run_cli(fault: str | None, seed: int, budget: int, workdir: Path, timeout: float) -> Run:
    """The plain schemathesis command line against a reference server started with `fault`."""
    run = Run("cli", fault, seed)
    report_dir = workdir / "report"
    report_dir.mkdir(parents=True, exist_ok=True)
    log = workdir / "schemathesis.log"
    server = EmbeddedServer(DEFAULT_TOKEN, fault=fault)
    try:
        url = server.start()
    except RuntimeError as exc:
        run.note = f"server did not start: {str(exc)[:100]}"
        return run
    try:
        # The README's plain command; --max-time gives it the suite's budget, --seed replays it, --workers 1
        # keeps within the CPU share of one run, the ndjson report says which checks failed and when, and
        # `--generation-database none` keeps runs from replaying each other's failures.
        command = [
            schemathesis_command(),
            "run",
            str(SPEC),
            "--url",
            url,
            "--checks",
            "all",
            "--max-time",
            str(budget),
            "--seed",
            str(seed),
            "--workers",
            "1",
            "--no-color",
            "--generation-database",
            "none",
            "--report",
            "ndjson",
            "--report-dir",
            str(report_dir),
        ]
        env = clean_env({"ACCESS_TOKEN": DEFAULT_TOKEN})
        run.exit_code, run.wall_seconds = _run_process(command, REPO, log, timeout, env)
    finally:
        server.stop()
    run.log = str(log)
    if run.exit_code is None:
        run.note = f"timed out after {timeout:g} s"
    elif run.exit_code not in (0, 1):
        run.note = f"schemathesis exit {run.exit_code}"
    reports = sorted(report_dir.glob("*.ndjson"))
    if reports:
        run.found, run.noise, run.first_failure_seconds = _cli_findings(reports[-1])
        for report in reports:
            report.unlink()  # tens of MB per run; the findings are kept in selftest.json
    return run
