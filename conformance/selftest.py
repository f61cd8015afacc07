"""`python -m conformance.selftest`: prove that the suite catches real faults, and does not cry wolf.

Runs `python -m conformance` against the embedded reference server several times without a fault (a
failure there is a false positive: exit 1), then once with each deliberate fault of
`reference_server/faults.py`, and prints, per fault, whether the suite caught it, by which rule(s), and how
many seconds into the run the first failure came. Then, once per legitimate variation of
`reference_server/variations.py` (`--variations`, default all), the suite against the reference server behind
the variation proxy: any failure there is a false alarm (exit 1), as with a clean run. `--compare-cli` runs the same faults through the plain
`schemathesis run openapi/openapi.yaml --url URL --checks all` with the same time budget, side by side
(its positive_data_acceptance alarms on the contract's documented business-rule 400s, e.g. CURRENCY_MISMATCH
on an application its stateful phase chained at random, are counted as noise, not as catches).

Every run is a separate process with its own server, database and Hypothesis example database (its own
working directory), so no run learns from another. At most `--jobs` runs at once (default: 2, or the CPU
count if lower). Exit codes: 0 no false positive, 1 a clean run or a variation failed (or fewer faults caught
than `--fail-under`), 2 the selftest could not judge (a clean run errored, bad options, interrupted).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from accounting_conformance.conformance import selftest_runs, selftest_states
from accounting_conformance.conformance import variations as variation_runs
from accounting_conformance.conformance.selftest_runs import (
    CAUGHT,
    ERROR,
    MISSED,
    Run,
    run_cli,
    run_suite,
    schemathesis_command,
)
from accounting_conformance.conformance.settings import PROFILES, REPO
from accounting_conformance.conformance.variations import VariationRun
from accounting_conformance.reference_server.faults import CATEGORIES, Fault, UnknownFault
from accounting_conformance.reference_server.variations import UnknownVariation, select

__all__ = ["CAUGHT", "ERROR", "MISSED", "Run", "main", "rotate", "table"]


# ---------------------------------------------------------------------------------------- choosing


def rotation_key(kind: str) -> str:
    """The key a rotating selection is drawn with: git HEAD (default) or today's UTC date."""
    if kind == "head":
        try:
            head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10)
            if head.returncode == 0 and head.stdout.strip():
                return head.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return datetime.now(UTC).date().isoformat()


def rotate(count: int, key: str) -> list[str]:
    """`count` faults chosen by `key`, one category after another so that a handful covers every category."""
    rng = random.Random(int(hashlib.sha256(key.encode()).hexdigest()[:16], 16))
    pools = {c: [f.value for f in Fault if f.category == c] for c in CATEGORIES}
    for pool in pools.values():
        rng.shuffle(pool)
    order = list(CATEGORIES)
    rng.shuffle(order)
    chosen: list[str] = []
    while len(chosen) < min(count, len(Fault)):
        for category in order:
            if pools[category] and len(chosen) < count:
                chosen.append(pools[category].pop())
    return chosen


# ---------------------------------------------------------------------------------------- reporting


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _found(run: Run | None, width: int) -> str:
    if run is None:
        return ""
    if run.verdict == ERROR:
        text = f"({run.note or 'error'})"
    elif run.found:
        text = ",".join(run.found)
    else:
        text = "(rule-400 noise only)" if run.noise else "-"
    return text if len(text) <= width else text[: width - 1] + "…"


def table(fault_runs: dict[str, dict[str, Run]], clean: list[Run], cli_clean: list[Run], compare: bool) -> list[str]:
    """The result table: one line per fault, then the clean runs and the totals."""
    width = max([len("fault")] + [len(name) for name in fault_runs])
    head = f"{'fault':<{width}}  {'category':<8}  {'suite':<6}  {'caught by rule(s)':<28}  {'1st s':>5}"
    if compare:
        head += f"  | {'CLI':<6}  {'caught by check(s)':<30}  {'1st s':>5}"
    lines = [head, "-" * len(head)]
    for name, runs in fault_runs.items():
        suite, cli = runs.get("suite"), runs.get("cli")
        category = Fault.named(name).category
        line = f"{name:<{width}}  {category:<8}  "
        line += f"{suite.verdict if suite else '':<6}  {_found(suite, 28):<28}  {_seconds(suite.first_failure_seconds if suite else None):>5}"
        if compare:
            line += f"  | {cli.verdict if cli else '':<6}  {_found(cli, 30):<30}  {_seconds(cli.first_failure_seconds if cli else None):>5}"
        lines.append(line)
    lines.append("-" * len(head))
    per = {
        c: [runs["suite"] for n, runs in fault_runs.items() if "suite" in runs and Fault.named(n).category == c]
        for c in CATEGORIES
    }
    lines.append(
        "suite by category: "
        + ", ".join(f"{c} {sum(r.verdict == CAUGHT for r in rs)}/{len(rs)}" for c, rs in per.items() if rs)
    )
    lines += _totals("suite", [r["suite"] for r in fault_runs.values() if "suite" in r], clean)
    if compare:
        lines += _totals("plain CLI", [r["cli"] for r in fault_runs.values() if "cli" in r], cli_clean)
        both = [n for n, r in fault_runs.items() if r["suite"].verdict == CAUGHT and r["cli"].verdict == CAUGHT]
        suite_only = [n for n, r in fault_runs.items() if r["suite"].verdict == CAUGHT and r["cli"].verdict != CAUGHT]
        cli_only = [n for n, r in fault_runs.items() if r["suite"].verdict != CAUGHT and r["cli"].verdict == CAUGHT]
        lines.append(
            f"caught by both {len(both)}, by the suite only {len(suite_only)}, by the plain CLI only "
            f"{len(cli_only)}{': ' + ', '.join(cli_only) if cli_only else ''}"
        )
    return lines


def _totals(tool: str, runs: list[Run], clean: list[Run]) -> list[str]:
    caught = [r for r in runs if r.verdict == CAUGHT]
    missed = [r.label for r in runs if r.verdict == MISSED]
    errors = [r.label for r in runs if r.verdict == ERROR]
    times = [r.first_failure_seconds for r in caught if r.first_failure_seconds is not None]
    median = f"{statistics.median(times):.1f} s" if times else "-"
    false_positives = [r for r in clean if r.verdict != MISSED]
    seeds = ", ".join(str(r.seed) for r in clean)
    line = (
        f"{tool}: caught {len(caught)}/{len(runs)}"
        f"{f' ({100 * len(caught) / len(runs):.0f}%)' if runs else ''}, "
        f"false positives {len(false_positives)}/{len(clean)} clean runs (seeds {seeds or '-'}), "
        f"median seconds to first failure {median}"
    )
    lines = [line]
    noisy = [r for r in runs + clean if r.noise]
    if noisy:
        lines.append(
            f"  {tool} flagged documented rule-400s (noise, not counted) in {len(noisy)} of "
            f"{len(runs) + len(clean)} runs"
        )
    if missed:
        lines.append(f"  missed by the {tool}: {', '.join(missed)}")
    if errors:
        lines.append(f"  could not judge ({tool}): {', '.join(errors)}")
    for run in false_positives:
        lines.append(
            f"  FALSE POSITIVE ({tool}, seed {run.seed}): {run.verdict} {','.join(run.found) or run.note} "
            f"- see {run.log}"
        )
    return lines


# ----------------------------------------------------------------------------------------------- main


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(
        prog="python -m conformance.selftest", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--faults", help="comma-separated fault names to run (default: every fault in the catalogue)")
    p.add_argument("--rotate", type=int, metavar="N", help="run only N faults, chosen by --rotate-key (for CI)")
    p.add_argument(
        "--rotate-key",
        choices=("head", "date"),
        default="head",
        help="what the rotating choice is keyed on: git HEAD (default; the date outside git) or the UTC date",
    )
    p.add_argument("--clean-runs", type=int, default=3, help="runs without a fault, each with its own seed (default 3)")
    p.add_argument(
        "--cli-clean-runs",
        type=int,
        metavar="N",
        help="clean runs of the plain CLI with --compare-cli (default: as many as --clean-runs)",
    )
    p.add_argument(
        "--profile", choices=list(PROFILES), default="default", help="the suite's profile (default: default)"
    )
    p.add_argument("--seed", type=int, help="seed of the fault runs and the first clean run (default: random)")
    p.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="runs at once (default: 2, at most the CPUs)"
    )
    p.add_argument(
        "--timeout", type=float, help="seconds before one run is stopped (default: 6 x the profile's budget + 120)"
    )
    p.add_argument(
        "--compare-cli",
        action="store_true",
        help="also run each fault through the plain `schemathesis run ... --checks all`, same budget",
    )
    p.add_argument("--report-dir", default="reports/selftest", help="where selftest.json, table.txt and the runs go")
    p.add_argument(
        "--all-failures",
        action="store_true",
        help="run each faulty suite run to its end, to list every rule that catches the fault (default: "
        "stop at the first failing test; the verdict and the seconds to the first failure are the same)",
    )
    p.add_argument(
        "--fail-under",
        type=float,
        default=0.0,
        metavar="PCT",
        help="exit 1 when the suite catches fewer than PCT percent of the faults run (default 0: off)",
    )
    p.add_argument(
        "--variations",
        default="all",
        metavar="all|none|a,b",
        help="legitimate server variations to run the suite through (default all; a failure is a false alarm)",
    )
    p.add_argument(
        "--list", action="store_true", help="list the faults that would run (all, --faults, --rotate) and exit"
    )
    return p


def choose_faults(options: argparse.Namespace) -> tuple[list[str], str]:
    """The faults to run and a line saying how they were chosen; UnknownFault for a bad name."""
    if options.faults:
        chosen = [n.strip() for n in options.faults.split(",") if n.strip()]
        for name in chosen:
            Fault.named(name)
        how = "chosen with --faults"
    else:
        chosen = [fault.value for fault in Fault]
        how = "the whole catalogue"
    if options.rotate is not None:
        key = rotation_key(options.rotate_key)
        rotated = rotate(options.rotate, key)
        chosen = [n for n in rotated if n in chosen] if options.faults else rotated
        how = f"{len(chosen)} rotated by {options.rotate_key} {key[:12]}"
    return list(dict.fromkeys(chosen)), how


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selftest; 0 no false positive, 1 a false positive (or below --fail-under), 2 could not judge."""
    options = parser().parse_args(argv)
    try:
        chosen, how = choose_faults(options)
        varied = select(options.variations)
    except (UnknownFault, UnknownVariation) as exc:
        print(f"selftest: {exc}", file=sys.stderr)
        return 2
    if options.list:
        print(f"# {how}")
        for fault in map(Fault.named, chosen):
            print(f"{fault.value:<32} {fault.category:<8} {fault.description}")
        return 0
    if (
        options.clean_runs < 0
        or (options.cli_clean_runs or 0) < 0
        or options.jobs < 1
        or (options.rotate is not None and options.rotate < 1)
    ):
        print("selftest: --clean-runs and --cli-clean-runs must be >= 0, --jobs and --rotate >= 1", file=sys.stderr)
        return 2
    if options.compare_cli:
        try:
            schemathesis_command()
        except FileNotFoundError as exc:
            print(f"selftest: {exc}", file=sys.stderr)
            return 2
    profile = PROFILES[options.profile]
    seed = options.seed if options.seed is not None else random.SystemRandom().randrange(2**31 - 100)
    timeout = options.timeout or 6 * profile.budget_seconds + 120
    report_dir = Path(options.report_dir).resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    workroot = Path(tempfile.mkdtemp(prefix="run-", dir=report_dir))

    print(
        f"selftest: profile {profile.name}, seed {seed}, {options.clean_runs} clean run(s), {len(varied)} variation(s), "
        f"{len(chosen)} fault(s) ({how}){', with the plain CLI' if options.compare_cli else ''}; {options.jobs} at once; "
        f"runs in {workroot}",
        flush=True,
    )
    jobs: list[tuple[str, str | None, int]] = [("suite", None, seed + i) for i in range(options.clean_runs)]
    jobs += [("variation", name, seed) for name in varied]
    if options.compare_cli:
        cli_clean_runs = options.clean_runs if options.cli_clean_runs is None else options.cli_clean_runs
        jobs += [("cli", None, seed + i) for i in range(cli_clean_runs)]
    for name in chosen:
        jobs.append(("suite", name, seed))
        if options.compare_cli:
            jobs.append(("cli", name, seed))

    lock = threading.Lock()
    done: list[Run] = []
    varied_runs: list[VariationRun] = []

    def work(tool: str, fault: str | None, run_seed: int) -> Run | VariationRun:
        workdir = workroot / f"{tool}-{fault or 'clean'}-{run_seed}"
        workdir.mkdir(parents=True, exist_ok=True)
        if tool == "variation":
            assert fault is not None
            return variation_runs.run_variation(fault, run_seed, profile.name, workdir, timeout)
        if tool == "suite":
            return run_suite(
                fault,
                run_seed,
                profile.name,
                workdir,
                timeout,
                stop_first=fault is not None and not options.all_failures,
            )
        return run_cli(fault, run_seed, profile.budget_seconds, workdir, timeout)

    def report(run: Run | VariationRun) -> None:
        with lock:
            count = len(done) + len(varied_runs) + 1
            if isinstance(run, VariationRun):
                varied_runs.append(run)
                print(
                    f"[{count:>3}/{len(jobs)}] vary  {run.variation:<32} {run.verdict:<6} "
                    f"{(','.join(run.found[:4]) or run.note or '-')[:60]:<30} wall {run.seconds:.0f} s",
                    flush=True,
                )
                return
            done.append(run)
            found = ",".join(run.found[:4]) or run.note or "-"
            verdict = run.verdict if run.fault else {MISSED: "passed", CAUGHT: "FAILED"}.get(run.verdict, ERROR)
            print(
                f"[{count:>3}/{len(jobs)}] {run.tool:<5} {run.label:<32} {verdict:<6} {found[:60]:<30} "
                f"first {_seconds(run.first_failure_seconds)} s, wall {run.wall_seconds:.0f} s",
                flush=True,
            )

    started = time.monotonic()
    try:
        selftest_runs.run_all(lambda job: work(*job), jobs, options.jobs, report)
    except KeyboardInterrupt:
        print("selftest: could not judge: interrupted; every process started was stopped", file=sys.stderr)
        return 2
    return finish(options, profile.name, seed, how, chosen, done, varied_runs, workroot, report_dir, started)


def finish(
    options: argparse.Namespace,
    profile: str,
    seed: int,
    how: str,
    chosen: list[str],
    done: list[Run],
    varied_runs: list[VariationRun],
    workroot: Path,
    report_dir: Path,
    started: float,
) -> int:
    """Print and write the tables of a finished selftest; its exit code."""
    clean = sorted((r for r in done if r.tool == "suite" and r.fault is None), key=lambda r: r.seed)
    cli_clean = sorted((r for r in done if r.tool == "cli" and r.fault is None), key=lambda r: r.seed)
    fault_runs: dict[str, dict[str, Run]] = {name: {} for name in chosen}
    for run in done:
        if run.fault is not None:
            fault_runs[run.fault][run.tool] = run
    lines = table(fault_runs, clean, cli_clean, options.compare_cli)
    varied_runs.sort(key=lambda r: select(options.variations).index(r.variation))
    if varied_runs:
        lines += [
            "",
            "legitimate variations (reference server behind the variation proxy; any failure is a false alarm)",
        ]
        lines += variation_runs.table(varied_runs)
    lines += selftest_states.table(clean)
    lines.append(f"elapsed {time.monotonic() - started:.0f} s; runs and logs in {workroot}")
    print()
    print("\n".join(lines))
    (report_dir / "table.txt").write_text("\n".join(lines) + "\n")
    (report_dir / "selftest.json").write_text(
        json.dumps(
            {
                "profile": profile,
                "seed": seed,
                "selection": how,
                "faults": chosen,
                "runs": [
                    {**asdict(r), "verdict": r.verdict} for r in sorted(done, key=lambda r: (r.tool, r.label, r.seed))
                ],
                "variations": [{**asdict(r), "verdict": r.verdict} for r in varied_runs],
            },
            indent=2,
        )
    )

    if any(r.verdict == ERROR for r in clean):
        print("selftest: could not judge: a clean run did not finish (see its log)", file=sys.stderr)
        return 2
    if any(r.verdict == CAUGHT for r in clean):
        print("selftest: FALSE POSITIVE: the suite failed the reference server without a fault", file=sys.stderr)
        return 1
    if any(r.verdict != variation_runs.CLEAN for r in varied_runs):
        print(
            "selftest: FALSE ALARM: the suite failed the reference server behind a legitimate variation",
            file=sys.stderr,
        )
        return 1
    if selftest_states.short(clean):
        print(
            "selftest: STATES UNREACHED: a clean run left a document state untested: "
            + "; ".join(f"seed {seed}: {', '.join(names)}" for seed, names in selftest_states.short(clean).items()),
            file=sys.stderr,
        )
        return 1
    suite_runs = [r["suite"] for r in fault_runs.values() if "suite" in r]
    rate = 100 * sum(r.verdict == CAUGHT for r in suite_runs) / len(suite_runs) if suite_runs else 100.0
    if rate < options.fail_under:
        print(
            f"selftest: the suite caught {rate:.0f}% of the faults, under --fail-under {options.fail_under:g}%",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
