"""A signal that ends a conformance run (SIGTERM, as CI runners and `timeout` send; SIGINT, Ctrl-C) ends it as
could-not-judge, wherever in the run it lands.

Python turns the signal into a KeyboardInterrupt at whatever bytecode the main thread is at. Mostly pytest catches it
and the run ends interrupted, but not always, as runs signalled at random moments showed: one lost it (as one raised
inside a finaliser, a `__del__` or a weakref callback the garbage collector runs, is swallowed as "unraisable") and
went on to a verdict of 0; in another, raised where CPython 3.11 has a frame without a line number, pytest's own
interrupt hook failed on `tb_lineno - 1` with a TypeError that escaped pytest.main. So the handler also notes that
the signal came: the plugin raises KeyboardInterrupt again before the next test (`raise_if_signalled`), and the
command's verdict is "could not judge: interrupted" whatever pytest returned or raised (`Noted`); and the process
exits with that code, not by SIGINT (`forget_the_interrupt`).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass
class Noted:
    """What a `handled()` block saw: whether a signal came while it ran."""

    signalled: bool = False


_CURRENT = Noted()  # the block that runs; the handler notes the signal here before it raises


def _handler(signum: int, frame: FrameType | None) -> None:
    """Note the signal, then end the run as Ctrl-C does."""
    _CURRENT.signalled = True
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def handled(noted: Noted) -> Iterator[None]:
    """While the block runs, SIGTERM and SIGINT raise KeyboardInterrupt and are noted in `noted` (main thread only)."""
    global _CURRENT
    _CURRENT = noted
    previous: dict[signal.Signals, Any] = {}
    try:
        for each in SIGNALS:
            previous[each] = signal.signal(each, _handler)
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)
        _CURRENT = Noted()
        if noted.signalled:
            forget_the_interrupt()


def forget_the_interrupt() -> None:
    """Keep a KeyboardInterrupt that was caught from making the interpreter exit by SIGINT.

    CPython (3.8 and later) sets a process-wide flag, `_Py_UnhandledKeyboardInterrupt`, when a KeyboardInterrupt
    leaves code that `exec` or `eval` of a string runs, caught later or not, and at exit `Py_RunMain` then kills the
    process with SIGINT instead of exiting with its code. dataclasses and namedtuple make their methods that way, so a
    signal during an import set it: a run printed "exit 2" and died by SIGINT (-2). Each `exec` of a string clears the
    flag before it runs, and this one raises nothing."""
    exec("")  # noqa: S102 - an empty string: clears the flag (Python/pythonrun.c, run_eval_code_obj)


def raise_if_signalled() -> None:
    """Raise KeyboardInterrupt if a signal came during the `handled()` block that runs, in case the one its handler
    raised was swallowed."""
    if _CURRENT.signalled:
        raise KeyboardInterrupt("interrupted by a signal")
