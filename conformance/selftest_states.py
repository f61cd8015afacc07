"""The self-test's view of document states: which states each clean run reached, and which it left untested."""

from __future__ import annotations

from accounting_conformance.conformance.selftest_runs import Run
from accounting_conformance.conformance.states import STATES


def short(clean: list[Run]) -> dict[int, list[str]]:
    """{seed: states never reached} for every clean run that finished and left a state unreached."""
    found = {}
    for run in clean:
        if run.exit_code in (0, 1):
            missing = [name for name in STATES if not run.states.get(name)]
            if missing:
                found[run.seed] = missing
    return found


def table(clean: list[Run]) -> list[str]:
    """One line per state: the share of clean runs that reached it, and how often in all."""
    finished = [r for r in clean if r.exit_code in (0, 1)]
    if not finished:
        return []
    lines = ["", f"document states (reached in how many of the {len(finished)} clean runs; times in all)"]
    for name in STATES:
        runs = sum(1 for r in finished if r.states.get(name))
        times = sum(r.states.get(name, 0) for r in finished)
        lines.append(f"  {name:<52} {runs:>3}/{len(finished)}  {times:>5}")
    missing = short(finished)
    lines.append(
        "every state reached in every clean run" if not missing else f"states unreached in {len(missing)} clean run(s)"
    )
    return lines
