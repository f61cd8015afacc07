"""A live progress line for long runs on a terminal: the phase, tests done of all, failures so far and the seconds
elapsed, rewritten in place (carriage return) and cleared at the end. pytest's own progress letters are kept off
while it shows, so the two never fight over the line; in CI, or off a terminal, the plugin does nothing at all.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Generator, Mapping
from typing import IO, Any

import pytest

#: Variables whose presence says the run is in CI, where a log wants no carriage returns.
CI_VARIABLES = (
    "CI",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "BUILDKITE",
    "CIRCLECI",
    "TRAVIS",
    "JENKINS_URL",
    "TEAMCITY_VERSION",
    "TF_BUILD",
    "BITBUCKET_BUILD_NUMBER",
    "CODEBUILD_BUILD_ID",
    "DRONE",
)
CLEAR = "\r\x1b[K"  # back to the start of the line, erase to its end


def wanted(stream: Any, environ: Mapping[str, str]) -> bool:
    """Whether a live line suits `stream`: a terminal, outside CI, whose TERM can move the cursor."""
    try:
        terminal = bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False
    in_ci = any(environ.get(name, "").strip().lower() not in ("", "0", "false") for name in CI_VARIABLES)
    return terminal and not in_ci and environ.get("TERM", "") != "dumb"


def _private_copy(stream: IO[str]) -> IO[str]:
    """The terminal of `stream` on a descriptor of its own, which pytest's capture of stdout leaves alone."""
    try:
        descriptor = os.dup(stream.fileno())
    except (AttributeError, ValueError, OSError):  # io.UnsupportedOperation is an OSError too
        return stream
    return open(descriptor, "w", encoding=getattr(stream, "encoding", None) or "utf-8", errors="replace")


class ProgressLine:
    """pytest plugin: one live line (phase, tests done/total, failures, elapsed) while enabled, nothing otherwise."""

    name = "conformance-progress"

    def __init__(
        self, stream: IO[str], *, enabled: bool, tick: float | None = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.enabled = enabled
        self._stream = stream
        self._out = _private_copy(stream) if enabled else stream  # taken now: pytest redirects stdout once it runs
        self._tick, self._clock = tick, clock
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._thread: threading.Thread | None = None
        self._started = clock()
        self._phases: dict[str, str] = {}  # node id -> phase
        self._order: list[str] = []  # the phases in the order the run reaches them
        self.phase, self.total, self.done = "collecting", 0, 0
        self.failed: set[str] = set()
        self._shown = False

    def text(self) -> str:
        """The line as it reads now."""
        elapsed = int(self._clock() - self._started)
        if not self._order:
            return f"conformance | collecting tests | {elapsed}s"
        phase = self.phase
        if phase in self._order:
            phase = f"{phase} ({self._order.index(phase) + 1}/{len(self._order)})"
        failures = f"{len(self.failed)} failed" if self.failed else "no failures"
        return f"conformance | phase {phase} | {self.done}/{self.total} tests | {failures} | {elapsed}s"

    def _width(self) -> int:
        try:
            columns = os.get_terminal_size(self._out.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = shutil.get_terminal_size().columns
        return columns if columns > 0 else 80  # a terminal that does not say how wide it is

    def show(self) -> None:
        """Rewrite the line in place (cut to the terminal's width, so that it never wraps)."""
        if not self.enabled:
            return
        with self._lock:
            self._out.write("\r" + self.text()[: max(self._width() - 1, 10)] + "\x1b[K")
            self._out.flush()
            self._shown = True

    def clear(self) -> None:
        """Stop the clock and erase the line, leaving the cursor where pytest expects it."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            if self._shown:
                self._out.write(CLEAR)
                self._out.flush()
                self._shown = False

    def _ticking(self) -> None:
        while self._tick and not self._stop.wait(self._tick):
            self.show()  # the seconds move on during a long test too

    # ------------------------------------------------------------------------------------------- pytest hooks

    def pytest_configure(self, config: pytest.Config) -> None:
        """Stand down unless pytest is quiet (-q): without it pytest writes a line per file or test, its own progress."""
        if config.get_verbosity() >= 0:
            self.enabled = False

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Start the clock (and, given a tick, the thread that keeps the elapsed seconds moving)."""
        if not self.enabled:
            return
        self._started = self._clock()
        self.show()
        if self._tick:
            self._thread = threading.Thread(target=self._ticking, name=self.name, daemon=True)
            self._thread.start()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Count the tests to run and note each one's phase."""
        for item in session.items:
            mark = item.get_closest_marker("phase")
            phase = str(mark.args[0]) if mark is not None and mark.args else "unmarked"
            self._phases[item.nodeid] = phase
            if phase not in self._order:
                self._order.append(phase)
        self.total = len(session.items)
        self.phase = self._order[0] if self._order else self.phase
        self.show()

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        """A test starts: show its phase."""
        self.phase = self._phases.get(nodeid, self.phase)
        self.show()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count a test once as failed when any of its phases failed."""
        if report.failed:
            self.failed.add(report.nodeid)

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        """A test is done."""
        self.done += 1
        self.show()

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Generator[None, Any, Any]:
        """Keep pytest's category (its counts and summaries) but drop its letter and word while the line shows."""
        status = yield
        return (status[0], "", "") if self.enabled and status else status

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, Any, Any]:
        """Erase the line as soon as the tests are done, before pytest writes its summary (innermost wrapper)."""
        try:
            return (yield)
        finally:
            self.clear()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Erase the line if a run ended early, and let go of the terminal's descriptor."""
        self.clear()
        if self._out is not self._stream:
            self._out.close()
            self._out = self._stream
