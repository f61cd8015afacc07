"""Settings resolve command line > environment > defaults, and bad values fail early with what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounting_conformance.conformance.settings import DEFAULT_TOKEN, PROFILES, SettingsError, resolve


def test_defaults_need_no_configuration() -> None:
    s = resolve({}, env={})
    assert s.target is None and s.access_token == DEFAULT_TOKEN and s.profile is PROFILES["default"]
    assert s.run_tag.startswith("cst-")


def test_command_line_beats_environment(tmp_path: Path) -> None:
    fixtures = tmp_path / "f.json"
    fixtures.write_text("{}")
    s = resolve({"profile": "quick", "seed": "7"}, env={"PROFILE": "thorough", "SEED": "9"})
    assert s.profile.name == "quick" and s.seed == 7
    s = resolve({}, env={"PROFILE": "thorough", "SEED": "9"})
    assert s.profile.name == "thorough" and s.seed == 9


@pytest.mark.parametrize(
    ("cli", "message"),
    [
        ({"profile": "fast"}, "PROFILE must be one of"),
        ({"seed": "-3"}, "SEED must be"),
        ({"target": "ftp://x"}, "TARGET must be a base URL"),
        ({"target": "http://127.0.0.1:1"}, "ACCESS_TOKEN is required"),
        ({"target": "http://127.0.0.1:1", "access_token": "t"}, "FIXTURES is required"),
        ({"request_timeout": "0"}, "REQUEST_TIMEOUT must be above 0"),
        ({"tls_verify": "maybe"}, "TLS_VERIFY must be true or false"),
        ({"basic_auth": "nocolon"}, "BASIC_AUTH must be"),
    ],
)
def test_bad_values_fail_early_with_what_to_do(cli: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        resolve(cli, env={})


def test_redacted_settings_hide_every_secret() -> None:
    s = resolve({"access_token": "tok-123", "basic_auth": "id:sec"}, env={})
    text = repr(s.redacted())
    assert "tok-123" not in text and "sec" not in text.replace("secrets", "")


def test_tls_verification_is_on_by_default_and_can_be_turned_off_explicitly() -> None:
    from accounting_conformance.conformance.client import ApiClient

    assert resolve({}, env={}).tls_verify is True
    off = resolve({"target": "https://example.invalid", "access_token": "t", "fixtures": "reference_server/fixtures.json"},
                  env={"TLS_VERIFY": "false"})
    assert off.tls_verify is False
    on = resolve({"target": "https://example.invalid", "access_token": "t", "fixtures": "reference_server/fixtures.json"}, env={})
    client = ApiClient(on)
    try:
        assert client._http._transport._pool._ssl_context.verify_mode.name == "CERT_REQUIRED"  # type: ignore[attr-defined]
    finally:
        client.close()
