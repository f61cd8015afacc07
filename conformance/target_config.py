"""The target's configuration file (`--config FILE`, TOML): settings by name, the token's variable, features offered.

```toml
target = "https://sandbox.example.com"
token_env = "QBO_TOKEN"          # the environment variable that carries the token (never the token itself)
platform = "QUICKBOOKS"
fixtures = "qbo-fixtures.json"   # inputs are read relative to this file
[features]                        # what the target does not offer; a feature left out is tested
async_jobs = false
deletes = false
```
The file sits below the command line and the environment: either overrides what it says.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from accounting_conformance.conformance.claims import FEATURES

#: Settings the file may not hold: secrets belong in the environment, and the file cannot name itself.
FORBIDDEN = {"access_token": "token_env", "basic_auth": "basic_auth_env", "config": ""}
#: Settings that name an input file, read relative to the config file's directory.
INPUTS = ("fixtures", "baseline")
#: Keys that name an environment variable holding a secret setting.
SECRET_VARIABLES = {"token_env": "access_token", "basic_auth_env": "basic_auth"}


def setting_text(value: Any) -> str:
    """A TOML value as the text of a setting (a list joined by commas); TypeError for anything else (a table)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(setting_text(item) for item in value)
    if isinstance(value, (str, int, float)):
        return str(value)
    raise TypeError(type(value).__name__)


def load_config(path: Path, env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Setting name -> (its text, where it came from) for every setting the file gives; ConfigError when it is bad."""
    from accounting_conformance.conformance.settings import SETTING, SettingsError

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"CONFIG {path}: not a readable TOML file: {exc}") from None
    found: dict[str, tuple[str, str]] = {}
    where = f"{path}"
    for key, value in data.items():
        source = f"{where}, key {key}"
        if key == "features":
            found["unclaimed"] = (_unclaimed(path, value), f"{where}, [features]")
        elif key in SECRET_VARIABLES:
            name = SECRET_VARIABLES[key]
            if not isinstance(value, str) or not value:
                raise SettingsError(f"CONFIG {path}: {key} must name an environment variable, got {value!r}")
            if not env.get(value):
                raise SettingsError(
                    f"CONFIG {path}: {key} names the environment variable {value}, which is not set: "
                    f"export {value}=<the {SETTING[name].help}>"
                )
            found[name] = (env[value], f"the environment variable {value} ({key} of {where})")
        elif key in FORBIDDEN:
            instead = FORBIDDEN[key]
            hint = f"; put it in the environment and name the variable with {instead}" if instead else ""
            raise SettingsError(f"CONFIG {path}: {key} may not be set in the file{hint}")
        elif key in SETTING:
            try:
                text = setting_text(value)
            except TypeError:
                raise SettingsError(f"CONFIG {path}: {key} must be text, a number or a boolean") from None
            if key in INPUTS and not Path(text).is_absolute():
                text = str(path.parent / text)
            found[key] = (text, source)
        else:
            known = sorted({*SETTING, *SECRET_VARIABLES, "features"} - set(FORBIDDEN))
            raise SettingsError(f"CONFIG {path}: unknown key {key!r}; known: {', '.join(known)}")
    return found


def _unclaimed(path: Path, table: Any) -> str:
    from accounting_conformance.conformance.settings import SettingsError

    if not isinstance(table, dict):
        raise SettingsError(f"CONFIG {path}: [features] must be a table of feature = true|false")
    unknown = sorted(set(table) - set(FEATURES))
    if unknown:
        raise SettingsError(f"CONFIG {path}: unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURES)}")
    for name, offered in table.items():
        if not isinstance(offered, bool):
            raise SettingsError(f"CONFIG {path}: [features] {name} must be true or false, got {offered!r}")
    return ",".join(sorted(name for name, offered in table.items() if not offered))
