"""A run that is terminated (SIGTERM, as CI runners and `timeout` send) stops the reference server it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from accounting_conformance.conformance.settings import REPO


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state != "Z"


@pytest.mark.parametrize(
    "selection",
    [
        [],
        # only the generated phases: the signal comes while the streams' threads send side by side
        ["--", "-k", "credit_workflows or linked_operations or conforms_to_the_contract"],
    ],
    ids=["pointed-phases", "streams"],
)
def test_a_terminated_run_stops_its_embedded_reference_server(tmp_path: Path, selection: list[str]) -> None:
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "accounting_conformance.conformance",
            "--profile",
            "quick",
            "--seed",
            "1",
            "--report-dir",
            str(tmp_path),
            *selection,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert run.stdout is not None
    for line in run.stdout:  # wait until the server is up and the tests have begun
        if line.startswith("conformance: target "):
            break
    servers = _children(run.pid)
    assert servers, "the run started its reference server as a child process"
    time.sleep(1 if not selection else 4)
    run.send_signal(signal.SIGTERM)
    output = run.communicate(timeout=60)[0]
    assert run.returncode == 2, output[-2000:]  # could not judge: the run was cut short
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in servers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in servers), "the reference server outlived the terminated run"
