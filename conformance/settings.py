"""Run settings, declared once: each field of `Settings` made by `setting()` is a user-facing setting, and its
command-line option, environment name, default, help and secrecy all follow from that one line.
Precedence: command line > environment > defaults; a bad value stops the run before anything runs."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from accounting_conformance.conformance.resources import fixtures_path

if TYPE_CHECKING:
    from accounting_conformance.conformance.tokens import TokenSource

# the checkout; only its developer tools (selftest, interop, bench) use it
REPO = Path(__file__).resolve().parent.parent
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


# ------------------------------------------------------------------------------------------- parsers
# Each turns the text of a command-line option or an environment variable into the setting's value, or raises
# ValueError("must be ..."), which `Setting.read` completes with the setting's name and where the text came from.


def _base_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be a base URL such as https://sandbox.example.com/versioned")
    return text.rstrip("/")


def _text(text: str) -> str:
    return text


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise ValueError("must name an existing file: the JSON describing the target's reference data")
    return path


def _directory(text: str) -> Path:
    return Path(text)


def _config_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise ValueError(
            "must name an existing TOML file: the target's configuration (see README, Target configuration)"
        )
    return path


def _baseline_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise ValueError("must name an existing baseline file (write one with --baseline-write FILE)")
    return path


def _new_file(text: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise ValueError("must name a file to write, not a directory")
    return path


def _features(text: str) -> frozenset[str]:
    from accounting_conformance.conformance.claims import FEATURES

    named = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(named - set(FEATURES))
    if unknown:
        raise ValueError(f"must list features among {', '.join(FEATURES)}; unknown: {', '.join(unknown)}")
    return named


def _percent(text: str) -> float:
    try:
        number = float(text.strip().removesuffix("%"))
    except ValueError:
        raise ValueError("must be percentages OPERATIONS[,RESPONSES], such as 100,80") from None
    if not 0 <= number <= 100:
        raise ValueError("must be percentages between 0 and 100, such as 100,80")
    return number


def _coverage_minimum(text: str) -> tuple[float, float]:
    parts = text.split(",")
    if len(parts) > 2:
        raise ValueError("must be OPERATIONS[,RESPONSES] percentages, such as 100,80")
    operations = _percent(parts[0])
    return operations, _percent(parts[1]) if len(parts) == 2 else operations


def _profile(text: str) -> Profile:
    if text not in PROFILES:
        raise ValueError(f"must be one of {', '.join(PROFILES)}")
    return PROFILES[text]


def _seed(text: str) -> int:
    if not text.isdigit():
        raise ValueError("must be a non-negative whole number")
    return int(text)


def _platform(text: str) -> str:
    return text.strip().upper()


def _positive_number(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError("must be a number") from None
    if not number > 0:
        raise ValueError("must be above 0")
    return number


def _positive_whole(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError("must be a whole number of at least 1")
    return int(text)


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _token_in(text: str) -> str:
    lowered = text.strip().lower()
    if lowered not in ("query", "bearer"):
        raise ValueError("must be query (the access_token parameter) or bearer (an Authorization: Bearer header)")
    return lowered


def _command(text: str) -> str:
    if not text.strip():
        raise ValueError("must be a shell command that prints the token")
    return text


def _credentials(text: str) -> tuple[str, str]:
    user, sep, password = text.partition(":")
    if not sep:
        raise ValueError("must be client_id:client_secret")
    return user, password


def _random_seed() -> int:
    return random.SystemRandom().randrange(2**31)


# ------------------------------------------------------------------------------------------- the declaration


@dataclass(frozen=True)
class Setting:
    """One user-facing setting: how its text is read, what the help says, and whether its value is a secret."""

    name: str  # the attribute of Settings; the option, the environment name and the action input follow from it
    parse: Callable[[str], Any]
    help: str
    metavar: str
    default: Any  # the value without option or variable (None: none, or drawn afresh for each run)
    default_text: str | None = None  # what the help says instead of the default value
    secret: bool = False  # masked in every output; the help steers it to the environment
    needed_with_target: bool = False  # the embedded server's default cannot serve another target
    alternative: str | None = None  # another setting that serves in its place (and may not be given with it)

    @property
    def env(self) -> str:
        """The environment variable that may supply it (and the make variable: make passes them through)."""
        return self.name.upper()

    @property
    def option(self) -> str:
        """The command-line option."""
        return "--" + self.name.replace("_", "-")

    @property
    def action_input(self) -> str:
        """The input of action.yml that sets it."""
        return self.name.replace("_", "-")

    def shown_default(self) -> str | None:
        """The default as the help states it, or None when there is nothing to state."""
        if self.default_text is not None:
            return self.default_text
        if self.secret or self.default is None:
            return None
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        if isinstance(self.default, Profile):
            return self.default.name
        return f"{self.default:g}" if isinstance(self.default, float) else str(self.default)

    def help_line(self) -> str:
        """The option's help: what it is, its default and its environment name."""
        default = self.shown_default()
        where = (
            f"env {self.env}: a secret, set it there (other users can see a command line)"
            if self.secret
            else f"env {self.env}"
        )
        return self.help + (f"; default: {default}" if default else "") + f" [{where}]"

    def read(self, text: str, source: str) -> Any:
        """The value of `text`, or a SettingsError naming the setting, the source and what it must be."""
        try:
            return self.parse(text)
        except ValueError as exc:
            got = "" if self.secret else f", got {text!r}"  # a secret is never repeated, not even a bad one
            raise SettingsError(f"{self.env} {exc}{got} (from {source})") from None


def setting(
    default: Any = None,
    *,
    parse: Callable[[str], Any],
    help: str,
    metavar: str,
    default_factory: Callable[[], Any] | None = None,
    default_text: str | None = None,
    secret: bool = False,
    needed_with_target: bool = False,
    alternative: str | None = None,
) -> Any:
    """A field of Settings that is a user-facing setting: its Setting, but for the name, rides in the field's metadata."""
    spec = Setting("", parse, help, metavar, default, default_text, secret, needed_with_target, alternative)
    if default_factory is not None:
        return field(default_factory=default_factory, metadata={"setting": replace(spec, default=None)})
    return field(default=default, metadata={"setting": spec})


@dataclass(frozen=True)
class Settings:
    """Everything a conformance run needs to know; each `setting()` field is one line of the declaration."""

    target: str | None = setting(
        parse=_base_url,
        metavar="URL",
        default_text="the embedded reference server, started for the run",
        help="base URL of the server to judge (paths of the contract are appended)",
    )
    access_token: str = setting(
        DEFAULT_TOKEN,
        parse=_text,
        metavar="TOKEN",
        secret=True,
        needed_with_target=True,
        alternative="access_token_command",
        default_text="the embedded reference server's",
        help="access_token of the connection to test",
    )
    fixtures: Path = setting(
        DEFAULT_FIXTURES,
        parse=_existing_file,
        metavar="FILE",
        needed_with_target=True,
        help="JSON file naming the target's customers, vendors, accounts, items and bills",
    )
    profile: Profile = setting(
        PROFILES["default"], parse=_profile, metavar="|".join(PROFILES), help=f"how hard to try: {', '.join(PROFILES)}"
    )
    seed: int = setting(
        parse=_seed,
        metavar="N",
        default_factory=_random_seed,
        default_text="a new one, printed for replay",
        help="random seed; the same seed replays the same run",
    )
    report_dir: Path = setting(
        Path("reports"),
        parse=_directory,
        metavar="DIR",
        help="where junit.xml, summary.json and report.html are written",
    )
    platform: str | None = setting(
        parse=_platform, metavar="NAME", help="the target's platform (operations not documented for it are skipped)"
    )
    request_timeout: float = setting(
        10.0, parse=_positive_number, metavar="SECONDS", help="seconds to wait for one response"
    )
    rate_limit: float | None = setting(
        parse=_positive_number,
        metavar="PER_SECOND",
        default_text="no limit",
        help="at most this many requests per second",
    )
    concurrency: int = setting(
        8,
        parse=_positive_whole,
        metavar="N",
        help="at most this many requests in flight at once: the generated phases (model, links, fuzz) run side by "
        "side and the fuzzer's operations too; 1 sends one request at a time",
    )
    tls_verify: bool = setting(
        True, parse=_bool, metavar="true|false", help="verify the target's TLS certificate (false to opt out)"
    )
    basic_auth: tuple[str, str] | None = setting(
        parse=_credentials,
        metavar="ID:SECRET",
        secret=True,
        help="client_id:client_secret for HTTP basic authentication",
    )
    token_in: str = setting(
        "query",
        parse=_token_in,
        metavar="query|bearer",
        help="where requests carry the token: query (the access_token parameter) or bearer (an Authorization: Bearer "
        "header)",
    )
    access_token_command: str | None = setting(
        parse=_command,
        metavar="COMMAND",
        secret=True,
        help="shell command whose output is the access token, instead of ACCESS_TOKEN: run at the start and once more "
        "when the target answers 401; whatever it prints is masked",
    )
    config: Path | None = setting(
        parse=_config_file,
        metavar="FILE",
        help="TOML file describing the target: any of these settings by name, token_env (the variable holding its "
        "token) and a [features] table of what it does not offer",
    )
    unclaimed: frozenset[str] = setting(
        frozenset(),
        parse=_features,
        metavar="FEATURE,...",
        default_text="none: every feature is tested",
        help="features the target does not offer, whose rules are reported 'not claimed' (claims.FEATURES)",
    )
    baseline: Path | None = setting(
        parse=_baseline_file,
        metavar="FILE",
        help="accepted failures (rule + operation or test, reason, expires): matching failures do not fail the run",
    )
    baseline_write: Path | None = setting(
        parse=_new_file, metavar="FILE", help="write the run's failures to FILE as a baseline to edit and adopt"
    )
    min_coverage: tuple[float, float] | None = setting(
        parse=_coverage_minimum,
        metavar="OPS[,RESPONSES]",
        help="fail the run below these percentages of operations exercised with a success and of documented "
        "responses seen (one number sets both)",
    )
    run_tag: str = ""  # derived from the seed by resolve(), not a setting
    #: the run's token as it goes (conformance/tokens.py), made by resolve(), not a setting
    token_source: TokenSource | None = field(default=None, compare=False, repr=False)

    def secrets(self) -> list[str]:
        """Every string that must never appear in output: each secret value and, for a long one, its near misses;
        with a token source, its live collection, which grows by every token fetched later in the run."""
        found: list[str] = []
        for spec in SETTINGS:
            if spec.secret:
                value = getattr(self, spec.name)
                found.extend(value if isinstance(value, tuple) else [value] if value else [])
        misses = [miss for s in found if s != self.access_token_command for miss in near_misses(s)]
        if self.token_source is None:
            return [s for s in found if s] + misses
        self.token_source.secrets.add(*found, *misses)
        return self.token_source.secrets

    def token(self) -> str:
        """The token requests carry now: the one given, or the one ACCESS_TOKEN_COMMAND printed last."""
        return self.token_source.current if self.token_source is not None else self.access_token

    def redacted(self) -> dict[str, Any]:
        """The effective settings as JSON-ready data, secrets replaced."""
        secret = {spec.name for spec in SETTINGS if spec.secret}
        return {
            f.name: _masked(getattr(self, f.name)) if f.name in secret else _json(getattr(self, f.name))
            for f in fields(self)
            if f.name != "token_source"
        }

    def with_target(self, target: str) -> Settings:
        """The same settings against another base URL."""
        return replace(self, target=SETTING["target"].read(target, "the embedded server"))


def _json(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Profile):
        return value.name
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, frozenset):
        return sorted(value)
    return value


NEAR_MISS_MIN = 8  # below this a secret's near misses are too short to mask without masking ordinary text


def near_misses(secret: str) -> list[str]:
    """What the suite's AUTH-001 probes send in place of the token (its own near misses: one character off at either
    end, the case swapped), each of which shows all of the secret but a character when a target wrongly accepts it."""
    if len(secret) < NEAR_MISS_MIN:
        return []
    return [miss for miss in (secret[:-1], secret[1:], secret.swapcase()) if miss != secret]


def _masked(value: Any) -> Any:
    if value is None:
        return None
    return [SECRET] * len(value) if isinstance(value, tuple) else SECRET


def _declared(f: Field[Any]) -> Setting:
    spec: Setting = f.metadata["setting"]
    return replace(spec, name=f.name)


SETTINGS: tuple[Setting, ...] = tuple(_declared(f) for f in fields(Settings) if "setting" in f.metadata)
SETTING: dict[str, Setting] = {spec.name: spec for spec in SETTINGS}
ENV: dict[str, str] = {spec.name: spec.env for spec in SETTINGS}  # name of the setting -> its environment variable


def rivals(name: str) -> set[str]:
    """The settings that serve in place of `name`, or in whose place it serves (Setting.alternative)."""
    return {spec.alternative for spec in SETTINGS if spec.name == name and spec.alternative} | {
        spec.name for spec in SETTINGS if spec.alternative == name
    }


def resolve(cli: Mapping[str, str | None], env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from command-line values, then the environment, then the target's config file, then defaults."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for spec in SETTINGS:
        if cli.get(spec.name):
            values[spec.name] = spec.read(str(cli[spec.name]), spec.option)
        elif env.get(spec.env):
            values[spec.name] = spec.read(env[spec.env], "the environment")
    if values.get("config") is not None:  # the target's file comes after command line and environment
        from accounting_conformance.conformance.target_config import load_config

        given = set(values)  # a setting given above the file, or one that serves in its place, beats the file's
        for name, (text, source) in load_config(values["config"], env).items():
            if name not in given and not rivals(name) & given:
                values[name] = SETTING[name].read(text, source)
    for spec in SETTINGS:
        if spec.alternative and spec.name in values and spec.alternative in values:
            other = SETTING[spec.alternative]
            raise SettingsError(
                f"{spec.env} and {other.env} are both given: give one of them ({other.env} serves in place of {spec.env})"
            )
    if values.get("token_in") == "bearer" and values.get("basic_auth"):
        raise SettingsError(
            "TOKEN_IN=bearer and BASIC_AUTH both need the Authorization header: give one of them (TOKEN_IN=query "
            "sends the token in the access_token parameter beside basic credentials)"
        )
    if "target" in values:
        for spec in SETTINGS:
            if spec.needed_with_target and spec.name not in values and spec.alternative not in values:
                fits = (
                    "" if spec.secret else f"; the default, {spec.shown_default()}, is the embedded reference server's"
                )
                instead = f" (or {SETTING[spec.alternative].env})" if spec.alternative else ""
                raise SettingsError(
                    f"{spec.env} is required with TARGET: pass {spec.option} or set {spec.env}{instead}, "
                    f"the {spec.help}{fits}"
                )
    settings = Settings(**values)
    from accounting_conformance.conformance.tokens import TokenSource

    tokens = TokenSource.start(settings.access_token, command=settings.access_token_command, token_in=settings.token_in)
    return replace(
        settings,
        access_token=tokens.current,
        token_source=tokens,
        run_tag=f"cst-{settings.seed:x}-{random.SystemRandom().randrange(16**6):06x}",
    )
