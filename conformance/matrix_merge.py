"""One matrix from the report directories of many runs: a row per target, a column per rule; and
`conformance merge DIR ... [--out DIR] [--compare OLD_MATRIX]`, which makes it from runs made elsewhere (CI jobs).

A target's name is its directory's name (in CI, the artifact's): summary.json records no name, and a name taken from
inside a file could silently collide with another. Rows come sorted by name, so that the matrix of `conformance
matrix` and the merge of its directories are the same matrix.json but for the timings (the keys `seconds` and
`runs_seconds`; a merge reads each run's time from its junit.xml). Exit: the worst of the runs (2 > 1 > 0), and with
--compare at least 1 when a cell got worse than in OLD_MATRIX.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from accounting_conformance.conformance import matrix_render
from accounting_conformance.conformance.rules import BY_ID, RULES
from accounting_conformance.conformance.score import score, status_of

FORMAT = "conformance-matrix/1"
CONFORMANT, VIOLATIONS, CANNOT_JUDGE = 0, 1, 2
VERDICTS = {CONFORMANT: "conformant", VIOLATIONS: "violations found", CANNOT_JUDGE: "could not judge"}
CANNOT = "could not judge"  # the cell of every rule of a run that could not judge
#: How good a cell is, for --compare: lower is worse.
RANK = {"passed": 3, "not exercised": 3, "not claimed": 3, "accepted": 2, "failed": 1, CANNOT: 0}
_EXIT_OF_VERDICT = {"conformant": 0, "violations": 1, "insufficient coverage": 1}


class MatrixError(ValueError):
    """The matrix cannot be made: a bad matrix file, report directory or old matrix; the message says what to fix."""


def read_summary(directory: Path) -> dict[str, Any]:
    """A run's summary.json, or MatrixError saying why it cannot be read."""
    path = directory / "summary.json"
    if not directory.is_dir():
        raise MatrixError(f"{directory}: not a directory (give the report directory of a run, holding summary.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MatrixError(f"{directory}: no summary.json here; is it the report directory of a run?") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise MatrixError(f"{path}: not a readable summary ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("verdict"), str):
        raise MatrixError(f"{path}: not a conformance summary (no verdict)")
    return data


def junit_seconds(directory: Path) -> float | None:
    """The time pytest took, from the run's junit.xml; None when it cannot say."""
    try:
        root = ElementTree.parse(directory / "junit.xml").getroot()
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        return round(sum(float(suite.get("time") or 0) for suite in suites), 3) if suites else None
    except (OSError, ElementTree.ParseError, ValueError):
        return None


def _exit_code(data: Mapping[str, Any]) -> int:
    code = data.get("exit_code")
    if isinstance(code, int) and not isinstance(code, bool) and code in VERDICTS:
        return code
    return _EXIT_OF_VERDICT.get(str(data.get("verdict")), CANNOT_JUDGE)


def _rules(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    rules = data.get("rules")
    return [r for r in rules if isinstance(r, dict) and isinstance(r.get("id"), str)] if isinstance(rules, list) else []


def _number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def row(name: str, data: Mapping[str, Any], seconds: float | None) -> dict[str, Any]:
    """The matrix's row of one run from its summary: exit code, verdict, score, one cell per rule it reports."""
    code = _exit_code(data)
    rules = _rules(data)
    stated = data["score"].get("overall") if isinstance(data.get("score"), dict) else None
    overall = stated if isinstance(stated, dict) and _number(stated.get("percent")) else score(rules)["overall"]
    settings: Mapping[str, Any] = data["settings"] if isinstance(data.get("settings"), dict) else {}
    cells = {rule["id"]: CANNOT if code == CANNOT_JUDGE else status_of(rule) for rule in rules}
    return {
        "name": name,
        "exit_code": code,
        "verdict": VERDICTS[code],
        "verdict_line": str(data.get("verdict_line") or data.get("verdict")),
        "reason": str(data["reason"]) if data.get("reason") else None,
        "score": overall if code != CANNOT_JUDGE else None,
        **{key: settings.get(key) for key in ("platform", "profile", "seed")},
        "cells": cells,
        "families": {rule["id"]: str(rule.get("family") or "") for rule in rules},  # for build(); removed there
        "statements": {rule["id"]: str(rule.get("statement") or "") for rule in rules},
        "seconds": None if seconds is None else round(seconds, 3),
    }


def build(rows: Iterable[dict[str, Any]], seconds: float | None) -> dict[str, Any]:
    """The matrix (matrix.json) of the rows: columns the suite's rules then any other a run reported, rows by name."""
    targets = sorted(rows, key=lambda r: r["name"])
    columns: dict[str, dict[str, str]] = {
        rule.id: {"id": rule.id, "family": rule.family, "statement": rule.statement} for rule in RULES
    }
    for target in targets:
        families, statements = target.pop("families", {}), target.pop("statements", {})
        for rule_id in target["cells"]:
            if rule_id not in columns:
                known = BY_ID.get(rule_id)
                columns[rule_id] = {
                    "id": rule_id,
                    "family": families.get(rule_id, ""),
                    "statement": statements.get(rule_id, ""),
                }
                if known is not None:
                    columns[rule_id] |= {"family": known.family, "statement": known.statement}
    for target in targets:
        fill = CANNOT if target["exit_code"] == CANNOT_JUDGE else "not exercised"
        target["cells"] = {rule_id: target["cells"].get(rule_id, fill) for rule_id in columns}
        target["failed"] = [rule_id for rule_id, cell in target["cells"].items() if cell == "failed"]
    code = max((t["exit_code"] for t in targets), default=CANNOT_JUDGE)
    timed = [t["seconds"] for t in targets if t["seconds"] is not None]
    return {
        "format": FORMAT,
        "exit_code": code,
        "runs_exit_code": code,
        "verdict": VERDICTS[code],
        "rules": list(columns.values()),
        "targets": targets,
        "compare": None,
        "seconds": None if seconds is None else round(seconds, 3),
        "runs_seconds": round(sum(timed), 3) if timed else None,
    }


def load_old(path: Path) -> dict[str, Any]:
    """The old matrix.json to compare with, or MatrixError when it is not one."""
    try:
        old: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise MatrixError(f"--compare {path}: not a readable matrix.json ({exc})") from None
    targets = old.get("targets") if isinstance(old, dict) else None
    if not isinstance(targets, list) or not all(
        isinstance(t, dict) and isinstance(t.get("name"), str) and isinstance(t.get("cells"), dict) for t in targets
    ):
        raise MatrixError(f"--compare {path}: not a matrix.json (no targets with a name and cells)")
    return old


def compare(matrix: dict[str, Any], old: Mapping[str, Any], against: str) -> None:
    """Mark each cell worse than in the old matrix (row["worse"]: rule -> before), and fail the matrix on any."""
    before = {t["name"]: t["cells"] for t in old["targets"]}
    worse: list[dict[str, str]] = []
    for target in matrix["targets"]:
        cells = before.get(target["name"])
        for rule_id, now in target["cells"].items():
            was = (cells or {}).get(rule_id)
            if isinstance(was, str) and was in RANK and RANK[now] < RANK[was]:
                worse.append({"target": target["name"], "rule": rule_id, "before": was, "now": now})
                target.setdefault("worse", {})[rule_id] = was
    names = {t["name"] for t in matrix["targets"]}
    matrix["compare"] = {
        "against": against,
        "worse": worse,
        "new_targets": sorted(names - set(before)),
        "gone_targets": sorted(set(before) - names),
    }
    if worse:
        matrix["exit_code"] = max(matrix["exit_code"], VIOLATIONS)
        matrix["verdict"] = f"{matrix['verdict']}; {len(worse)} cell{'s' * (len(worse) != 1)} worse than {against}"


def finish(
    matrix: dict[str, Any], out: Path, dirs: Mapping[str, Path], old: tuple[Path, dict[str, Any]] | None, prog: str
) -> int:
    """Compare with the old matrix if any, then write and print the matrix (matrix_render.publish); the exit code."""
    if old is not None:
        compare(matrix, old[1], str(old[0]))
    links = {name: Path(os.path.relpath(path / "report.html", out)).as_posix() for name, path in dirs.items()}
    return matrix_render.publish(matrix, out, links, prog)


def ensure_summary(directory: Path, why: str) -> None:
    """Give a report directory whose run left no readable summary.json one that says it could not judge, and why
    (an unreadable one is kept as summary.unreadable.json)."""
    try:
        read_summary(directory)
    except MatrixError as exc:
        if (directory / "summary.json").is_file():
            (directory / "summary.json").replace(directory / "summary.unreadable.json")
        reason = f"{why}: {exc}"
        data = {"verdict": CANNOT, "exit_code": CANNOT_JUDGE, "verdict_line": f"{CANNOT}: {reason}", "reason": reason}
        (directory / "summary.json").write_text(json.dumps({**data, "settings": None}, indent=2) + "\n", "utf-8")


def parser() -> argparse.ArgumentParser:
    """The merge command line."""
    p = argparse.ArgumentParser(prog="conformance merge", description=__doc__.split("\n\n", 1)[0])
    p.add_argument(
        "dirs", nargs="+", type=Path, metavar="DIR", help="report directories of runs (each with summary.json)"
    )
    p.add_argument("--out", type=Path, default=Path("matrix-reports"), metavar="DIR", help="default: matrix-reports")
    p.add_argument("--compare", type=Path, metavar="OLD_MATRIX", help="an earlier matrix.json: fail on cells now worse")
    return p


def main(argv: Sequence[str]) -> int:
    """`conformance merge DIR ... [--out DIR] [--compare OLD_MATRIX]`: exit the worst of the runs, 2 on bad input."""
    prog = "conformance merge"
    try:
        options = parser().parse_args(list(argv))
    except SystemExit as exc:  # --help, or a usage error (argparse said which)
        return exc.code if isinstance(exc.code, int) else CANNOT_JUDGE
    try:
        old = (options.compare, load_old(options.compare)) if options.compare else None
        named: dict[str, Path] = {}
        for directory in options.dirs:
            name = Path(os.path.abspath(directory)).name
            if name in named:
                raise MatrixError(
                    f"{named[name]} and {directory} are both named {name!r}: a directory's name is its target's, "
                    "so rename one"
                )
            named[name] = directory
        rows = [row(name, read_summary(path), junit_seconds(path)) for name, path in named.items()]
    except MatrixError as exc:
        return matrix_render.refuse(prog, str(exc))
    return finish(build(rows, seconds=None), options.out, named, old, prog)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
