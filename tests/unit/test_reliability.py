"""`python -m conformance.reliability` reads pytest's outcomes and the crash figures right, and says what was lost."""

from __future__ import annotations

from accounting_conformance.conformance.reliability import Part, crash_result, outcomes, pytest_part

RUN = {"acknowledged": 10, "acknowledged_applications": 8, "in_flight": 2, "lost": 0, "inconsistent": 0}


def finished(counts: dict[str, int], returncode: int | None = 0) -> Part:
    """A pytest part that ran with these outcomes."""
    part = pytest_part("x", "tests/x.py", 1)
    part.counts, part.returncode = counts, returncode
    return part


def test_the_last_pytest_summary_line_gives_the_counts() -> None:
    output = "..F.\n1 passed in 0.1s\n=== FAILURES ===\n1 failed, 7 passed, 2 deselected, 1 error in 3.21s\n"
    assert outcomes(output) == {"failed": 1, "passed": 7, "deselected": 2, "error": 1}
    assert outcomes("ImportError while loading conftest\n") == {}


def test_a_pytest_part_is_ok_only_when_every_collected_test_passed() -> None:
    assert finished({"passed": 3, "deselected": 1}).ok
    assert not finished({"passed": 3, "failed": 1}, returncode=1).ok
    assert not finished({"passed": 3, "skipped": 1}).ok
    assert not finished({}, returncode=5).ok
    assert not finished({"passed": 3}, returncode=None).ok  # killed at its timeout


def test_lost_acknowledged_writes_and_inconsistent_objects_are_named() -> None:
    lost: list[str] = []
    text = crash_result(finished({"passed": 1, "failed": 1}), [RUN, {**RUN, "lost": 2, "inconsistent": 3}], lost)
    assert "acknowledged writes lost 2" in text and "inconsistent objects 3" in text
    assert lost == ["2 acknowledged writes after SIGKILL", "3 objects half-applied or off balance after SIGKILL"]


def test_crash_runs_without_figures_make_the_loss_unknown() -> None:
    lost: list[str] = []
    crash_result(finished({"passed": 2, "failed": 1}), [RUN, RUN], lost)
    assert lost == ["unknown: 2 of 3 crash runs reported figures"]
    clean: list[str] = []
    assert crash_result(finished({"passed": 3}), [RUN] * 3, clean).startswith("3 SIGKILLs, 30 acknowledged writes")
    assert clean == []
