"""`conformance matrix FILE [--jobs N] [--report-dir DIR] [--compare OLD_MATRIX]`: judge each target of FILE as its own
`conformance` process in DIR/<name>/ (its output in conformance.log there), at most N at once, then merge their reports
into DIR/matrix.json, matrix.md and matrix.html (matrix_merge.py). FILE is TOML: one [[target]] table per target, with
`name` (unique, a directory name) and any of `target`, `token_env` (the environment variable holding its token, never
the token itself), `fixtures`, `platform`, `profile`, `seed`, `baseline`, `config` (its --config file), `features` (a
table, as in a config file) or `unclaimed`, `fault` (no target: the embedded reference server with that deliberate
fault), `pytest_args` (to narrow the run), `timeout` (seconds; default a day), or any other setting of `conformance
--help` that is not a secret. Top-level keys are defaults for every target; files are read relative to FILE. All is
checked before anything runs. A run gets its settings and token in its environment, none of this process's own, so
no secret is on a command line. Without a seed, one is drawn for all the runs.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sys
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from accounting_conformance.conformance import matrix_merge as merge
from accounting_conformance.conformance import matrix_render, selftest_runs
from accounting_conformance.conformance.claims import FEATURES
from accounting_conformance.conformance.commands import suite_command
from accounting_conformance.conformance.matrix_merge import CANNOT_JUDGE, MatrixError
from accounting_conformance.conformance.settings import ENV, SETTING, SettingsError, resolve
from accounting_conformance.conformance.target_config import setting_text
from accounting_conformance.reference_server.faults import Fault, UnknownFault

PROG = "conformance matrix"
SPECIAL = ("name", "token_env", "features", "fault", "pytest_args", "timeout")
SETTING_KEYS = tuple(name for name, spec in SETTING.items() if not spec.secret and name != "report_dir")
INPUTS = ("fixtures", "baseline", "config", "baseline_write")  # read relative to the matrix file
SECRET_KEYS = ("access_token", "token", "basic_auth", "access_token_command")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RESERVED = {"matrix.json", "matrix.md", "matrix.html"}
DAY = 86400.0
_PLACEHOLDER = "placeholder-while-checking"  # stands for a token ACCESS_TOKEN_COMMAND would print; never sent


@dataclass(frozen=True)
class Entry:
    """One target of the matrix file, checked: its settings (environment name -> text, none secret) and its run."""

    name: str
    settings: dict[str, str]
    token_env: str | None = None
    faults: tuple[str, ...] = ()
    pytest_args: tuple[str, ...] = ()
    profile: str = "default"
    seed: int = 0
    timeout: float = DAY


def _settings(table: Mapping[str, Any], where: str, base: Path) -> dict[str, str]:
    """Environment name -> text of each setting the table gives, each read as the run will read it."""
    found: dict[str, str] = {}
    for key, value in table.items():
        if key in SECRET_KEYS:
            raise MatrixError(
                f"{where}: {key} may not be written in the matrix file: put the secret in an environment variable and "
                "name it with token_env (basic credentials and a token command go in the target's `config` file)"
            )
        if key == "report_dir":
            raise MatrixError(f"{where}: report_dir is the matrix's: each run reports into DIR/<name> (--report-dir)")
        if key in SPECIAL:
            continue
        if key not in SETTING_KEYS:
            raise MatrixError(f"{where}: unknown key {key!r}; known: {', '.join(sorted({*SPECIAL, *SETTING_KEYS}))}")
        try:
            text = setting_text(value)
        except TypeError:
            raise MatrixError(f"{where}, key {key}: must be text, a number, a boolean or a list of them") from None
        if key in INPUTS and not Path(text).is_absolute():
            text = str(base / text)
        try:
            SETTING[key].read(text, f"{where}, key {key}")
        except SettingsError as exc:
            raise MatrixError(str(exc)) from None
        found[SETTING[key].env] = text
    features = table.get("features")
    if features is not None:
        if "unclaimed" in table:
            raise MatrixError(f"{where}: give features or unclaimed, not both")
        if not isinstance(features, dict) or not all(isinstance(v, bool) for v in features.values()):
            raise MatrixError(f"{where}: features must be a table of feature = true|false")
        unknown = sorted(set(features) - set(FEATURES))
        if unknown:
            raise MatrixError(f"{where}: unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURES)}")
        found[ENV["unclaimed"]] = ",".join(sorted(name for name, offered in features.items() if not offered))
    return found


def _list(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    value = [value] if isinstance(value, str) and key == "fault" else value  # one fault, or a list of them
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MatrixError(f'{where}: {key} must be a list of text, such as ["-k", "test_writes"]')
    return tuple(value)


def _config_keys(path: str | None) -> set[str]:
    try:
        return set(tomllib.loads(Path(path).read_text(encoding="utf-8"))) if path else set()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return set()  # resolve() says what is wrong with it


def child_env(entry: Entry, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of the target's run: this one without the suite's settings or the job summary, plus the
    target's settings and its token (copied from the variable token_env names)."""
    env = {k: v for k, v in environ.items() if k not in ENV.values() and k != "GITHUB_STEP_SUMMARY"}
    env.update(entry.settings)
    if entry.token_env:
        env[ENV["access_token"]] = environ[entry.token_env]
    return env


def _check(entry: Entry, where: str, environ: Mapping[str, str], seed: int) -> Entry:
    """The entry's settings resolved as its run will resolve them (the config file included); its profile and seed."""
    env = child_env(entry, environ)
    keys = _config_keys(entry.settings.get(ENV["config"]))
    if ENV["target"] in entry.settings or "target" in keys:
        if not entry.token_env and not keys & {"token_env", "access_token_command"}:
            raise MatrixError(f"{where}: a target needs its token: give token_env, the variable that holds it")
    if "access_token_command" in keys and ENV["access_token"] not in env:
        env[ENV["access_token"]] = _PLACEHOLDER  # check the rest without running the command
    try:
        settings = resolve({}, env)
    except SettingsError as exc:
        raise MatrixError(f"{where}: {exc}") from None
    if entry.faults and settings.target is not None:
        raise MatrixError(f"{where}: fault only applies to the embedded reference server: remove target or fault")
    chosen = settings.seed if ENV["seed"] in entry.settings or "seed" in keys else seed
    return replace(entry, profile=settings.profile.name, seed=chosen)


def _entry(table: Mapping[str, Any], where: str, base: Path, environ: Mapping[str, str], seed: int) -> Entry:
    token_env, timeout = table.get("token_env"), table.get("timeout", DAY)
    if token_env is not None and (not isinstance(token_env, str) or not VARIABLE.fullmatch(token_env)):
        raise MatrixError(f"{where}: token_env must name an environment variable (such as QBO_TOKEN), not hold a token")
    if token_env is not None and not environ.get(token_env):
        raise MatrixError(f"{where}: token_env names the environment variable {token_env}, which is not set: export it")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise MatrixError(f"{where}: timeout must be a number of seconds above 0")
    faults = _list(table, "fault", where)
    try:
        [Fault.named(name) for fault in faults for name in fault.split(",")]
    except UnknownFault as exc:
        raise MatrixError(f"{where}: {exc}") from None
    settings, pytest_args = _settings(table, where, base), _list(table, "pytest_args", where)
    entry = Entry(str(table["name"]), settings, token_env, faults, pytest_args, timeout=float(timeout))
    return _check(entry, where, environ, seed)


def load_matrix(path: Path, environ: Mapping[str, str], seed: int) -> list[Entry]:
    """Every target of the matrix file, checked; MatrixError listing every problem found when any is."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MatrixError(f"{path}: not a readable TOML file: {exc}") from None
    tables = data.pop("target", None)
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise MatrixError(f"{path}: no targets: give one [[target]] table per target, each with a name")
    if "name" in data:
        raise MatrixError(f"{path}: name belongs in each [[target]], not at the top level")
    for key in ("fault", "pytest_args"):
        _list(data, key, f"{path} (top level)")
    _settings(data, f"{path} (top level)", path.parent)
    problems: list[str] = []
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for number, table in enumerate(tables, 1):
        name = table.get("name")
        where = f"{path} [[target]] {name!r}" if isinstance(name, str) else f"{path} [[target]] number {number}"
        if not isinstance(name, str) or not NAME.fullmatch(name) or name.casefold() in RESERVED:
            problems.append(f"{where}: name must be a directory name: letters, digits, '.', '_', '-' (not matrix.*)")
            continue
        if name.casefold() in seen:
            problems.append(f"{where}: the name is already used by [[target]] {seen[name.casefold()]!r}")
            continue
        seen[name.casefold()] = name
        claims = ("features", "unclaimed")
        defaults = {k: v for k, v in data.items() if not (k in claims and any(c in table for c in claims))}
        try:
            entries.append(_entry({**defaults, **table}, where, path.parent, environ, seed))
        except MatrixError as exc:
            problems.append(str(exc))
    if problems:
        raise MatrixError("\n".join(problems))
    return entries


def command(entry: Entry, report_dir: Path) -> list[str]:
    """The target's run: suite_command with its profile, seed and report directory, faults and pytest arguments."""
    faults = [arg for fault in entry.faults for arg in ("--fault", fault)]
    extra = ["--", *entry.pytest_args] if entry.pytest_args else []
    return [*suite_command(profile=entry.profile, seed=entry.seed, report_dir=report_dir), *faults, *extra]


def run_one(entry: Entry, out: Path, environ: Mapping[str, str]) -> tuple[Entry, int | None, float]:
    """Run the target's `conformance` in out/<name>/ (cwd too: its own Hypothesis database); its exit code and time.
    A run that wrote no readable summary.json (timed out, crashed) gets one that says it could not judge."""
    report_dir = (out / entry.name).resolve()
    summary, log = report_dir / "summary.json", report_dir / "conformance.log"
    for attempt in (1, 2):
        summary.unlink(missing_ok=True)  # what an earlier matrix left here must not stand for this run
        shutil.rmtree(report_dir / "recordings", ignore_errors=True)
        code, seconds = selftest_runs.run_process(
            command(entry, report_dir), report_dir, log, entry.timeout, child_env(entry, environ)
        )
        said = log.read_text(errors="replace") if log.is_file() else ""
        if not (code == 2 and "reference server exited at start" in said and attempt == 1):
            break  # else a port taken between picking and binding: start again
    reasons = [line.split("could not judge:", 1)[1].strip() for line in said.splitlines() if "could not judge:" in line]
    why = f"timed out after {entry.timeout:g} s" if code is None else f"exit {code}, " + (reasons or ["no reason"])[-1]
    merge.ensure_summary(report_dir, f"{why} (its output: {log})")
    return entry, code, seconds


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("must be a whole number above 0")
    return int(text)


def parser() -> argparse.ArgumentParser:
    """The matrix command line."""
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n", 1)[0])
    p.add_argument("file", type=Path, metavar="FILE", help="the matrix file (TOML, [[target]] tables)")
    p.add_argument("--jobs", type=_jobs, metavar="N", help="runs at once; default: the targets, at most the CPUs")
    p.add_argument(
        "--report-dir", type=Path, default=Path("matrix-reports"), metavar="DIR", help="default: %(default)s"
    )
    p.add_argument("--compare", type=Path, metavar="OLD_MATRIX", help="an earlier matrix.json: fail on cells now worse")
    return p


def main(argv: Sequence[str]) -> int:
    """`conformance matrix FILE`: exit the worst of the runs (2 > 1 > 0); 2 before anything runs on a bad file."""
    try:
        options = parser().parse_args(list(argv))
    except SystemExit as exc:  # --help, or a usage error (argparse said which)
        return exc.code if isinstance(exc.code, int) else CANNOT_JUDGE
    seed = random.SystemRandom().randrange(2**31)
    try:
        old = (options.compare, merge.load_old(options.compare)) if options.compare else None
        entries = load_matrix(options.file, os.environ, seed)
    except MatrixError as exc:
        return matrix_render.refuse(PROG, str(exc))
    out: Path = options.report_dir
    try:
        for entry in entries:
            (out / entry.name).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return matrix_render.refuse(PROG, f"--report-dir {out}: cannot make the runs' directories there: {exc}")
    jobs = options.jobs or min(len(entries), os.cpu_count() or 1)
    print(f"{PROG}: {len(entries)} targets, {jobs} at once, reports in {out}/<name>/", flush=True)
    ran: dict[str, float] = {}

    def done(result: tuple[Entry, int | None, float]) -> None:
        ran[result[0].name] = result[2]
        said = "timed out" if result[1] is None else f"exit {result[1]}"
        print(f"{PROG}: {result[0].name}: {said} after {result[2]:.1f} s", flush=True)

    started = time.monotonic()
    try:
        selftest_runs.run_all(lambda e: run_one(e, out, os.environ), entries, jobs, done)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; every run was stopped\n{PROG}: exit {CANNOT_JUDGE} (could not judge)", flush=True)
        return CANNOT_JUDGE
    wall = time.monotonic() - started
    dirs = {e.name: out / e.name for e in entries}
    try:
        rows = [merge.row(name, merge.read_summary(path), ran.get(name)) for name, path in dirs.items()]
    except MatrixError as exc:  # gone since run_one made sure of it
        return matrix_render.refuse(PROG, str(exc))
    return merge.finish(merge.build(rows, seconds=wall), out, dirs, old, PROG)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
