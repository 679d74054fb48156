"""Profiles: named connection settings in a TOML file, and where each value came from.

Precedence, highest first: command-line flag, `DIGITALEO_*` environment
variable, the selected profile, then a prompt (for the password) or the
built-in default. The profile file is `DIGITALEO_CONFIG` if set, else
`config.toml` in the user's config folder (platformdirs), for instance
`~/.config/digitaleo/config.toml` on Linux:

    [profiles.default]
    url = "sftp://crm@deposit.example.com"
    known_hosts = "~/.ssh/known_hosts"
    account = "~/digitaleo/account.toml"
    keyring = true          # read the password from the system keyring

    [profiles.staging]
    url = "sftp://crm@staging.example.com:2222"

A profile never contains a password: passwords come from DIGITALEO_PASSWORD,
the system keyring (optional extra `keyring`) or a prompt.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from digitaleo_client.errors import ConfigurationError

logger = logging.getLogger(__name__)

APP_NAME = "digitaleo"
DEFAULT_PROFILE = "default"
PASSWORD_VARIABLE = "DIGITALEO_PASSWORD"
KEYRING_SERVICE = "digitaleo"

# Keys a profile may set, with the type their value must have.
PROFILE_KEYS: dict[str, type | tuple[type, ...]] = {
    "url": str,
    "user": str,
    "key_file": str,
    "known_hosts": str,
    "accept_new": bool,
    "host_key_fingerprint": str,
    "ca_file": str,
    "connect_timeout": (int, float),
    "timeout": (int, float),
    "account": str,
    "keyring": bool,
}

SECRET_KEYS = frozenset({"password"})


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return the profile file: `DIGITALEO_CONFIG`, else the user config folder's."""
    environ = os.environ if environ is None else environ
    if environ.get("DIGITALEO_CONFIG"):
        return Path(environ["DIGITALEO_CONFIG"]).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def load_profile(name: str | None, path: Path) -> dict[str, Any]:
    """Read profile `name` (None: "default") from the TOML file at `path`.

    A missing file, or a missing "default" profile, gives an empty profile.
    Raises ConfigurationError for invalid TOML, a named profile that does not
    exist, an unknown key, a value of the wrong type, or a password.
    """
    requested = name is not None
    name = name or DEFAULT_PROFILE
    if not path.exists():
        if requested:
            raise ConfigurationError(
                f"profile {name!r} requested but {path} does not exist; "
                "create it or set DIGITALEO_CONFIG to your profile file",
                key="profile",
            )
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path}: invalid TOML: {error}") from error

    profiles = data.get("profiles", {})
    if name not in profiles:
        if requested:
            known = ", ".join(sorted(profiles)) or "none"
            raise ConfigurationError(
                f"profile {name!r} not found in {path} (profiles: {known}); "
                f"add a [profiles.{name}] table or pick another --profile",
                key="profile",
            )
        return {}
    return _checked_profile(profiles[name], name, path)


def _checked_profile(profile: Any, name: str, path: Path) -> dict[str, Any]:
    where = f"{path}: [profiles.{name}]"
    if not isinstance(profile, dict):
        raise ConfigurationError(f"{where} is not a table; write it as [profiles.{name}]")
    for key, value in profile.items():
        if key in SECRET_KEYS:
            raise ConfigurationError(
                f"{where} sets {key}; remove it and use {PASSWORD_VARIABLE}, "
                "keyring = true, or the prompt",
                key=key,
            )
        expected = PROFILE_KEYS.get(key)
        if expected is None:
            raise ConfigurationError(
                f"{where} has unknown key {key!r}; use only {', '.join(sorted(PROFILE_KEYS))}",
                key=key,
            )
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise ConfigurationError(
                f"{where}: {key} = {value!r} has the wrong type; expected {expected}", key=key
            )
    return dict(profile)


@dataclass
class ResolvedSettings:
    """Setting values after precedence, with the source of each one."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def log_sources(self) -> None:
        """Log at DEBUG where each value came from, masking secrets."""
        for key in sorted(self.sources):
            if key in SECRET_KEYS:
                logger.debug("setting %s from %s (value hidden)", key, self.sources[key])
            else:
                masked = masked_setting(key, self.values[key])
                logger.debug("setting %s = %r from %s", key, masked, self.sources[key])


def masked_setting(key: str, value: Any) -> Any:
    """Return `value` as logs may show it: a URL loses any password written in it.

    Such a URL is rejected later, but its value is logged before that.
    """
    if key != "url" or not isinstance(value, str):
        return value
    scheme, separator, rest = value.partition("://")
    user_info, at, host = rest.partition("@")
    if not separator or not at or ":" not in user_info:
        return value
    user = user_info.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def resolve_settings(
    explicit: Mapping[str, tuple[Any, str]],
    profile: Mapping[str, Any],
    profile_label: str,
) -> ResolvedSettings:
    """Merge values given by flag or environment with a profile.

    `explicit` maps a key to (value, source) for values the user gave by flag
    or environment variable, source being such as "--url" or "DIGITALEO_URL".
    Keys absent from `explicit` (or given as None) fall back to `profile`.
    """
    resolved = ResolvedSettings()
    for key, (value, source) in explicit.items():
        if value is not None:
            resolved.values[key] = value
            resolved.sources[key] = source
    for key, value in profile.items():
        if key not in resolved.values:
            resolved.values[key] = value
            resolved.sources[key] = profile_label
    return resolved


def resolve_password(
    resolved: ResolvedSettings,
    environ: Mapping[str, str] | None = None,
    prompt: Callable[[str], str] | None = None,
    keyring_lookup: Callable[[str, str], str | None] | None = None,
) -> str | None:
    """Find the password: environment, then keyring (if enabled), then prompt.

    Records the source (never the value) in `resolved.sources["password"]`.
    Returns None when no source gives one, for instance with key-based login.
    """
    environ = os.environ if environ is None else environ
    password = environ.get(PASSWORD_VARIABLE)
    source = PASSWORD_VARIABLE
    if not password and resolved.get("keyring"):
        lookup = keyring_lookup or _keyring_lookup
        password = lookup(KEYRING_SERVICE, _keyring_account(resolved))
        source = "keyring"
    if not password and prompt is not None:
        password = prompt(f"Password for {_keyring_account(resolved)}")
        source = "prompt"
    if password:
        resolved.values["password"] = password
        resolved.sources["password"] = source
        return password
    return None


def _keyring_account(resolved: ResolvedSettings) -> str:
    user = resolved.get("user") or ""
    return f"{user}@{resolved.get('url', '')}" if user else str(resolved.get("url", ""))


def _keyring_lookup(service: str, account: str) -> str | None:
    try:
        import keyring
    except ImportError as error:
        raise ConfigurationError(
            "keyring = true but the keyring package is not installed; "
            "run pip install 'digitaleo-client[keyring]'"
        ) from error
    result: str | None = keyring.get_password(service, account)
    return result
