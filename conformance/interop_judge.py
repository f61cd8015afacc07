"""What one conformance run against a third-party target showed, and whether the interop check passes it.

Pure functions over a run's exit code, output, summary.json and (for the proxy) Prism's log: no processes here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accounting_conformance.conformance.rules import BY_ID

MOCK, PROXY = "mock", "proxy"  # what a target is expected to show: violations, or a verdict and a clean log
VERDICTS = {0: "conformant", 1: "violations", 2: "could not judge"}

GUARD_MARK = "[INTEROP-GUARD]"  # what the guard of Prism's header crash logs each time it steps in
_IDENTIFIER = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: An exception named where a could-not-judge reason says which test broke: `nodeid: KeyError: 'x'`.
_BROKEN = re.compile(r"could not judge: (\S+::.+?): (" + _IDENTIFIER.pattern + r")(?::|$)", re.MULTILINE)
#: Prism's validator: `[VALIDATOR] ✖  error     Violation: response.body Response body must have ...`.
_VIOLATION = re.compile(r"\[VALIDATOR\]\s+\S+\s+(\w+)\s+Violation: (\S+) (.*)$")
_REQUEST = re.compile(r"\[HTTP SERVER\] (\w+) (\S+)")
_EXIT_LINE = re.compile(r"^conformance: exit \d+ \(")
_E_LINE = re.compile(
    r"^E\s+(?:" + _IDENTIFIER.pattern + r":|[A-Za-z_]\w*(?:\.\w+)+$)"
)  # `E   Name: ...`, `E   a.b.Name`


@dataclass
class Evidence:
    """Everything a run left behind: exit code (None if it timed out), output, summary.json, Prism's log."""

    exit_code: int | None
    output: str
    summary: dict[str, Any] | None
    prism_log: str = ""
    seconds: float = 0.0
    target_exit: str = ""  # how Prism ended, if it exited during the run


@dataclass(frozen=True)
class Violation:
    """One violation Prism's validator logged, and the request it logged it for."""

    severity: str
    location: str
    message: str
    request: str

    @property
    def about_response(self) -> bool:
        """True when the violation is about the upstream's response, not the suite's request."""
        return self.location.startswith("response")


@dataclass
class Judgement:
    """The interop check's view of one run: the figures of the table and why it fails, if it does."""

    exit_code: int | None
    verdict: str
    failures: int
    rules_failed: list[str]
    unknown_rules: list[str]
    crashes: list[str]
    could_not_judge: list[str]
    violations: list[Violation] = field(default_factory=list)
    guarded: Counter[str] = field(default_factory=Counter)  # what the guard of Prism's bugs did, how often
    target_exit: str = ""
    reasons: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when nothing is wrong with the run."""
        return not self.reasons

    @property
    def response_violations(self) -> list[Violation]:
        """Prism's violations about responses (those about the suite's requests are mostly deliberate)."""
        return [v for v in self.violations if v.about_response]


def read_summary(path: Path) -> dict[str, Any] | None:
    """summary.json as a dict, or None when the run wrote none (or not JSON)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_exception_name(text: str) -> bool:
    """True for a bare (dotted) identifier such as `KeyError`: the title the suite gives an exception it did
    not understand, where its own failures carry a sentence (`[MONEY-003] ...`, `Server error`)."""
    return _IDENTIFIER.fullmatch(text.strip()) is not None


def _failures(summary: dict[str, Any] | None) -> list[dict[str, Any]]:
    failures = (summary or {}).get("failures") or []
    return [f for f in failures if isinstance(f, dict)]


def failed_rules(summary: dict[str, Any] | None) -> list[str]:
    """The rule IDs with failures, in the order the summary first names them."""
    named = [str(f.get("rule", "")) for f in _failures(summary)]
    counted = [
        str(r.get("id", "")) for r in (summary or {}).get("rules") or [] if isinstance(r, dict) and r.get("failed")
    ]
    return list(dict.fromkeys(named + counted))


def unknown_rules(summary: dict[str, Any] | None) -> list[str]:
    """Failed rule IDs that conformance.rules does not define (a failure that names no rule counts as '')."""
    return [rule or "(none)" for rule in failed_rules(summary) if rule not in BY_ID]


def _plain_tracebacks(output: str) -> list[str]:
    """The last line of each traceback that is not part of pytest's rendering of a failure group."""
    lines = output.splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            tail = next((t for t in lines[i + 1 :] if t and not t.startswith(" ")), "(no exception line)")
            found.append(f"traceback: {tail[:200]}")
    return found


def last_exception(traceback: str) -> str:
    """The last `E   Name: message` line of pytest's short traceback (or its last line), without the `E`."""
    lines = [line for line in traceback.splitlines() if line.strip()]
    for line in reversed(lines):
        if _E_LINE.match(line):
            return line[1:].strip()[:200]
    return lines[-1].strip()[:200] if lines else "(no traceback)"


def _summary_crashes(summary: dict[str, Any] | None) -> dict[str, str]:
    """The tests summary.json says hit a bug of the suite: labelled suite errors and bare exception titles."""
    found: dict[str, str] = {}
    for error in (summary or {}).get("suite_errors") or []:
        if isinstance(error, dict):
            found.setdefault(
                str(error.get("test", "?")), f"suite error: {last_exception(str(error.get('traceback', '')))}"
            )
    for f in _failures(summary):
        if is_exception_name(str(f.get("title", ""))):
            detail = (str(f.get("detail") or "").splitlines() or [""])[0][:160]
            found.setdefault(str(f.get("test", "?")), f"{f.get('title')} ({detail})")
    return found


def crashes(summary: dict[str, Any] | None, output: str) -> list[str]:
    """The suite's own crashes, one per test where the test is known: suite errors and failures titled with a bare
    exception name (summary.json), tests broken by an exception; then, when no test is named, plain tracebacks and
    the `suite error` label in the output; pytest's internal errors and errors at teardown always."""
    by_test = _summary_crashes(summary)
    for match in _BROKEN.finditer(output):
        by_test.setdefault(match.group(1), f"{match.group(2)} (could not judge)")
    found = [f"{test}: {what}" for test, what in by_test.items()]
    lines = output.splitlines()
    if not found:
        found += _plain_tracebacks(output)
        found += [line.strip()[:200] for line in lines if "suite error" in line.lower() and not _EXIT_LINE.match(line)][
            :1
        ]
    found += [
        line.strip("_ ")[:200] for line in lines if line.startswith("INTERNALERROR>") or "ERROR at teardown of" in line
    ]
    return list(dict.fromkeys(found))


def could_not_judge(exit_code: int | None, summary: dict[str, Any] | None, output: str) -> list[str]:
    """Every place the run said it could not judge (the closing `exit 2 (could not judge)` line aside)."""
    said = [
        line.strip()[:200]
        for line in output.splitlines()
        if "could not judge" in line.lower() and not _EXIT_LINE.match(line.strip())
    ]
    suite_error = "suite error" in output.lower() or (summary or {}).get("verdict") == "suite error"
    if not said and not suite_error and (exit_code == 2 or (summary or {}).get("verdict") == "could not judge"):
        said.append(str((summary or {}).get("reason") or f"exit {exit_code}"))
    return list(dict.fromkeys(said))


def prism_violations(log: str) -> list[Violation]:
    """The violations in a Prism log, each with the request (`get /path`) it was logged under."""
    found, request = [], "?"
    for raw in log.splitlines():
        line = _ANSI.sub("", raw)
        if started := _REQUEST.search(line):
            request = f"{started.group(1).upper()} {started.group(2)}"
        elif match := _VIOLATION.search(line):
            found.append(Violation(match.group(1), match.group(2), match.group(3).strip(), request))
    return found


def guard_counts(log: str) -> Counter[str]:
    """How often the guard preloaded into Prism stepped in, by what it did."""
    return Counter(line.split(GUARD_MARK, 1)[1].strip() for line in log.splitlines() if GUARD_MARK in line)


def violation_counts(violations: list[Violation]) -> Counter[str]:
    """Violations grouped as `request: location message`, most frequent first."""
    return Counter(f"{v.request}: {v.location} {v.message}" for v in violations)


def _verdict(evidence: Evidence, found_crashes: list[str]) -> str:
    if evidence.exit_code is None:
        return "timed out"
    if (evidence.summary or {}).get("verdict") == "suite error" or any(
        "suite error" in c.lower() for c in found_crashes
    ):
        return "suite error"
    return VERDICTS.get(evidence.exit_code, f"exit {evidence.exit_code}")


def judge(evidence: Evidence, expect: str) -> Judgement:
    """Judge a run: a mock must be found in violation (exit 1) under known rules; the proxy must reach a verdict
    (exit 0 or 1) with Prism logging no violation of the upstream's responses. Neither may crash or not judge."""
    summary, output = evidence.summary, evidence.output
    found_crashes = crashes(summary, output)
    if evidence.exit_code is None:  # we stopped it (SIGTERM): the interruption this shows is ours, not a crash
        found_crashes = [c for c in found_crashes if "KeyboardInterrupt" not in c]
    result = Judgement(
        exit_code=evidence.exit_code,
        verdict=_verdict(evidence, found_crashes),
        failures=len(_failures(summary)),
        rules_failed=[r for r in failed_rules(summary) if r],
        unknown_rules=unknown_rules(summary),
        crashes=found_crashes,
        could_not_judge=could_not_judge(evidence.exit_code, summary, output),
        violations=prism_violations(evidence.prism_log),
        guarded=guard_counts(evidence.prism_log),
        target_exit=evidence.target_exit,
    )
    if evidence.target_exit:
        result.reasons.append(
            f"Prism exited during the run ({evidence.target_exit}): the run says nothing of the suite"
        )
    wanted = (1,) if expect == MOCK else (0, 1)
    if evidence.exit_code not in wanted:
        result.reasons.append(f"exit {evidence.exit_code}, expected {' or '.join(map(str, wanted))}")
    if summary is None:
        result.reasons.append("no summary.json")
    if expect == MOCK and evidence.exit_code == 1 and not result.failures:
        result.reasons.append("violations reported, but no failure named in summary.json")
    if result.unknown_rules:
        result.reasons.append(f"failures under no known rule: {', '.join(result.unknown_rules)}")
    if result.crashes:
        result.reasons.append(f"{len(result.crashes)} crash(es) of the suite")
    if result.could_not_judge:
        result.reasons.append("the suite could not judge")
    if expect == PROXY and result.response_violations:
        result.reasons.append(
            f"Prism logged {len(result.response_violations)} violation(s) of the upstream's responses"
        )
    return result


@dataclass
class Result:
    """One target's run and the interop check's judgement of it."""

    target: str
    kind: str  # MOCK | PROXY
    judgement: Judgement
    seconds: float


COLUMNS = ("target", "exit", "verdict", "failures", "crashes", "could-not-judge", "prism-violations", "s", "result")


def table(results: list[Result]) -> list[str]:
    """The result table, one line per target (prism-violations: of responses); the rules that failed close each line."""
    rows = [(*COLUMNS, "rules failed")]
    for r in results:
        j = r.judgement
        rows.append(
            (
                r.target,
                str(j.exit_code),
                j.verdict,
                str(j.failures),
                str(len(j.crashes)),
                str(len(j.could_not_judge)),
                str(len(j.response_violations)),
                f"{r.seconds:.0f}",
                "PASS" if j.passed else "FAIL",
                ", ".join(j.rules_failed) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows]


def details(result: Result) -> list[str]:
    """Why a target failed, each crash and could-not-judge, and what Prism's validator logged."""
    j = result.judgement
    lines = [f"  FAIL: {reason}" for reason in j.reasons]
    lines += [f"  crash: {c}" for c in j.crashes] + [f"  could not judge: {c}" for c in j.could_not_judge]
    requests = len(j.violations) - len(j.response_violations)
    lines.append(
        f"  Prism validator: {len(j.response_violations)} violation(s) of responses, {requests} of the suite's "
        f"requests (mostly its deliberately invalid ones)" + (" [judged]" if result.kind == PROXY else " [not judged]")
    )
    lines += [
        f"    {count:>4} x {text[:200]}" for text, count in violation_counts(j.response_violations).most_common(20)
    ]
    lines += [f"  guard of Prism's bugs: {count} x {what}" for what, count in j.guarded.items()]
    return [f"{result.target}:", *lines]
