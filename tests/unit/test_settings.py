"""Settings resolve command line > environment > defaults, bad values fail early with what to do, and one declaration
gives the options, the environment names, the help, the secrets and the action's inputs."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from accounting_conformance.conformance.__main__ import parser
from accounting_conformance.conformance.settings import (
    DEFAULT_FIXTURES,
    DEFAULT_TOKEN,
    PROFILES,
    REPO,
    SETTING,
    SETTINGS,
    Settings,
    SettingsError,
    resolve,
)


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
        ({"token_in": "header"}, "TOKEN_IN must be query .* or bearer"),
        ({"token_in": "bearer", "basic_auth": "id:sec"}, "TOKEN_IN=bearer and BASIC_AUTH both need the Authorization"),
        (
            {"access_token": "t", "access_token_command": "echo t"},
            "ACCESS_TOKEN and ACCESS_TOKEN_COMMAND are both given",
        ),
        ({"target": "http://127.0.0.1:1"}, r"ACCESS_TOKEN is required with TARGET: .* \(or ACCESS_TOKEN_COMMAND\)"),
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
    off = resolve(
        {"target": "https://example.invalid", "access_token": "t", "fixtures": "reference_server/fixtures.json"},
        env={"TLS_VERIFY": "false"},
    )
    assert off.tls_verify is False
    on = resolve(
        {"target": "https://example.invalid", "access_token": "t", "fixtures": "reference_server/fixtures.json"}, env={}
    )
    client = ApiClient(on)
    try:
        assert client._http._transport._pool._ssl_context.verify_mode.name == "CERT_REQUIRED"  # type: ignore[attr-defined]
    finally:
        client.close()


# ------------------------------------------------------------------------------------------- one declaration

#: A valid text for every declared setting, as a user would type it; a new setting needs one here.
SAMPLES: dict[str, str] = {
    "target": "https://sandbox.example.com/versioned",
    "access_token": "tok-sample-123456",
    "fixtures": str(DEFAULT_FIXTURES),
    "profile": "quick",
    "seed": "42",
    "report_dir": "out",
    "platform": "netsuite",
    "request_timeout": "2.5",
    "rate_limit": "3",
    "concurrency": "4",
    "tls_verify": "false",
    "basic_auth": "sample-id:sample-secret",
    "token_in": "bearer",
    "access_token_command": "printf %s tok-from-a-command-77",
    "config": str(Path(__file__).parent / "samples" / "target.toml"),
    "unclaimed": "async_jobs,deletes",
    "baseline": str(Path(__file__).parent / "samples" / "baseline.toml"),
    "baseline_write": "out/baseline.toml",
    "min_coverage": "100,40",
}
#: Settings that serve in each other's place and may not be given together (Setting.alternative).
ALTERNATIVES = [(spec.name, spec.alternative) for spec in SETTINGS if spec.alternative]
#: Settings that may not be given together for another reason: both use the Authorization header.
EXCLUSIVE = [("token_in", "basic_auth")]


def _options() -> dict[str, argparse.Action]:
    return {action.dest: action for action in parser()._actions}


def test_every_field_of_settings_but_the_derived_run_tag_and_token_source_is_a_declared_setting() -> None:
    derived = ("run_tag", "token_source")
    assert [f.name for f in fields(Settings) if f.name not in derived] == [spec.name for spec in SETTINGS]
    assert set(SAMPLES) == set(SETTING), "give every declared setting a sample above"


def test_the_command_line_has_one_option_per_setting_with_its_help_default_and_environment_name() -> None:
    options = _options()
    assert set(options) - {"help", "version", "fault", "pytest_args"} == set(SETTING)
    for spec in SETTINGS:
        action = options[spec.name]
        assert action.option_strings == [spec.option] and action.metavar == spec.metavar
        assert action.help is not None and action.help.startswith(spec.help) and f"[env {spec.env}" in action.help
        shown = spec.shown_default()
        assert shown is None or f"default: {shown}" in action.help
        assert action.default is None, "defaults come from the declaration through resolve, after the environment"


def test_every_setting_is_read_from_its_environment_name_and_from_its_option() -> None:
    for spec in SETTINGS:
        from_env = resolve({}, env={spec.env: SAMPLES[spec.name]} | _companions(spec.name))
        options = vars(parser().parse_args([spec.option, SAMPLES[spec.name]]))
        from_cli = resolve(
            {k: v for k, v in options.items() if k not in ("pytest_args", "fault")}, env=_companions(spec.name)
        )
        expected = spec.parse(SAMPLES[spec.name])
        assert getattr(from_env, spec.name) == expected == getattr(from_cli, spec.name), spec.name


def _companions(name: str) -> dict[str, str]:
    """What a setting needs beside it to resolve: with a target, the settings needed with one."""
    if name != "target":
        return {}
    return {spec.env: SAMPLES[spec.name] for spec in SETTINGS if spec.needed_with_target}


def test_unset_and_empty_values_leave_the_declared_defaults() -> None:
    empty = resolve({spec.name: "" for spec in SETTINGS}, env={spec.env: "" for spec in SETTINGS})
    for spec in SETTINGS:
        if spec.name != "seed":  # drawn afresh for each run
            assert getattr(empty, spec.name) == spec.default, spec.name


def _compatible_samples() -> list[dict[str, str]]:
    """SAMPLES split so that no two settings that may not be given together are: each of a pair in one of them."""
    pairs = [*ALTERNATIVES, *EXCLUSIVE]
    return [
        {k: v for k, v in SAMPLES.items() if k not in {pair[1] for pair in pairs}},
        {k: v for k, v in SAMPLES.items() if k not in {pair[0] for pair in pairs}},
    ]


def test_every_secret_setting_is_masked_in_the_redacted_settings_and_listed_among_the_secrets() -> None:
    for samples in _compatible_samples():
        _masked_and_listed(samples)


def _masked_and_listed(samples: dict[str, str]) -> None:
    s = resolve(samples, env={})
    text = repr(s.redacted())
    secrets = s.secrets()
    for spec in SETTINGS:
        if spec.name not in samples:
            continue
        value = samples[spec.name]
        if spec.secret:
            for part in value.split(":"):
                assert part not in text and part in secrets, spec.name
        else:
            assert s.redacted()[spec.name] is not None, f"{spec.name} is not a secret: the summary shows it"


def test_a_bad_secret_is_refused_without_repeating_it() -> None:
    with pytest.raises(SettingsError) as caught:
        resolve({}, env={"BASIC_AUTH": "no-colon-SECRET-9"})
    assert "no-colon-SECRET-9" not in str(caught.value) and "BASIC_AUTH must be" in str(caught.value)
    assert "(from the environment)" in str(caught.value)


def test_near_misses_of_a_long_secret_are_secrets_too() -> None:
    s = resolve({"access_token": "tok-NEAR-4b1d2c9e"}, env={})
    assert {"tok-NEAR-4b1d2c9", "ok-NEAR-4b1d2c9e", "TOK-near-4B1D2C9E"} <= set(s.secrets())
    assert resolve({"access_token": "short"}, env={}).secrets() == ["short"]


def test_the_action_has_one_input_per_setting_described_by_its_help_and_passed_under_its_environment_name() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    inputs: dict[str, dict[str, object]] = action["inputs"]
    assert list(inputs) == [spec.action_input for spec in SETTINGS]
    for spec in SETTINGS:
        assert inputs[spec.action_input]["description"] == spec.help, spec.name
        needed = spec.name == "target" or (spec.needed_with_target and spec.alternative is None)
        assert inputs[spec.action_input]["required"] is needed, spec.name
    (judge,) = [
        step for step in action["runs"]["steps"] if str(step.get("run", "")).strip("'\"").endswith("/conformance")
    ]
    assert judge["env"] == {spec.env: f"${{{{ inputs.{spec.action_input} }}}}" for spec in SETTINGS}
