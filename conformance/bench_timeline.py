"""The pytest plugin of `make bench-remote`, loaded into the suite's own process (PYTEST_PLUGINS): it writes down
when each test starts and ends, and how many requests each test sent, to the file BENCH_REMOTE_TIMELINE names.

The requests are counted as the suite's recorder attributes them (a listener of it): the generated phases run side
by side (conformance/streams.py), so when a request arrives at the proxy does not say whose it is.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Generator

import pytest

from accounting_conformance.conformance.recorder import Recorder

TIMELINE = "BENCH_REMOTE_TIMELINE"  # the file each test's span and requests go to, one JSON line each

_SENT: dict[str, list[float]] = {}  # (in the suite's process) test -> [requests, first, last] from the recorder


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """(As the suite's plugin) count each test's requests as the suite's recorder attributes them: the generated
    phases run side by side, so the time a request arrives does not say whose it is."""
    from accounting_conformance.conformance.plugin import ConformancePlugin

    for plugin in session.config.pluginmanager.get_plugins():
        if isinstance(plugin, ConformancePlugin):
            plugin.recorder.listeners.append(_counter(plugin.recorder))


def _counter(recorder: Recorder) -> Callable[[object], None]:
    def count(entry: object) -> None:
        now = time.time()
        sent = _SENT.setdefault(recorder.current, [0, now, now])
        sent[0], sent[2] = sent[0] + 1, now

    return count


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """(As the suite's plugin) one JSON line per test that sent: its requests, the first and the last."""
    path = os.environ.get(TIMELINE)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            for test, (requests, first, last) in _SENT.items():
                out.write(json.dumps({"sent": test, "requests": int(requests), "first": first, "last": last}) + "\n")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    """(As the suite's plugin) one JSON line per test: node id, phase, start and end (time.time())."""
    started = time.time()
    try:
        return (yield)
    finally:
        mark, path = item.get_closest_marker("phase"), os.environ.get(TIMELINE)
        if path:
            span = {"test": item.nodeid, "phase": mark.args[0] if mark and mark.args else "", "start": started}
            with open(path, "a", encoding="utf-8") as out:
                out.write(json.dumps({**span, "end": time.time()}) + "\n")
