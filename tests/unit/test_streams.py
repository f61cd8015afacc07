"""The generated phases side by side (conformance/streams.py): work in threads, attributed, reported in turn."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from accounting_conformance.conformance import streams as streams_module
from accounting_conformance.conformance.pacing import Pacer, RunStopped
from accounting_conformance.conformance.recorder import Recorder
from accounting_conformance.conformance.streams import Streams, serialise_ast_parsing


def recorder() -> Recorder:
    return Recorder(base="http://t.test", match=lambda method, path: None)


def record(into: Recorder, path: str) -> None:
    into.record("GET", f"http://t.test{path}", {}, None, 200, {}, "", started="", elapsed=0.0)


def test_what_a_streams_thread_sends_is_its_tests_not_the_running_ones() -> None:
    rec = recorder()
    rec.start("test_pointed")
    streams = Streams(2, rec, Pacer())
    outcome = streams.submit("test_model", lambda: record(rec, "/from-model"))
    outcome.result()
    record(rec, "/from-pytest")
    streams.close()
    assert [e.url for e in rec.exchanges_of("test_model")] == ["http://t.test/from-model"]
    assert [e.url for e in rec.exchanges_of("test_pointed")] == ["http://t.test/from-pytest"]


def test_a_new_example_in_one_stream_leaves_another_streams_exchanges() -> None:
    rec = recorder()
    with rec.attribute("test_links"):
        record(rec, "/links")
    with rec.attribute("test_model"):
        record(rec, "/model-1")
        rec.begin_example()
        record(rec, "/model-2")
    assert len(rec.exchanges_of("test_links")) == 1
    assert [e.url for e in rec.exchanges_of("test_model")] == ["http://t.test/model-2"]
    assert rec.earlier("test_model") == 1 and rec.earlier("test_links") == 0


def test_submitted_work_runs_side_by_side() -> None:
    streams = Streams(4, recorder(), Pacer())
    started = time.monotonic()
    outcomes = [streams.submit(f"t{i}", lambda i=i: time.sleep(0.4) or i) for i in range(4)]  # type: ignore[func-returns-value]
    assert [outcome.result() for outcome in outcomes] == [0, 1, 2, 3]
    assert time.monotonic() - started < 1.2, "four 0.4 s works took as long as one after another"
    streams.close()


def test_with_concurrency_one_work_runs_on_the_asking_thread_when_its_turn_comes() -> None:
    streams = Streams(1, recorder(), Pacer())
    ran: list[str] = []
    outcome = streams.submit("t", lambda: ran.append(threading.current_thread().name))
    assert ran == []
    outcome.result()
    assert ran == [threading.current_thread().name]


def test_what_the_work_raised_is_raised_by_its_result() -> None:
    streams = Streams(2, recorder(), Pacer())

    def broken() -> None:
        raise AssertionError("the target broke a rule")

    with pytest.raises(AssertionError, match="broke a rule"):
        streams.submit("t", broken).result()
    streams.close()


def test_closing_stops_a_thread_that_is_still_sending() -> None:
    pacer = Pacer()
    streams = Streams(2, recorder(), pacer)

    def sends_forever() -> None:
        while True:
            pacer.wait()
            time.sleep(0.01)

    outcome = streams.submit("t", sends_forever)
    time.sleep(0.1)
    started = time.monotonic()
    streams.close()
    assert time.monotonic() - started < 2.0
    with pytest.raises(RunStopped):
        outcome.result()


SESSION = """
import time
import pytest
from accounting_conformance.conformance.pacing import Pacer
from accounting_conformance.conformance.recorder import Recorder
from accounting_conformance.conformance.streams import Streams, stream

@pytest.fixture(scope="session")
def streams(request):
    runner = Streams({concurrency}, Recorder(base="", match=lambda m, p: None), Pacer())
    runner.begin(request)
    yield runner
    runner.close()

@pytest.fixture(scope="session")
def pause():
    def hold(name):
        with open("spans.txt", "a") as out:
            out.write(f"{{name}} start {{time.monotonic()}}\\n")
        time.sleep(0.6)
        with open("spans.txt", "a") as out:
            out.write(f"{{name}} end {{time.monotonic()}}\\n")
        return True
    return hold

def test_a_pointed_test_first():
    pass

@stream
def test_model(pause):
    pause("model")

@stream
def test_links(pause):
    assert not pause("links"), "links found a fault"

@pytest.mark.skip(reason="not claimed")
@stream
def test_set_aside(pause):
    raise AssertionError("a test set aside never runs")

@stream
def test_fuzz(pause):
    pause("fuzz")
"""


@pytest.mark.parametrize("concurrency", [1, 3])
def test_stream_tests_report_in_order_as_alone_and_side_by_side_take_one_turn(tmp_path: Path, concurrency: int) -> None:
    (tmp_path / "test_session.py").write_text(textwrap.dedent(SESSION.format(concurrency=concurrency)))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-rA", "test_session.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = done.stdout
    assert done.returncode == 1, out
    ran = [line.split("::")[1].split()[0] for line in out.splitlines() if line.startswith("test_session.py::")]
    assert ran == ["test_a_pointed_test_first", "test_model", "test_links", "test_set_aside", "test_fuzz"], out
    assert "PASSED test_session.py::test_model" in out and "PASSED test_session.py::test_fuzz" in out
    assert "FAILED test_session.py::test_links - AssertionError: links found a fault" in out
    assert "SKIPPED [1] test_session.py:" in out and "not claimed" in out
    assert "1 failed, 3 passed, 1 skipped" in out
    spans = [line.split() for line in (tmp_path / "spans.txt").read_text().splitlines()]
    starts = {name: float(at) for name, what, at in spans if what == "start"}
    ends = {name: float(at) for name, what, at in spans if what == "end"}
    assert set(starts) == set(ends) == {"model", "links", "fuzz"}
    overlapping = max(starts.values()) < min(ends.values())
    assert overlapping == (concurrency > 1), spans  # side by side, or each alone in its turn


def test_a_parse_on_a_thread_already_parsing_does_not_wait_for_itself() -> None:
    serialise_ast_parsing()
    with streams_module._PARSING:  # as when a hook that parses runs in the middle of a parse (pytest's unraisable hook)
        assert streams_module._PARSING.acquire(blocking=False), "a parse would wait for the lock its own thread holds"
        try:
            assert isinstance(ast.parse("x = 1"), ast.Module)
        finally:
            streams_module._PARSING.release()
