"""The gate's day-to-day features through the real command: a baseline accepts, expires and is written from a run;
unclaimed features are set aside; too little coverage fails; a failing test leaves a recording that replays."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from accounting_conformance.conformance.embedded import EmbeddedServer

pytestmark = pytest.mark.slow

FAULT = "application-one-side"  # the memo side of an application is saved, the invoice side never
TEST = "test_application_moves_money_on_both_sides"


def _run(tmp_path: Path, name: str, *arguments: str) -> tuple[subprocess.CompletedProcess[str], dict]:  # type: ignore[type-arg]
    reports = tmp_path / name
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "accounting_conformance.conformance",
            "--profile",
            "quick",
            "--seed",
            "3",
            "--report-dir",
            str(reports),
            *arguments,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "CI"},
    )
    return done, json.loads((reports / "summary.json").read_text())


def test_a_baseline_accepts_the_failures_it_was_written_from_until_it_expires(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.toml"
    failing, data = _run(tmp_path, "write", "--fault", FAULT, "--baseline-write", str(baseline), "--", "-k", TEST)
    assert failing.returncode == 1 and data["verdict"] == "violations"
    assert any(f["rule"] == "APPLY-001" and f["recording"] for f in data["failures"])
    accepted, data = _run(tmp_path, "accepted", "--fault", FAULT, "--baseline", str(baseline), "--", "-k", TEST)
    assert accepted.returncode == 0, accepted.stdout[-2000:]
    assert data["verdict"] == "conformant" and all(f["accepted"] for f in data["failures"])
    assert (
        data["baseline"]["new"] == 0 and data["baseline"]["accepted"] and "accepted by the baseline" in accepted.stdout
    )
    expired = tmp_path / "expired.toml"
    expired.write_text(baseline.read_text().replace("expires = 20", "expires = 19"))
    done, data = _run(tmp_path, "expired", "--fault", FAULT, "--baseline", str(expired), "--", "-k", TEST)
    assert done.returncode == 1 and data["baseline"]["expired"] and "BASELINE EXPIRED" in done.stdout
    clean, data = _run(tmp_path, "fixed", "--baseline", str(baseline), "--", "-k", TEST)
    assert clean.returncode == 0 and data["baseline"]["fixed"] and "fixed, remove it" in clean.stdout


def test_a_target_without_async_jobs_passes_with_async_001_not_claimed(tmp_path: Path) -> None:
    config = tmp_path / "target.toml"
    config.write_text("[features]\nasync_jobs = false\n")
    unclaimed, data = _run(
        tmp_path, "no-async", "--fault", "async-job-never-finishes", "--config", str(config), "--", "-k", "test_writes"
    )
    assert unclaimed.returncode == 0, unclaimed.stdout[-2000:]
    status = {rule["id"]: rule["status"] for rule in data["rules"]}
    assert status["ASYNC-001"] == "not claimed" and data["claims"]["not_claimed_rules"] == ["ASYNC-001"]
    assert data["claims"]["not_claimed_tests"] and "1 rule not claimed" in data["verdict_line"]
    assert not any(row["operation_id"] == "getJob" for row in data["coverage"]["operations"])
    claimed, data = _run(tmp_path, "async", "--fault", "async-job-never-finishes", "--", "-k", "test_writes")
    assert claimed.returncode == 1 and {f["rule"] for f in data["failures"]} == {"ASYNC-001"}


def test_a_run_that_exercised_too_little_fails_on_its_coverage(tmp_path: Path) -> None:
    done, data = _run(tmp_path, "short", "--min-coverage", "100,10", "--", "-k", "test_create_echoes")
    assert done.returncode == 1 and data["verdict"] == "insufficient coverage" and not data["coverage"]["met"]
    assert "insufficient coverage: " in done.stdout.splitlines()[-1]


def test_the_recording_of_a_failure_replays_failing_then_fixed(tmp_path: Path) -> None:
    _, data = _run(tmp_path, "recorded", "--fault", FAULT, "--", "-k", TEST)
    har = tmp_path / "recorded" / next(f["recording"] for f in data["failures"] if f["rule"] == "APPLY-001")
    token = "replay-token-0123456789"
    for fault, code in ((FAULT, 1), (None, 0)):
        server = EmbeddedServer(token, fault=fault)
        try:
            url = server.start()
            done = subprocess.run(
                [sys.executable, "-m", "accounting_conformance.conformance", "replay", str(har), "--target", url],
                capture_output=True,
                text=True,
                timeout=120,
                env={**os.environ, "ACCESS_TOKEN": token},
            )
        finally:
            server.stop()
        assert done.returncode == code, done.stdout + done.stderr
        assert token not in done.stdout + done.stderr
