"""The target's config file: settings by name below the command line and the environment, the token by variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounting_conformance.conformance.settings import SettingsError, resolve


def _config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "fx.json").write_text("{}")
    path = tmp_path / "target.toml"
    path.write_text(text)
    return path


def test_the_config_file_gives_target_token_fixtures_platform_and_features(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        'target = "https://sandbox.example.com/"\ntoken_env = "QBO_TOKEN"\nfixtures = "fx.json"\nplatform = "quickbooks"\n'
        "[features]\nasync_jobs = false\ndeletes = false\nsort = true\n",
    )
    settings = resolve({"config": str(path)}, env={"QBO_TOKEN": "tok-from-env"})
    assert settings.target == "https://sandbox.example.com" and settings.access_token == "tok-from-env"
    assert settings.fixtures == tmp_path / "fx.json" and settings.platform == "QUICKBOOKS"
    assert settings.unclaimed == {"async_jobs", "deletes"}


def test_command_line_and_environment_override_the_config_file(tmp_path: Path) -> None:
    path = _config(
        tmp_path, 'target = "https://a.example.com"\ntoken_env = "T"\nfixtures = "fx.json"\nprofile = "thorough"\n'
    )
    settings = resolve({"config": str(path), "target": "https://b.example.com"}, env={"T": "tok", "PROFILE": "quick"})
    assert settings.target == "https://b.example.com" and settings.profile.name == "quick"


def test_a_token_in_the_file_is_refused_pointing_to_token_env(tmp_path: Path) -> None:
    path = _config(tmp_path, 'access_token = "secret-in-file"\n')
    with pytest.raises(SettingsError, match="name the variable with token_env") as caught:
        resolve({"config": str(path)}, env={})
    assert "secret-in-file" not in str(caught.value)


def test_a_token_variable_that_is_not_set_says_what_to_export(tmp_path: Path) -> None:
    path = _config(tmp_path, 'token_env = "XERO_TOKEN"\n')
    with pytest.raises(SettingsError, match="XERO_TOKEN, which is not set: export XERO_TOKEN="):
        resolve({"config": str(path)}, env={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("targett = 1\n", "unknown key 'targett'; known:"),
        ("[features]\nteleport = false\n", "unknown feature"),
        ('[features]\nasync_jobs = "no"\n', "must be true or false"),
        ("target = [", "not a readable TOML file"),
        ('target = "ftp://x"\n', "TARGET must be a base URL"),
    ],
)
def test_a_bad_config_file_fails_early_saying_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        resolve({"config": str(_config(tmp_path, text))}, env={})


def test_a_config_file_that_does_not_exist_is_refused() -> None:
    with pytest.raises(SettingsError, match="CONFIG must name an existing TOML file"):
        resolve({"config": "/nonexistent/target.toml"}, env={})
