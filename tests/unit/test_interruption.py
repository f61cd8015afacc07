"""A signalled run ends as could-not-judge wherever the signal lands, even where Python swallows its KeyboardInterrupt."""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from accounting_conformance.conformance import __main__ as cli
from accounting_conformance.conformance import interruption
from accounting_conformance.conformance.plugin import ConformancePlugin


class SignalsWhenCollected:
    """An object whose finaliser receives SIGTERM: its handler's KeyboardInterrupt is swallowed as unraisable."""

    def __del__(self) -> None:
        signal.raise_signal(signal.SIGTERM)


def _swallowed_signal() -> None:
    SignalsWhenCollected()  # collected at once: the finaliser runs and its KeyboardInterrupt goes nowhere
    gc.collect()


@pytest.fixture
def unraisable(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    return seen


def _judging(monkeypatch: pytest.MonkeyPatch, judge: Callable[[Any], tuple[int, str]]) -> None:
    monkeypatch.setattr(cli, "_judge", judge)


def test_a_signal_swallowed_by_a_finaliser_still_ends_the_run_as_could_not_judge(
    monkeypatch: pytest.MonkeyPatch, unraisable: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    def judge(options: Any) -> tuple[int, str]:
        _swallowed_signal()
        return 0, "conformant"

    _judging(monkeypatch, judge)
    assert cli.main([]) == 2
    assert [type(u.exc_value) for u in unraisable] == [KeyboardInterrupt]  # it was swallowed indeed
    out, err = capsys.readouterr()
    assert "could not judge: interrupted" in err and out.strip().endswith("exit 2 (could not judge)")


def test_an_error_raised_while_handling_the_signal_ends_the_run_as_could_not_judge(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def judge(options: Any) -> tuple[int, str]:
        try:
            signal.raise_signal(signal.SIGTERM)
        except KeyboardInterrupt:  # as pytest's own interrupt hook did, on a frame without a line number
            raise TypeError("unsupported operand type(s) for -: 'NoneType' and 'int'") from None
        return 0, "conformant"

    _judging(monkeypatch, judge)
    assert cli.main([]) == 2
    assert "could not judge: interrupted" in capsys.readouterr().err


def test_an_error_without_a_signal_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def judge(options: Any) -> tuple[int, str]:
        raise TypeError("a bug of the suite")

    _judging(monkeypatch, judge)
    with pytest.raises(TypeError, match="a bug of the suite"):
        cli.main([])


def test_the_signal_handlers_are_given_back_after_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    before = {each: signal.getsignal(each) for each in interruption.SIGNALS}
    _judging(monkeypatch, lambda options: (0, "conformant"))
    assert cli.main([]) == 0
    assert {each: signal.getsignal(each) for each in interruption.SIGNALS} == before


def test_the_next_test_does_not_start_once_a_swallowed_signal_came(unraisable: list[Any]) -> None:
    noted = interruption.Noted()
    with interruption.handled(noted):
        interruption.raise_if_signalled()  # nothing came yet
        _swallowed_signal()
        with pytest.raises(KeyboardInterrupt):
            ConformancePlugin.pytest_runtest_setup(None, None)  # type: ignore[arg-type]
    assert noted.signalled and unraisable
    interruption.raise_if_signalled()  # the block is over: a later run starts afresh


CAUGHT_IN_EXEC = """
import signal
from accounting_conformance.conformance import interruption
try:
    exec("signal.raise_signal(signal.SIGINT)")  # as a dataclass's generated __init__ being made when the signal came
except KeyboardInterrupt:
    pass
{forget}
raise SystemExit(2)
"""


@pytest.mark.parametrize(("forget", "returncode"), [("", -signal.SIGINT), ("interruption.forget_the_interrupt()", 2)])
def test_an_interrupt_caught_from_exec_leaves_the_exit_code_alone_once_forgotten(
    tmp_path: Path, forget: str, returncode: int
) -> None:
    (tmp_path / "caught.py").write_text(CAUGHT_IN_EXEC.format(forget=forget))
    run = subprocess.run(  # run with -m, as `python -m accounting_conformance.conformance` is
        [sys.executable, "-m", "caught"], cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == returncode, run.stderr  # without it CPython exits by SIGINT though the code said 2
