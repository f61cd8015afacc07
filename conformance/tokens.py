"""The run's access token: the one given (ACCESS_TOKEN), or what ACCESS_TOKEN_COMMAND prints, fetched once more when
the target answers 401 to a request that carried it; and where requests carry it (TOKEN_IN: the `access_token` query
parameter, or an `Authorization: Bearer` header).

Every token the command ever printed, and each near miss the suite's AUTH-001 probes send in its place, goes into one
shared `LiveSecrets`; every Redactor made from `settings.secrets()` consults it, so a token fetched mid-run is masked
wherever the first one is."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import weakref
from collections.abc import Iterable

from accounting_conformance.conformance.redact import LiveSecrets
from accounting_conformance.conformance.settings import SettingsError, near_misses

#: Seconds the command may take before the run gives up on it.
COMMAND_TIMEOUT = 30.0
#: The query parameter that carries the token with TOKEN_IN=query (the contract's #/components/parameters/AccessToken).
QUERY_PARAMETER = "access_token"

#: Each live token source by every token it gave: how schemathesis' transport, which knows only the token its
#: configuration carries, finds the run's source (conformance/transport.py).
_SOURCES: weakref.WeakValueDictionary[str, TokenSource] = weakref.WeakValueDictionary()


def run_command(command: str, timeout: float = COMMAND_TIMEOUT, *, why: str = "at the start of the run") -> str:
    """What `command` prints on stdout, stripped: the token; a SettingsError that shows none of its output when the
    command fails, prints nothing or more than one line, or takes longer than `timeout` seconds."""
    # its own session, so that a timeout ends the command and whatever it started, not just the shell
    with subprocess.Popen(
        command,
        shell=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as process:
        try:
            out, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise _failed(why, f"did not finish within {timeout:g} s") from None
    if process.returncode != 0:
        raise _failed(
            why, f"exited {process.returncode}" + (" (command not found?)" if process.returncode == 127 else "")
        )
    token = out.decode("utf-8", errors="replace").strip()
    if not token:
        raise _failed(why, "printed nothing on stdout (it must print the token)")
    if "\n" in token or "\r" in token:
        raise _failed(why, "printed more than one line (it must print the token alone)")
    return token


def _failed(why: str, problem: str) -> SettingsError:
    return SettingsError(
        f"ACCESS_TOKEN_COMMAND, run {why}, {problem}: run the command yourself to see why (its output is not shown: "
        "it may hold the token), or pass the token in ACCESS_TOKEN instead"
    )


class TokenSource:
    """The run's current token, every token it gave (all secrets), and the command that gives a new one after a 401."""

    def __init__(
        self, token: str, *, command: str | None = None, token_in: str = "query", timeout: float = COMMAND_TIMEOUT
    ) -> None:
        self.command = command
        self.token_in = token_in
        self.timeout = timeout
        self.secrets = LiveSecrets()  # every token given and its near misses; Redactors consult it as it grows
        self.refreshes = 0  # how often the command ran again after a 401
        self._given: list[str] = []
        self._lock = threading.Lock()
        self._failure: str | None = None  # why the command failed mid-run: it is not run again
        self._may_refresh = True  # False after a refresh, until the target accepts the token it gave
        self._take(token)

    @classmethod
    def start(cls, token: str, *, command: str | None, token_in: str, timeout: float = COMMAND_TIMEOUT) -> TokenSource:
        """The run's source: the token given or, with a command, the token it prints now (SettingsError if it fails)."""
        first = run_command(command, timeout) if command else token
        return cls(first, command=command, token_in=token_in, timeout=timeout)

    @property
    def current(self) -> str:
        """The token requests carry now."""
        return self._given[-1]

    @property
    def bearer(self) -> bool:
        """Whether requests carry the token in an `Authorization: Bearer` header instead of the query."""
        return self.token_in == "bearer"

    def ours(self, token: object) -> bool:
        """Whether `token` is one this source gave (a probe's missing or wrong token is not)."""
        return isinstance(token, str) and token in self._given

    def accepted(self, token: str | None) -> None:
        """The target answered a request carrying `token` with something else than 401."""
        if token is not None and token == self.current:
            self._may_refresh = True

    def refresh(self, stale: str | None) -> str | None:
        """After a 401 to a request that carried `stale`: the token to send it once more with (the command run once
        more, unless another request has just done so), or None when there is nothing else to try: `stale` is not
        ours (a probe), there is no command, or the token the last refresh gave has not been accepted yet."""
        if self.command is None or not self.ours(stale):
            return None
        with self._lock:
            if stale != self.current:
                return self.current  # fetched since that request left
            if self._failure is not None:
                raise SettingsError(self._failure)
            if not self._may_refresh:
                return None  # the command's last token was refused too: running it again would not help
            try:
                token = run_command(self.command, self.timeout, why="again after the target answered 401")
            except SettingsError as exc:
                self._failure = str(exc)
                raise
            self.refreshes += 1
            self._may_refresh = False
            self._take(token)
            return token

    def _take(self, token: str) -> None:
        self.secrets.add(token, *near_misses(token))
        if token not in self._given:
            self._given.append(token)
        else:  # the command gave an earlier token again: it is current once more
            self._given.remove(token)
            self._given.append(token)
        _SOURCES[token] = self

    def tokens(self) -> Iterable[str]:
        """Every token this source gave, the current one last."""
        return tuple(self._given)


def source_for(token: object) -> TokenSource | None:
    """The live source that gave `token`, if any."""
    return _SOURCES.get(token) if isinstance(token, str) else None
