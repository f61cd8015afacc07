"""Start and stop the reference server as the default target: free port, fresh database."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

from accounting_conformance.conformance import kinds


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedServer:
    """The reference server in a child process, for one run."""

    def __init__(self, access_token: str, *, fault: str | None = None, startup_timeout: float = 20.0) -> None:
        self.access_token = access_token
        self.fault = fault
        self.startup_timeout = startup_timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._dir = Path(tempfile.mkdtemp(prefix="conformance-"))
        self._log = self._dir / "server.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Start the server and wait until it answers; return its base URL."""
        command = [
            sys.executable,
            "-m",
            "accounting_conformance.reference_server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db",
            str(self._dir / "reference.db"),
        ]  # the token travels in the environment (ACCESS_TOKEN), never on a command line `ps` shows
        for fault in (self.fault or "").split(","):
            if fault:
                command += ["--fault", fault]
        with self._log.open("wb") as log:
            env = {**os.environ, "ACCESS_TOKEN": self.access_token}
            self._proc = subprocess.Popen(command, cwd=self._dir, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the reference server exited at start:\n{self._log.read_text()[-2000:]}")
            try:
                httpx.get(
                    f"{self.url}{kinds.get('invoice').path}",
                    params={"access_token": self.access_token, "limit": 1},
                    timeout=1,
                )
                return self.url
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the reference server did not answer within {self.startup_timeout:g} s")

    def stop(self) -> None:
        """Stop the server and remove its database."""
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
