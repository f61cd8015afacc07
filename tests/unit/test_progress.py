"""The live progress line shows on a terminal outside CI only; there it keeps one line (phase, tests done of all,
failures so far, seconds elapsed) rewritten in place, instead of pytest's progress letters, and erases it at the
end; disabled, it writes nothing and leaves pytest's output as it is."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from collections.abc import Generator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from accounting_conformance.conformance.progress import CLEAR, ProgressLine, wanted


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class Item:
    def __init__(self, nodeid: str, phase: str | None) -> None:
        self.nodeid, self._phase = nodeid, phase

    def get_closest_marker(self, name: str) -> Any:
        return SimpleNamespace(args=(self._phase,)) if name == "phase" and self._phase else None


class Session:
    items = [Item("t.py::a", "writes"), Item("t.py::b", "writes"), Item("u.py::c", "fuzz")]


class Report:
    def __init__(self, nodeid: str, failed: bool) -> None:
        self.nodeid, self.failed = nodeid, failed


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _finish(hook: Generator[None, Any, Any], result: Any) -> Any:
    """Drive a new-style hook wrapper: run it up to its yield, hand it the inner result, return what it returns."""
    next(hook)
    with pytest.raises(StopIteration) as stopped:
        hook.send(result)
    return stopped.value.value


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"TERM": "xterm-256color"}, True),
        ({}, True),
        ({"TERM": "dumb"}, False),
        ({"CI": "true"}, False),
        ({"CI": "false", "TERM": "xterm"}, True),
        ({"GITHUB_ACTIONS": "true"}, False),
        ({"GITLAB_CI": "1"}, False),
        ({"JENKINS_URL": "http://ci"}, False),
    ],
)
def test_the_line_is_wanted_on_a_terminal_outside_ci_with_a_capable_term(
    environ: dict[str, str], expected: bool
) -> None:
    assert wanted(Terminal(), environ) is expected


def test_the_line_is_not_wanted_off_a_terminal() -> None:
    assert wanted(io.StringIO(), {}) is False
    assert wanted(object(), {}) is False  # no isatty at all
    closed = io.StringIO()
    closed.close()
    assert wanted(closed, {}) is False


def test_enabled_it_shows_the_phase_tests_done_failures_and_elapsed_seconds_then_erases_the_line() -> None:
    stream, clock = Terminal(), Clock()
    line = ProgressLine(stream, enabled=True, tick=None, clock=clock)
    line.pytest_sessionstart(Session())  # type: ignore[arg-type]
    assert stream.getvalue() == "\rconformance | collecting tests | 0s\x1b[K"
    line.pytest_collection_finish(Session())  # type: ignore[arg-type]
    line.pytest_runtest_logstart("t.py::a", ("t.py", 1, "a"))
    line.pytest_runtest_logreport(Report("t.py::a", failed=True))  # type: ignore[arg-type]
    line.pytest_runtest_logreport(Report("t.py::a", failed=True))  # type: ignore[arg-type] # its teardown failed too
    line.pytest_runtest_logfinish("t.py::a", ("t.py", 1, "a"))
    clock.now += 7.4
    line.pytest_runtest_logstart("u.py::c", ("u.py", 1, "c"))
    assert stream.getvalue().endswith("\rconformance | phase fuzz (2/2) | 1/3 tests | 1 failed | 7s\x1b[K")
    assert "\rconformance | phase writes (1/2) | 1/3 tests | 1 failed | 0s\x1b[K" in stream.getvalue()
    assert "\n" not in stream.getvalue()  # one line, rewritten in place
    loop = line.pytest_runtestloop(Session())  # type: ignore[arg-type]
    assert _finish(loop, True) is True
    assert stream.getvalue().endswith(CLEAR)


def test_enabled_it_drops_pytests_progress_letters_but_keeps_their_category_for_the_counts() -> None:
    line = ProgressLine(Terminal(), enabled=True, tick=None)
    status = _finish(line.pytest_report_teststatus(Report("t.py::a", False), None), ("failed", "F", "FAILED"))  # type: ignore[arg-type]
    assert status == ("failed", "", "")


def test_disabled_it_writes_nothing_and_leaves_pytests_letters_alone() -> None:
    stream = Terminal()
    line = ProgressLine(stream, enabled=False, tick=0.01)
    line.pytest_sessionstart(Session())  # type: ignore[arg-type]
    line.pytest_collection_finish(Session())  # type: ignore[arg-type]
    line.pytest_runtest_logstart("t.py::a", ("t.py", 1, "a"))
    line.pytest_runtest_logfinish("t.py::a", ("t.py", 1, "a"))
    assert _finish(line.pytest_report_teststatus(Report("t.py::a", False), None), ("passed", ".", "PASSED")) == (  # type: ignore[arg-type]
        "passed",
        ".",
        "PASSED",
    )
    _finish(line.pytest_runtestloop(Session()), True)  # type: ignore[arg-type]
    line.pytest_unconfigure(None)  # type: ignore[arg-type]
    assert stream.getvalue() == ""


def test_the_line_is_cut_to_the_terminal_width_so_that_it_never_wraps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "30")
    stream = Terminal()  # no descriptor: the width comes from the environment
    line = ProgressLine(stream, enabled=True, tick=None)
    line.show()
    assert stream.getvalue() == "\rconformance | collecting test\x1b[K"  # 29 columns


def test_the_clock_moves_on_during_a_long_test() -> None:
    stream, clock = Terminal(), Clock()
    line = ProgressLine(stream, enabled=True, tick=0.01, clock=clock)
    line.pytest_sessionstart(Session())  # type: ignore[arg-type]
    clock.now += 3
    for _ in range(500):
        if "| 3s" in stream.getvalue():
            break
        os.sched_yield()
        line._stop.wait(0.01)
    line.clear()
    assert "collecting tests | 3s" in stream.getvalue() and stream.getvalue().endswith(CLEAR)


RUN = """
import sys, pytest
from accounting_conformance.conformance.progress import ProgressLine
with open(sys.argv[2], "w") as terminal:
    line = ProgressLine(terminal, enabled=sys.argv[3] == "on", tick=None)
    sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-c", "/dev/null", "--rootdir", sys.argv[1],
                          "-W", "ignore::pytest.PytestUnknownMarkWarning", sys.argv[1]], plugins=[line]))
"""


@pytest.mark.parametrize("state", ["on", "off"])
def test_in_a_real_pytest_run_the_line_replaces_the_progress_letters_only_when_enabled(
    tmp_path: Path, state: str
) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_x.py").write_text(
        textwrap.dedent("""
        import pytest
        pytestmark = pytest.mark.phase("writes")
        def test_a(): pass
        def test_b(): assert False, "the failure"
        def test_c(): pass
        """)
    )
    terminal = tmp_path / "terminal"
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(tests), str(terminal), state],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert done.returncode == 1 and "1 failed, 2 passed" in done.stdout and "the failure" in done.stdout
    assert (".F." in done.stdout) is (state == "off")
    shown = terminal.read_bytes().decode()
    if state == "off":
        assert shown == ""
    else:
        assert "\rconformance | phase writes (1/1) | 3/3 tests | 1 failed | 0s\x1b[K" in shown
        assert shown.endswith(CLEAR)
