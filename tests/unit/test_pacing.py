"""The run's one pacer: RATE_LIMIT over every thread together, a 429 holds every sender, stop refuses the rest."""

from __future__ import annotations

import threading
import time

import pytest

from accounting_conformance.conformance.pacing import Pacer, RunStopped


def starts_from_threads(pacer: Pacer, threads: int, each: int) -> list[float]:
    starts: list[float] = []
    lock = threading.Lock()

    def send() -> None:
        for _ in range(each):
            pacer.wait()
            with lock:
                starts.append(time.monotonic())

    workers = [threading.Thread(target=send) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(starts)


def test_the_rate_limit_holds_for_all_threads_together() -> None:
    starts = starts_from_threads(Pacer(rate_limit=40), threads=8, each=5)
    assert len(starts) == 40
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # one start per 25 ms for all eight threads, not per thread (timer slack allowed below, never above)
    assert min(gaps) >= 0.025 - 0.004, min(gaps)
    assert starts[-1] - starts[0] >= 39 * 0.025 - 0.01


def test_without_a_rate_limit_nothing_waits() -> None:
    started = time.monotonic()
    starts = starts_from_threads(Pacer(), threads=4, each=50)
    assert len(starts) == 200 and time.monotonic() - started < 1.0


def test_a_429_pause_holds_every_sender() -> None:
    pacer = Pacer()
    pacer.pause(0.3)  # one thread's request was answered 429 with Retry-After
    started = time.monotonic()
    starts = starts_from_threads(pacer, threads=3, each=1)
    assert all(start - started >= 0.29 for start in starts), [s - started for s in starts]


def test_a_later_shorter_pause_does_not_shorten_an_earlier_one() -> None:
    pacer = Pacer()
    pacer.pause(0.3)
    pacer.pause(0.0)
    started = time.monotonic()
    pacer.wait()
    assert time.monotonic() - started >= 0.29


def test_a_stopped_pacer_refuses_every_send_even_one_waiting_out_a_pause() -> None:
    pacer = Pacer()
    pacer.pause(30)
    raised: list[BaseException] = []

    def send() -> None:
        try:
            pacer.wait()
        except RunStopped as exc:
            raised.append(exc)

    waiting = threading.Thread(target=send)
    waiting.start()
    time.sleep(0.1)
    started = time.monotonic()
    pacer.stop()
    waiting.join(5)
    assert not waiting.is_alive() and time.monotonic() - started < 1.0
    assert len(raised) == 1 and pacer.stopped
    with pytest.raises(RunStopped):
        pacer.wait()


@pytest.mark.parametrize("rate", [0, -1.5])
def test_a_rate_limit_that_is_not_positive_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacer(rate_limit=rate)
