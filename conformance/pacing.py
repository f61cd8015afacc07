"""One pace for every request of a run: the target's rate limit and its 429s, shared by all that send.

A run sends from several threads at once (the generated phases run side by side, the fuzzer's operations too;
conformance/streams.py) and through two clients (the suite's own, and schemathesis' transport). The limits the
target sets are on all of them together, so every send asks one `Pacer` first:

- RATE_LIMIT: at most that many requests start per second. Each send reserves the next free slot (one every
  1/RATE_LIMIT s) and waits for it, so N threads together keep to the rate one thread would.
- 429 with Retry-After (RFC 6585 §4, RFC 9110 §10.2.3): the answer is the target's word on everyone's requests,
  so it pauses every sender until the time it names, not only the one that got it.
- Stop: once the run is over or interrupted, a send raises `RunStopped`, so background work ends at its next
  request instead of talking to a target that is being shut down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RunStopped(RuntimeError):
    """The run is over: no more requests are sent."""


class Pacer:
    """Spaces the starts of a run's requests and holds them all while the target asks to wait."""

    def __init__(
        self,
        rate_limit: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_limit is not None and rate_limit <= 0:
            raise ValueError(f"rate_limit must be a positive number of requests per second, not {rate_limit!r}")
        self.interval = 1.0 / rate_limit if rate_limit else 0.0
        self._clock = clock
        self._next = 0.0  # the earliest start of the next request under RATE_LIMIT
        self._paused_until = 0.0  # a 429's Retry-After holds every sender until then
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this request may start (its rate-limit slot, after any pause); RunStopped once stopped."""
        while True:
            self._refuse_when_stopped()
            with self._lock:
                now = self._clock()
                if self._paused_until > now:
                    delay, reserved = self._paused_until - now, False  # look again once the pause is over
                else:
                    start = max(now, self._next)
                    if self.interval:
                        self._next = start + self.interval  # the slot is this request's, even while it sleeps to it
                    delay, reserved = start - now, True
            if delay > 0:
                self._stopped.wait(delay)  # a sleep that stop() cuts short
            if reserved and self._paused_until <= self._clock():  # a 429 that came meanwhile holds this one too
                self._refuse_when_stopped()
                return

    def _refuse_when_stopped(self) -> None:
        if self._stopped.is_set():
            raise RunStopped("the run is over; no more requests are sent")

    def pause(self, seconds: float) -> None:
        """The target answered 429 asking to wait `seconds`: every sender waits that long from now."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def stop(self) -> None:
        """No request starts from now on."""
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        """Whether stop() was called."""
        return self._stopped.is_set()
