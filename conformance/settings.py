"""Run settings: command line > environment > defaults, validated before anything runs."""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from accounting_conformance.conformance.resources import fixtures_path

REPO = Path(__file__).resolve().parent.parent  # the checkout; only its developer tools (selftest, interop, bench) use it
DEFAULT_FIXTURES = fixtures_path()
DEFAULT_TOKEN = "00000000-0000-4000-8000-000000000000"
SECRET = "***"


class SettingsError(ValueError):
    """A setting is missing or bad; the message says which and what to do."""


@dataclass(frozen=True)
class Profile:
    """How hard a run tries: examples per operation, stateful steps and a time budget."""

    name: str
    max_examples: int
    stateful_examples: int
    stateful_steps: int
    budget_seconds: int


PROFILES: dict[str, Profile] = {
    "quick": Profile("quick", max_examples=15, stateful_examples=4, stateful_steps=15, budget_seconds=30),
    "default": Profile("default", max_examples=30, stateful_examples=10, stateful_steps=25, budget_seconds=120),
    "thorough": Profile("thorough", max_examples=200, stateful_examples=60, stateful_steps=50, budget_seconds=1800),
}

# name of the setting -> environment variable that may supply it
ENV = {
    "target": "TARGET",
    "access_token": "ACCESS_TOKEN",
    "fixtures": "FIXTURES",
    "profile": "PROFILE",
    "seed": "SEED",
    "report_dir": "REPORT_DIR",
    "platform": "PLATFORM",
    "request_timeout": "REQUEST_TIMEOUT",
    "rate_limit": "RATE_LIMIT",
    "tls_verify": "TLS_VERIFY",
    "basic_auth": "BASIC_AUTH",
}


@dataclass(frozen=True)
class Settings:
    """Everything a conformance run needs to know."""

    target: str | None = None
    access_token: str = DEFAULT_TOKEN
    fixtures: Path = DEFAULT_FIXTURES
    profile: Profile = PROFILES["default"]
    seed: int = 0
    report_dir: Path = Path("reports")
    platform: str | None = None
    request_timeout: float = 10.0
    rate_limit: float | None = None  # requests per second
    tls_verify: bool = True
    basic_auth: tuple[str, str] | None = None
    run_tag: str = field(default="")

    def secrets(self) -> list[str]:
        """Every string that must never appear in output."""
        found = [self.access_token]
        if self.basic_auth:
            found.extend(self.basic_auth)
        return [s for s in found if s]

    def redacted(self) -> dict[str, Any]:
        """The effective settings as JSON-ready data, secrets replaced."""
        data = asdict(self)
        data["access_token"] = SECRET
        data["basic_auth"] = [SECRET, SECRET] if self.basic_auth else None
        data["fixtures"] = str(self.fixtures)
        data["report_dir"] = str(self.report_dir)
        data["profile"] = self.profile.name
        return data

    def with_target(self, target: str) -> Settings:
        """The same settings against another base URL."""
        return replace(self, target=_check_url(target))


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"TARGET must be a base URL such as https://sandbox.example.com/versioned, got {value!r}")
    return value.rstrip("/")


def _positive_float(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{ENV[name]} must be a number, got {value!r}") from None
    if not number > 0:
        raise SettingsError(f"{ENV[name]} must be above 0, got {value!r}")
    return number


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{ENV[name]} must be true or false, got {value!r}")


def resolve(cli: Mapping[str, str | None], env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from command-line values, then the environment, then defaults."""
    env = os.environ if env is None else env
    raw: dict[str, str] = {}
    for name, var in ENV.items():
        value = cli.get(name)
        if value is None or value == "":
            value = env.get(var) or None
        if value is not None:
            raw[name] = value
    kwargs: dict[str, Any] = {}
    if "target" in raw:
        kwargs["target"] = _check_url(raw["target"])
    if "access_token" in raw:
        kwargs["access_token"] = raw["access_token"]
    elif "target" in raw:
        raise SettingsError("ACCESS_TOKEN is required with TARGET: pass ACCESS_TOKEN=<token of the connection to test>")
    if "fixtures" in raw:
        path = Path(raw["fixtures"])
        if not path.is_file():
            raise SettingsError(f"FIXTURES file {path} does not exist; pass the JSON file describing the target's reference data")
        kwargs["fixtures"] = path
    elif "target" in raw:
        raise SettingsError(
            "FIXTURES is required with TARGET: a JSON file naming the customers, vendors, accounts, items and bills "
            f"of the target (see {DEFAULT_FIXTURES} for the format)"
        )
    if "profile" in raw:
        if raw["profile"] not in PROFILES:
            raise SettingsError(f"PROFILE must be one of {', '.join(PROFILES)}, got {raw['profile']!r}")
        kwargs["profile"] = PROFILES[raw["profile"]]
    if "seed" in raw:
        if not raw["seed"].isdigit():
            raise SettingsError(f"SEED must be a non-negative whole number, got {raw['seed']!r}")
        kwargs["seed"] = int(raw["seed"])
    else:
        kwargs["seed"] = random.SystemRandom().randrange(2**31)
    if "report_dir" in raw:
        kwargs["report_dir"] = Path(raw["report_dir"])
    if "platform" in raw:
        kwargs["platform"] = raw["platform"].strip().upper()
    if "request_timeout" in raw:
        kwargs["request_timeout"] = _positive_float("request_timeout", raw["request_timeout"])
    if "rate_limit" in raw:
        kwargs["rate_limit"] = _positive_float("rate_limit", raw["rate_limit"])
    if "tls_verify" in raw:
        kwargs["tls_verify"] = _bool("tls_verify", raw["tls_verify"])
    if "basic_auth" in raw:
        user, sep, password = raw["basic_auth"].partition(":")
        if not sep:
            raise SettingsError("BASIC_AUTH must be client_id:client_secret")
        kwargs["basic_auth"] = (user, password)
    kwargs["run_tag"] = f"cst-{kwargs['seed']:x}-{random.SystemRandom().randrange(16**6):06x}"
    return Settings(**kwargs)
