"""Every entry point keeps its secrets and its exit code: a recognisable token and basic credentials appear in no
output of the console script, `python -m` or `make conformance`; the console script, the action and the workflow
example keep 0 / 1 / 2, and make says which it folded into its own 2."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from accounting_conformance.conformance.embedded import free_port
from accounting_conformance.conformance.settings import DEFAULT_FIXTURES, REPO, SETTINGS

TOKEN = "tok-RECOGNISABLE-4b1d2c9e"
CLIENT_ID, CLIENT_SECRET = "client-RECOGNISABLE-id", "secret-RECOGNISABLE-77"
SECRETS = (
    TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode(),
    TOKEN[:-1],
    TOKEN[1:],
    TOKEN.swapcase(),
)  # the suite's own near misses of the token, sent by AUTH-001
CONSOLE_SCRIPT = Path(sys.executable).parent / "conformance"
VERDICTS = {0: "conformant", 1: "violations found", 2: "could not judge"}


def _assert_no_secret(done: subprocess.CompletedProcess[str], reports: Path) -> None:
    outputs = {"stdout": done.stdout, "stderr": done.stderr}
    outputs.update(
        {
            str(path.relative_to(reports)): path.read_text(errors="replace")
            for path in reports.rglob("*")
            if path.is_file()
        }
        if reports.is_dir()
        else {}
    )
    assert "summary.json" in outputs, "the run wrote its reports"
    for name, text in outputs.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} leaked into {name}"


def _last_line(text: str) -> str:
    return [line for line in text.splitlines() if line.strip()][-1]


def _clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without the suite's settings or an enclosing make's flags, plus `settings`."""
    names = {spec.env for spec in SETTINGS} | {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}
    return {k: v for k, v in os.environ.items() if k not in names} | settings


@pytest.fixture
def accepting_target() -> Iterator[str]:
    """A server that takes any token, near misses included, and answers `{}` to everything: violations galore."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _answer

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# ------------------------------------------------------------------------------------------- secrets


@pytest.mark.slow
def test_no_output_of_a_failing_run_contains_a_secret(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "accounting_conformance.conformance",
            "--access-token",
            TOKEN,
            "--basic-auth",
            f"{CLIENT_ID}:{CLIENT_SECRET}",
            "--fault",
            "remaining-not-lowered",
            "--profile",
            "quick",
            "--seed",
            "9",
            "--report-dir",
            str(reports),
            "--",
            "-k",
            "test_writes or test_fuzz",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stdout[-2000:]  # the fault is found, so there are failures to print
    assert "curl" in done.stdout and (reports / "report.html").read_text().count("curl") > 0
    _assert_no_secret(done, reports)


def _make(tmp_path: Path, *variables: str) -> subprocess.CompletedProcess[str]:
    # -o: take the install stamp as it is (a test must not reinstall the venv); the recipe is the one users run
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",
            "conformance",
            *variables,
            f"ACCESS_TOKEN={TOKEN}",
            f"BASIC_AUTH={CLIENT_ID}:{CLIENT_SECRET}",
            f"REPORT_DIR={tmp_path / 'reports'}",
        ],
        cwd=REPO,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_make_conformance_echoes_no_secret_and_puts_none_on_a_command_line() -> None:
    dry = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-n",
            "-o",
            ".venv/.installed",
            "conformance",
            f"ACCESS_TOKEN={TOKEN}",
            f"BASIC_AUTH={CLIENT_ID}:{CLIENT_SECRET}",
        ],
        cwd=REPO,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dry.returncode == 0, dry.stderr
    assert ".venv/bin/conformance" in dry.stdout  # what the recipe would run, and with what arguments
    for secret in SECRETS:
        assert secret not in dry.stdout + dry.stderr


def test_make_conformance_against_an_unreachable_target_prints_no_secret_and_the_suites_exit_2(tmp_path: Path) -> None:
    done = _make(tmp_path, f"TARGET=http://127.0.0.1:{free_port()}", f"FIXTURES={DEFAULT_FIXTURES}")
    assert done.returncode == 2
    assert "conformance: could not judge: target unreachable" in done.stderr
    assert "conformance: exit 2 (could not judge)" in done.stdout
    _assert_no_secret(done, tmp_path / "reports")


@pytest.mark.slow
def test_make_conformance_with_violations_prints_no_secret_and_says_the_suite_exited_1(
    tmp_path: Path, accepting_target: str
) -> None:
    done = _make(tmp_path, f"TARGET={accepting_target}", f"FIXTURES={DEFAULT_FIXTURES}", "PROFILE=quick", "SEED=1")
    assert done.returncode == 2, "make folds the suite's 1 into its own 2"
    assert "access_token=***" in done.stdout, "the near-miss token probes failed and printed their curls"
    assert _last_line(done.stdout) == (
        "make conformance: the suite exited 1 (line above); make shows it as exit 2, .venv/bin/conformance keeps 0/1/2"
    )
    assert "conformance: exit 1 (violations found: " in done.stdout
    _assert_no_secret(done, tmp_path / "reports")


def test_the_make_recipe_is_silent_and_passes_no_setting_on_a_command_line() -> None:
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^conformance:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    assert recipe.group(1).startswith("\t@"), "make would echo the command"
    for spec in SETTINGS:
        assert f"$({spec.env})" not in recipe.group(1), f"{spec.env} is handed to the suite in the environment"
    assert "CONFORMANCE_ARGS" not in makefile


# ------------------------------------------------------------------------------------------- exit codes


@pytest.mark.slow
@pytest.mark.parametrize(
    ("code", "arguments"),
    [
        (0, ["--profile", "quick", "--", "-k", "test_writes"]),
        (1, ["--profile", "quick", "--fault", "remaining-not-lowered", "--", "-k", "test_writes"]),
        (2, ["--target", "http://127.0.0.1:{port}", "--fixtures", str(DEFAULT_FIXTURES)]),
    ],
    ids=["conformant", "violations", "could-not-judge"],
)
def test_the_console_script_exits_0_1_or_2_and_says_so_on_its_last_line(
    code: int, arguments: list[str], tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            str(CONSOLE_SCRIPT),
            "--seed",
            "5",
            "--report-dir",
            str(tmp_path / "reports"),
            *(a.format(port=free_port()) for a in arguments),
        ],
        cwd=tmp_path,
        env=_clean_env(ACCESS_TOKEN=TOKEN),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == code, done.stdout[-2000:] + done.stderr[-2000:]
    assert _last_line(done.stdout).startswith(f"conformance: exit {code} ({VERDICTS[code]}")
    _assert_no_secret(done, tmp_path / "reports")


def _steps(path: Path) -> list[dict[str, Any]]:
    document = yaml.safe_load(path.read_text())
    if "runs" in document:
        steps: list[dict[str, Any]] = document["runs"]["steps"]
        return steps
    return [step for job in document["jobs"].values() for step in job["steps"]]


def _judging(steps: list[dict[str, Any]]) -> dict[str, Any]:
    (step,) = [s for s in steps if re.fullmatch(r"\"?(\S*/)?conformance\"?", str(s.get("run", "")).strip())]
    return step


@pytest.mark.parametrize("path", ["action.yml", ".github/workflows/conformance-example.yml"])
def test_ci_runs_the_console_script_with_the_token_in_the_environment_and_no_input_on_a_command_line(path: str) -> None:
    steps = _steps(REPO / path)
    judge = _judging(steps)  # the console script alone: it keeps 0/1/2, and nothing follows it on its command line
    assert re.fullmatch(r"\$\{\{ (inputs\.access-token|secrets\.\w+) \}\}", judge["env"]["ACCESS_TOKEN"])
    assert set(judge["env"]) <= {spec.env for spec in SETTINGS}
    for step in steps:
        run = str(step.get("run", ""))
        assert "${{" not in run, f"an expression in a run: line is pasted into the script: {run!r}"
        assert "make " not in run, "make folds the suite's exit 1 into its own 2"


@pytest.mark.slow
def test_the_embedded_server_gets_its_token_from_the_environment_not_its_command_line() -> None:
    import httpx

    from accounting_conformance.conformance.embedded import EmbeddedServer

    token = "embedded-token-7f3a9c"
    with EmbeddedServer(token) as server:
        assert server._proc is not None
        command_line = Path(f"/proc/{server._proc.pid}/cmdline").read_bytes().decode(errors="replace")
        assert token not in command_line
        answer = httpx.get(f"{server.url}/accounting/invoices", params={"access_token": token, "limit": 1})
        assert answer.status_code == 200


def test_make_serve_echoes_no_token() -> None:
    run = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "serve", "ACCESS_TOKEN=serve-token-5e1d"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "serve-token-5e1d" not in run.stdout + run.stderr
