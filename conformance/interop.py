"""`python -m conformance.interop`: the suite against third-party targets: Prism's static and dynamic mocks of
the contract (they must be found in violation, under known rules, without the suite crashing) and Prism's
validating proxy in front of the reference server (the suite must reach a verdict, Prism must log no violation
of the server's responses). Exit 0 every target passes, 1 one does not, 2 Prism could not be started."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import httpx

from accounting_conformance.conformance import kinds
from accounting_conformance.conformance.commands import suite_command
from accounting_conformance.conformance.embedded import EmbeddedServer, free_port
from accounting_conformance.conformance.interop_judge import (
    GUARD_MARK,
    MOCK,
    PROXY,
    Evidence,
    Result,
    details,
    judge,
    read_summary,
    table,
)
from accounting_conformance.conformance.resources import contract_path, fixtures_path
from accounting_conformance.conformance.settings import DEFAULT_TOKEN, ENV, PROFILES, REPO

PRISM = REPO / "node_modules" / ".bin" / "prism"
SPEC = contract_path()
FIXTURES = fixtures_path()
TARGETS = {"mock-static": MOCK, "mock-dynamic": MOCK, "proxy": PROXY}
OK, FAILED, CANNOT_RUN = 0, 1, 2

#: Two bugs of Prism 5.16 that would end a run early, worked around in Prism's own node (preloaded), each logging
#: GUARD_MARK when it steps in (`--raw-prism` leaves them in):
#: - a violation holding a character outside Latin-1 (a fuzzed parameter's name, say) goes into the `sl-violations`
#:   header, node's setHeader throws, uncaught, and Prism exits (stoplightio/prism#1934): the guard escapes such
#:   characters JSON-style, so the header keeps its meaning;
#: - a body declared JSON that does not parse makes Prism (5.15.11 on) wait for an `end` the request had already
#:   emitted, so it never answers: the guard calls such a late `end` listener at once, and Prism answers its error.
GUARD_JS = r"""const http = require('http');
const setHeader = http.ServerResponse.prototype.setHeader;
http.ServerResponse.prototype.setHeader = function (name, value) {
  if (typeof value === 'string' && String(name).toLowerCase() === 'sl-violations' && /[^\t\x20-\x7e]/.test(value)) {
    value = value.replace(/[^\t\x20-\x7e]/g, c => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
    console.log('MARK non-ASCII sl-violations header escaped (Prism would have exited)');
  }
  return setHeader.call(this, name, value);
};
const once = http.IncomingMessage.prototype.once;
http.IncomingMessage.prototype.once = function (event, listener) {
  if (event === 'end' && this.readableEnded) {
    console.log('MARK unparsable body answered (Prism would never have answered)');
    setImmediate(listener);
    return this;
  }
  return once.call(this, event, listener);
};
""".replace("MARK", GUARD_MARK)


class PrismUnavailable(RuntimeError):
    """Prism is not installed, or does not start."""


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a child started in its own session, and everything it started: its process group, by id."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=10)
            break
        except subprocess.TimeoutExpired:
            continue
    proc.wait()


def _clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without the suite's settings (nothing may redirect a run), and without colours."""
    env = {k: v for k, v in os.environ.items() if k not in ENV.values()}
    env.update({"FORCE_COLOR": "0", "NO_COLOR": "1", "SCARF_ANALYTICS": "false", **(extra or {})})
    return env


def _answers(url: str) -> bool:
    """True once anything answers HTTP at url."""
    try:
        httpx.get(
            f"{url}{kinds.get('invoice_credit_memo').path}",
            params={"access_token": DEFAULT_TOKEN, "limit": 1},
            timeout=2,
        )
    except httpx.TransportError:
        return False
    return True


def start_prism(
    args: list[str], workdir: Path, stack: ExitStack, *, guard: bool = True, timeout: float = 60.0
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `prism <args>` on a free port (stopped when `stack` closes), with GUARD_JS unless told otherwise, and
    wait until it answers; the process and its URL."""
    if not PRISM.exists():
        raise PrismUnavailable(f"{PRISM.relative_to(REPO)} is missing: run `npm ci` in {REPO} (or `make interop`)")
    log, preload = workdir / "prism.log", workdir / "prism-guard.js"
    preload.write_text(GUARD_JS if guard else "")
    env = _clean_env(
        {"NODE_OPTIONS": f"{os.environ.get('NODE_OPTIONS', '')} --require {json.dumps(str(preload))}".strip()}
    )
    for attempt in (1, 2):
        port = free_port()
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [str(PRISM), *args, "--host", "127.0.0.1", "--port", str(port)],
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        stack.callback(_stop, proc)
        url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline and not _answers(url):
            time.sleep(0.2)
        if proc.poll() is None and _answers(url):
            return proc, url
        _stop(proc)
        if attempt == 2 or "EADDRINUSE" not in log.read_text(errors="replace"):
            break  # else the port was taken between picking and binding: once more
    raise PrismUnavailable(
        f"prism {' '.join(args[:2])} did not start; its log ({log}) ends:\n"
        f"{log.read_text(errors='replace')[-1500:]}\nReinstall it with `npm ci` in {REPO}."
    )


def start_target(
    name: str, seed: int, workdir: Path, stack: ExitStack, guard: bool
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the named target's Prism (and, for the proxy, the reference server behind it)."""
    if name == "mock-static":
        return start_prism(["mock", str(SPEC)], workdir, stack, guard=guard)
    if name == "mock-dynamic":
        return start_prism(["mock", "--dynamic", "--seed", str(seed), str(SPEC)], workdir, stack, guard=guard)
    server = EmbeddedServer(DEFAULT_TOKEN)
    stack.callback(server.stop)
    upstream = server.start()
    return start_prism(["proxy", str(SPEC), upstream, "--errors=false"], workdir, stack, guard=guard)


def run_suite(url: str, profile: str, seed: int, workdir: Path, timeout: float) -> Evidence:
    """`python -m conformance` against url in its own process group; what it left behind."""
    report_dir = workdir / "report"
    command = suite_command(profile=profile, seed=seed, report_dir=report_dir, target=url, fixtures=FIXTURES)
    started = time.monotonic()
    with (workdir / "stdout.txt").open("wb") as out, (workdir / "stderr.txt").open("wb") as err:
        # cwd = the run's own directory: its own .hypothesis example database, so runs do not replay each other
        proc = subprocess.Popen(command, cwd=workdir, stdout=out, stderr=err, env=_clean_env(), start_new_session=True)
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            _stop(proc)
    output = "\n".join((workdir / f).read_text(errors="replace") for f in ("stdout.txt", "stderr.txt"))
    return Evidence(code, output, read_summary(report_dir / "summary.json"), seconds=time.monotonic() - started)


def _exit_note(prism: subprocess.Popen[bytes], log: str) -> str:
    """How Prism ended, if it exited during the run: its exit code and the last error line of its log."""
    if prism.poll() is None:
        return ""
    errors = [line for line in log.splitlines() if "Error" in line and "[VALIDATOR]" not in line]
    return f"exit {prism.returncode}" + (f": {errors[-1].strip()[:160]}" if errors else "")


def check_target(name: str, profile: str, seed: int, workdir: Path, timeout: float, guard: bool = True) -> Result:
    """Start one target, run the suite against it, stop everything, judge."""
    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        try:
            prism, url = start_target(name, seed, workdir, stack, guard)
        except PrismUnavailable:
            raise
        except RuntimeError as exc:  # the reference server behind the proxy did not start
            evidence = Evidence(2, f"interop: could not judge: the reference server did not start: {exc}", None)
        else:
            print(f"interop: {name} at {url}: running the suite", flush=True)
            evidence = run_suite(url, profile, seed, workdir, timeout)
            time.sleep(0.5)  # Prism's last log lines
            evidence.prism_log = (workdir / "prism.log").read_text(errors="replace")
            evidence.target_exit = _exit_note(prism, evidence.prism_log)
    return Result(name, TARGETS[name], judge(evidence, TARGETS[name]), round(evidence.seconds, 1))


def check(
    targets: Sequence[str] = tuple(TARGETS),
    profile: str = "quick",
    seed: int = 0,
    keep_reports: Path | None = None,
    timeout: float = 900.0,
    guard: bool = True,
) -> list[Result]:
    """Run the suite against each target in turn; the Python API of the command (raises PrismUnavailable)."""
    with ExitStack() as stack:
        base = keep_reports or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="interop-")))
        return [check_target(name, profile, seed, base / name, timeout, guard) for name in targets]


def install_prism() -> None:
    """`npm ci` in the repository (the pinned Prism of package-lock.json, nothing global)."""
    npm = shutil.which("npm")
    if npm is None:
        raise PrismUnavailable("npm is not on PATH: install Node.js and npm, then run `npm ci`")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=REPO, check=True, env=_clean_env())


def versions() -> str:
    """Prism's version as installed, and node's."""
    manifest = REPO / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    prism = json.loads(manifest.read_text())["version"] if manifest.exists() else "not installed"
    node = shutil.which("node")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else "none"
    return f"prism {prism} (node {version})"


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m conformance.interop", description=__doc__)
    p.add_argument("--profile", default="quick", choices=list(PROFILES), help="the suite's profile (default quick)")
    p.add_argument("--seed", type=int, help="the suite's seed, and Prism's for dynamic examples (default: random)")
    p.add_argument(
        "--targets", default=",".join(TARGETS), help=f"comma-separated, of {', '.join(TARGETS)} (default all)"
    )
    p.add_argument(
        "--keep-reports", type=Path, metavar="DIR", help="keep each target's reports and logs under DIR/<target>"
    )
    p.add_argument("--timeout", type=float, default=900.0, help="seconds one suite run may take (default 900)")
    p.add_argument("--raw-prism", action="store_true", help="leave Prism's two crash/hang bugs in (see GUARD_JS)")
    return p


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run, print the table and the details, map the outcome to the exit code."""
    options = parser().parse_args(argv)
    targets = [t.strip() for t in options.targets.split(",") if t.strip()]
    if unknown := [t for t in targets if t not in TARGETS]:
        parser().error(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**31)
    print(f"interop: {versions()}, profile {options.profile}, seed {seed} (replay with --seed {seed})", flush=True)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        results = check(targets, options.profile, seed, options.keep_reports, options.timeout, not options.raw_prism)
    except PrismUnavailable as exc:
        print(f"interop: Prism could not be started: {exc}", file=sys.stderr)
        return CANNOT_RUN
    except KeyboardInterrupt:
        print("interop: interrupted; every process it started was stopped", file=sys.stderr)
        return CANNOT_RUN
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("", *table(results), "", *[line for r in results for line in details(r)], sep="\n")
    if options.keep_reports:
        print(f"\nreports and logs: {options.keep_reports}/<target>/ (report/, stdout.txt, stderr.txt, prism.log)")
    passed = sum(r.judgement.passed for r in results)
    print(f"\ninterop: {'PASS' if passed == len(results) else 'FAIL'} ({passed}/{len(results)} targets pass)")
    return OK if passed == len(results) else FAILED


if __name__ == "__main__":
    sys.exit(main())
