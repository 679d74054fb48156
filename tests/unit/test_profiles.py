"""Profiles and the precedence flag, environment, profile, prompt."""

import logging

import pytest

from digitaleo_client.errors import ConfigurationError
from digitaleo_client.profiles import (
    default_config_path,
    load_profile,
    resolve_password,
    resolve_settings,
)

PROFILE_FILE = """
[profiles.default]
url = "sftp://crm@deposit.example.com"
known_hosts = "~/.ssh/known_hosts"

[profiles.staging]
url = "sftp://crm@staging.example.com:2222"
connect_timeout = 5
keyring = true
"""


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(PROFILE_FILE, encoding="utf-8")
    return path


def test_default_profile_loaded(config_file):
    assert load_profile(None, config_file)["url"] == "sftp://crm@deposit.example.com"


def test_named_profile_loaded(config_file):
    profile = load_profile("staging", config_file)
    assert profile["connect_timeout"] == 5
    assert profile["keyring"] is True


def test_missing_file_without_profile_is_empty(tmp_path):
    assert load_profile(None, tmp_path / "absent.toml") == {}


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        (PROFILE_FILE, "prod", "profile 'prod' not found"),
        ('[profiles.default]\npassword = "x"\n', None, "sets password"),
        ('[profiles.default]\nurl = 3\n', None, "url = 3 has the wrong type"),
        ('[profiles.default]\nhost = "x"\n', None, "unknown key 'host'"),
        ("[profiles.default\n", None, "invalid TOML"),
    ],
    ids=["unknown-profile", "password", "wrong-type", "unknown-key", "bad-toml"],
)
def test_bad_profile_rejected(tmp_path, text, name, message):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_profile(name, path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_flag_beats_environment_beats_profile(config_file):
    profile = load_profile("staging", config_file)
    resolved = resolve_settings(
        {"url": ("sftp://flag@host", "--url"), "user": ("env-user", "DIGITALEO_USER")},
        profile,
        "profile staging",
    )
    assert resolved.values["url"] == "sftp://flag@host"
    assert resolved.sources["url"] == "--url"
    assert resolved.sources["user"] == "DIGITALEO_USER"
    assert resolved.values["connect_timeout"] == 5
    assert resolved.sources["connect_timeout"] == "profile staging"


def test_unset_flag_falls_back_to_profile(config_file):
    resolved = resolve_settings({"url": (None, "--url")}, load_profile(None, config_file), "p")
    assert resolved.values["url"] == "sftp://crm@deposit.example.com"


def test_password_from_environment_before_prompt():
    resolved = resolve_settings({}, {"url": "sftp://h"}, "p")
    prompted = []
    password = resolve_password(
        resolved, {"DIGITALEO_PASSWORD": "s3cret"}, prompt=prompted.append
    )
    assert password == "s3cret"
    assert resolved.sources["password"] == "DIGITALEO_PASSWORD"
    assert prompted == []


def test_password_from_keyring_then_prompt():
    resolved = resolve_settings({}, {"url": "sftp://h", "user": "crm", "keyring": True}, "p")
    password = resolve_password(resolved, {}, prompt=None, keyring_lookup=lambda s, a: f"{s}|{a}")
    assert password == "digitaleo|crm@sftp://h"
    assert resolved.sources["password"] == "keyring"


def test_password_prompted_last():
    resolved = resolve_settings({}, {"url": "sftp://h"}, "p")
    assert resolve_password(resolved, {}, prompt=lambda text: "typed") == "typed"
    assert resolved.sources["password"] == "prompt"


def test_sources_logged_without_secret(caplog):
    resolved = resolve_settings({"url": ("sftp://h", "--url")}, {}, "p")
    resolve_password(resolved, {"DIGITALEO_PASSWORD": "hunter2-secret"})
    with caplog.at_level(logging.DEBUG, logger="digitaleo_client.profiles"):
        resolved.log_sources()
    text = caplog.text
    assert "setting url = 'sftp://h' from --url" in text
    assert "setting password from DIGITALEO_PASSWORD (value hidden)" in text
    assert "hunter2-secret" not in text


def test_config_path_from_environment(tmp_path):
    assert default_config_path({"DIGITALEO_CONFIG": str(tmp_path / "c.toml")}) == tmp_path / "c.toml"
