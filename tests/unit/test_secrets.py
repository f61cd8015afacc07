"""Secrets never leak: a recognisable token and basic credentials appear in no output of a failing run."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from accounting_conformance.conformance.settings import REPO

TOKEN = "tok-RECOGNISABLE-4b1d2c9e"
CLIENT_ID, CLIENT_SECRET = "client-RECOGNISABLE-id", "secret-RECOGNISABLE-77"


@pytest.mark.slow
def test_no_output_of_a_failing_run_contains_a_secret(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "accounting_conformance.conformance", "--access-token", TOKEN, "--basic-auth", f"{CLIENT_ID}:{CLIENT_SECRET}",
         "--fault", "remaining-not-lowered", "--profile", "quick", "--seed", "9", "--report-dir", str(reports),
         "--", "-k", "test_writes or test_fuzz"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 1, done.stdout[-2000:]  # the fault is found, so there are failures to print
    assert "curl" in done.stdout and (reports / "report.html").read_text().count("curl") > 0
    outputs = {"stdout": done.stdout, "stderr": done.stderr}
    outputs.update({path.name: path.read_text(errors="replace") for path in reports.iterdir()})
    encoded = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    for name, text in outputs.items():
        for secret in (TOKEN, CLIENT_ID, CLIENT_SECRET, encoded):
            assert secret not in text, f"{secret!r} leaked into {name}"
