"""ACCESS_TOKEN_COMMAND: its output is the token, it runs at the start and once more after a 401 to the run's token
(never for a probe's missing or wrong one), a failure is a could-not-judge without its output, and every token it
ever printed is masked by every redactor of the run (conformance/tokens.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from accounting_conformance.conformance.client import ApiClient
from accounting_conformance.conformance.plugin import ConformancePlugin
from accounting_conformance.conformance.redact import Redactor
from accounting_conformance.conformance.settings import DEFAULT_FIXTURES, Settings, SettingsError, resolve
from accounting_conformance.conformance.tokens import TokenSource, run_command

TARGET = "http://target.test"


def rotating_command(tmp_path: Path, prefix: str = "tok-rotating-4b1d") -> str:
    """A command printing a new token each time it runs: <prefix>-1, <prefix>-2, ... (its runs counted in a file)."""
    counter = tmp_path / "runs"
    counter.write_text("0")
    return f'n=$(( $(cat {counter}) + 1 )); echo $n > {counter}; echo "  {prefix}-$n  "'


def runs(tmp_path: Path) -> int:
    return int((tmp_path / "runs").read_text())


def _settings(tmp_path: Path, **cli: str) -> Settings:
    given = {"target": TARGET, "fixtures": str(DEFAULT_FIXTURES), "report_dir": str(tmp_path / "reports"), **cli}
    return resolve(given, env={})


def _client(settings: Settings, answer: Callable[[httpx.Request], httpx.Response]) -> tuple[ApiClient, list[str]]:
    """A client whose requests reach `answer`; the list gathers the token each request carried ("" for none)."""
    carried: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        carried.append(request.url.params.get("access_token", ""))
        return answer(request)

    client = ApiClient(settings)
    client._http = httpx.Client(transport=httpx.MockTransport(handler))
    return client, carried


def _accepting(*tokens: str) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        ok = request.url.params.get("access_token") in tokens
        return httpx.Response(200 if ok else 401, json={} if ok else {"error_message": "expired"})

    return answer


# ------------------------------------------------------------------------------------------- at the start


def test_the_token_command_runs_when_settings_are_resolved_and_its_stripped_output_is_the_token(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path, access_token_command=rotating_command(tmp_path))
    assert settings.access_token == settings.token() == "tok-rotating-4b1d-1" and runs(tmp_path) == 1
    assert "tok-rotating-4b1d-1" in settings.secrets() and "tok-rotating-4b1d-" in settings.secrets()  # a near miss


def test_the_token_command_stands_in_for_access_token_with_a_target() -> None:
    settings = resolve(
        {"target": TARGET, "fixtures": str(DEFAULT_FIXTURES)}, env={"ACCESS_TOKEN_COMMAND": "printf tok-env-1"}
    )
    assert settings.access_token == "tok-env-1" and settings.redacted()["access_token_command"] == "***"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("echo tok-SECRET-OUTPUT-1 >&2; echo tok-SECRET-OUTPUT-2; exit 3", "exited 3"),
        ("no-such-command-for-a-token", r"exited 127 \(command not found\?\)"),
        ("echo '   '", "printed nothing on stdout"),
        ("printf 'tok-SECRET-OUTPUT-1\\ntok-SECRET-OUTPUT-2\\n'", "printed more than one line"),
    ],
    ids=["non-zero", "not-found", "empty", "two-lines"],
)
def test_a_failing_token_command_stops_the_run_with_what_to_do_and_none_of_its_output(
    command: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        resolve({"access_token_command": command}, env={})
    text = str(caught.value)
    assert text.startswith("ACCESS_TOKEN_COMMAND, run at the start of the run,") and "SECRET-OUTPUT" not in text
    assert "run the command yourself to see why (its output is not shown: it may hold the token)" in text


def test_a_token_command_that_hangs_is_ended_after_its_timeout_with_what_it_started() -> None:
    started = time.monotonic()
    with pytest.raises(SettingsError, match=r"did not finish within 0.5 s"):
        run_command("sleep 30; echo tok-late", timeout=0.5)  # the shell's child keeps the pipe: it is killed too
    assert time.monotonic() - started < 5


def test_a_token_and_a_token_command_together_are_refused() -> None:
    with pytest.raises(SettingsError, match="ACCESS_TOKEN and ACCESS_TOKEN_COMMAND are both given"):
        resolve({"access_token_command": "echo t"}, env={"ACCESS_TOKEN": "t"})


def test_a_token_or_token_command_above_the_config_file_beats_the_files_other_one(tmp_path: Path) -> None:
    config = tmp_path / "target.toml"
    config.write_text('token_env = "FILE_TOKEN"\n')
    given = {"config": str(config), "access_token_command": "echo tok-from-the-command-line"}
    assert resolve(given, env={"FILE_TOKEN": "tok-file-1"}).access_token == "tok-from-the-command-line"
    config.write_text('access_token_command = "echo tok-from-the-file"\n')
    assert resolve({"config": str(config)}, env={}).access_token == "tok-from-the-file"
    assert resolve({"config": str(config)}, env={"ACCESS_TOKEN": "tok-env-2"}).access_token == "tok-env-2"


# ------------------------------------------------------------------------------------------- after a 401


def test_a_401_mid_run_runs_the_token_command_once_more_and_sends_the_request_again(tmp_path: Path) -> None:
    settings = _settings(tmp_path, access_token_command=rotating_command(tmp_path))
    client, carried = _client(settings, _accepting("tok-rotating-4b1d-2"))  # the first token has expired
    exchange = client.request("GET", "/accounting/invoices")
    assert exchange.status == 200 and carried == ["tok-rotating-4b1d-1", "tok-rotating-4b1d-2"]
    assert runs(tmp_path) == 2 and client.token == "tok-rotating-4b1d-2"
    assert client.request("GET", "/accounting/invoices").status == 200 and runs(tmp_path) == 2  # no more runs


def test_a_probe_with_a_missing_or_wrong_token_never_runs_the_token_command(tmp_path: Path) -> None:
    settings = _settings(tmp_path, access_token_command=rotating_command(tmp_path))
    client, carried = _client(settings, _accepting("tok-rotating-4b1d-1"))
    assert client.request("GET", "/accounting/invoices", token=None).status == 401
    assert client.request("GET", "/accounting/invoices", token="not-a-token").status == 401
    assert client.request("GET", "/accounting/invoices", token=client.token[:-1]).status == 401
    assert carried == ["", "not-a-token", "tok-rotating-4b1d-"] and runs(tmp_path) == 1


def test_a_token_refused_right_after_its_refresh_is_not_fetched_again_until_one_is_accepted(tmp_path: Path) -> None:
    settings = _settings(tmp_path, access_token_command=rotating_command(tmp_path))
    client, carried = _client(settings, _accepting())  # a target that takes no token at all
    assert client.request("GET", "/accounting/invoices").status == 401
    assert client.request("GET", "/accounting/invoices").status == 401
    assert runs(tmp_path) == 2 and carried == ["tok-rotating-4b1d-1", "tok-rotating-4b1d-2", "tok-rotating-4b1d-2"]


def test_without_a_command_a_401_is_the_answer(tmp_path: Path) -> None:
    client, carried = _client(_settings(tmp_path, access_token="tok-static-1"), _accepting())
    assert client.request("GET", "/accounting/invoices").status == 401 and carried == ["tok-static-1"]


def test_a_token_command_failing_mid_run_cannot_judge_and_is_not_run_again(tmp_path: Path) -> None:
    flag = tmp_path / "broken"
    source = TokenSource.start("", command=f"test -e {flag} && exit 4; echo tok-once-1", token_in="query", timeout=5)
    flag.touch()
    with pytest.raises(SettingsError, match="run again after the target answered 401, exited 4"):
        source.refresh("tok-once-1")
    flag.unlink()  # it would succeed now, but the run has already been told it cannot judge
    with pytest.raises(SettingsError, match="exited 4"):
        source.refresh("tok-once-1")


def test_two_requests_answered_401_with_the_same_token_run_the_command_once(tmp_path: Path) -> None:
    source = TokenSource.start("", command=rotating_command(tmp_path), token_in="query")
    assert source.refresh("tok-rotating-4b1d-1") == "tok-rotating-4b1d-2"
    assert source.refresh("tok-rotating-4b1d-1") == "tok-rotating-4b1d-2"  # fetched since that request left
    assert runs(tmp_path) == 2 and source.tokens() == ("tok-rotating-4b1d-1", "tok-rotating-4b1d-2")


# ------------------------------------------------------------------------------------------- redaction


def test_a_refreshed_token_is_redacted_everywhere(tmp_path: Path) -> None:
    settings = _settings(tmp_path, access_token_command=rotating_command(tmp_path), seed="3")
    plugin = ConformancePlugin(settings)  # its redactor, and the client's, are made before the refresh
    client, _ = _client(settings, _accepting("tok-rotating-4b1d-2"))
    exchange = client.request("POST", "/accounting/invoices", body={"memo": "tok-rotating-4b1d-2"})
    fresh = client.token
    assert fresh == "tok-rotating-4b1d-2"
    reproduction = exchange.reproduction(client.redactor)
    assert fresh not in reproduction and "access_token=***" in reproduction
    for redactor in (plugin.redactor, client.redactor, Redactor(settings.secrets(), settings.basic_auth)):
        assert redactor(f"{fresh} {fresh[:-1]} {fresh.swapcase()} tok-rotating-4b1d-1") == "*** *** *** ***"
    summary = json.dumps({"settings": settings.redacted(), "reproduction": reproduction})
    assert "tok-rotating-4b1d" not in summary and json.loads(summary)["settings"]["access_token"] == "***"
