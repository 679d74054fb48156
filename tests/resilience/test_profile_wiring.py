"""Profiles, precedence and secrets through the `digitaleo` command.

Precedence, highest first: flag, `DIGITALEO_*` variable, profile, default.
The password comes only from DIGITALEO_PASSWORD (here), the keyring or a
prompt, and must never show up in any output, log or traceback.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from digitaleo_client import retry
from digitaleo_client.cli import app
from digitaleo_client.client import core
from digitaleo_client.errors import ExitCode
from fake_server.server import FakeServer
from tests.resilience.support import deposit_csv, write_export

PASSWORD = "Zq7-unmistakable-Secret-93"
# Nothing listens on port 1 of 127.0.0.1, so using this URL would fail.
UNUSED_URL = "sftp://crm@127.0.0.1:1"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FakeServer]:
    with FakeServer(tmp_path / "deposit", password=PASSWORD) as running:
        yield running


def write_profiles(path: Path, server: FakeServer) -> Path:
    path.write_text(
        f"""
[profiles.default]
url = "{UNUSED_URL}"

[profiles.staging]
url = "{server.url}"
known_hosts = "{server.known_hosts_path}"
timeout = 42
""",
        encoding="utf-8",
    )
    return path


def run(env: dict[str, str], *arguments: str) -> Result:
    return CliRunner().invoke(app, list(arguments), env=env)


@pytest.mark.parametrize(
    ("arguments", "variables", "source"),
    [
        (["--url", "REAL"], {"DIGITALEO_URL": UNUSED_URL}, "from --url"),
        ([], {"DIGITALEO_URL": "REAL"}, "from DIGITALEO_URL"),
        (["--profile", "staging"], {}, "from profile staging in "),
        ([], {"DIGITALEO_PROFILE": "staging"}, "from profile staging in "),
    ],
    ids=["flag-over-env", "env-over-profile", "profile-flag", "profile-variable"],
)
def test_url_precedence(
    server: FakeServer,
    tmp_path: Path,
    arguments: list[str],
    variables: dict[str, str],
    source: str,
) -> None:
    config = write_profiles(tmp_path / "config.toml", server)
    env = {
        "DIGITALEO_CONFIG": str(config),
        "DIGITALEO_PASSWORD": PASSWORD,
        "DIGITALEO_KNOWN_HOSTS": str(server.known_hosts_path),
    }
    env.update(
        {
            key: server.url if value == "REAL" else value
            for key, value in variables.items()
        }
    )
    arguments = [server.url if value == "REAL" else value for value in arguments]

    result = run(env, "mode", "show", "--json", "-v", "-v", *arguments)

    assert result.exit_code == ExitCode.OK, result.stderr
    assert json.loads(result.stdout)["mode"] == "create"
    assert f"setting url = '{server.url}' {source}" in result.stderr
    assert "setting password from DIGITALEO_PASSWORD (value hidden)" in result.stderr


def test_option_default_gives_way_to_profile(
    server: FakeServer, tmp_path: Path
) -> None:
    config = write_profiles(tmp_path / "config.toml", server)
    export = write_export(tmp_path / "crm", "clients.csv", deposit_csv(1, 2))
    env = {"DIGITALEO_CONFIG": str(config), "DIGITALEO_PASSWORD": PASSWORD}

    from_profile = run(env, "push", str(export), "--profile", "staging", "-vv")
    from_flag = run(
        env,
        "push",
        str(export),
        "--profile",
        "staging",
        "--timeout",
        "7",
        "-vv",
        "--force",
    )

    assert from_profile.exit_code == ExitCode.OK, from_profile.stderr
    assert "setting timeout = 42.0 from profile staging in " in from_profile.stderr
    assert from_flag.exit_code == ExitCode.OK, from_flag.stderr
    assert "setting timeout = 7.0 from --timeout" in from_flag.stderr


def test_profile_unknown_named(server: FakeServer, tmp_path: Path) -> None:
    config = write_profiles(tmp_path / "config.toml", server)
    env = {"DIGITALEO_CONFIG": str(config), "DIGITALEO_PASSWORD": PASSWORD}

    result = run(env, "mode", "show", "--profile", "prod")

    assert result.exit_code == ExitCode.USAGE
    assert "profile 'prod' not found in" in result.stderr
    assert "(profiles: default, staging)" in result.stderr


def product_traceback(result: Result) -> str:
    """Return the traceback of the command's exception, with the locals of its own frames.

    Python prints no locals, but error reporters such as Sentry or rich's
    traceback do. Frames of the test harness are left out, because they
    hold the test's environment, password included.
    """
    if result.exc_info is None or result.exc_info[1] is None:
        return ""
    error = result.exc_info[1]
    text = "".join(traceback.format_exception(error))
    frame_tb = error.__traceback__
    while frame_tb is not None:
        frame = frame_tb.tb_frame
        if "digitaleo_client" in frame.f_code.co_filename:
            text += "".join(
                f"{name}={value!r}\n" for name, value in frame.f_locals.items()
            )
        frame_tb = frame_tb.tb_next
    return text


def crash_in_publish(*args: object, **kwargs: object) -> None:
    raise RuntimeError("simulated crash inside push")


@pytest.mark.parametrize(
    ("faults", "crash", "expected_code"),
    [
        ([], False, ExitCode.OK),
        (["drop-upload-after=100"], False, ExitCode.CONNECTION),
        ([], True, ExitCode.ERROR),
    ],
    ids=["success", "dropped-upload", "exception-in-push"],
)
def test_password_never_shown(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    faults: list[str],
    crash: bool,
    expected_code: int,
) -> None:
    export = write_export(tmp_path / "crm", "clients.csv", deposit_csv(1, 20))
    if crash:
        monkeypatch.setattr(core.DigitaleoClient, "_publish", crash_in_publish)
    caplog.set_level(logging.DEBUG)

    with FakeServer(tmp_path / "deposit", password=PASSWORD, faults=faults) as server:
        env = {
            "DIGITALEO_URL": server.url,
            "DIGITALEO_PASSWORD": PASSWORD,
            "DIGITALEO_KNOWN_HOSTS": str(server.known_hosts_path),
            "DIGITALEO_CONFIG": str(tmp_path / "no-config.toml"),
        }
        # A single upload attempt makes the dropped upload end the push.
        monkeypatch.setattr(retry, "UPLOAD", replace(retry.UPLOAD, max_attempts=1))
        result = run(env, "push", str(export), "--json", "-vv", "--timeout", "20")
    tracebacks = product_traceback(result)

    assert result.exit_code == expected_code, result.stderr
    if crash:
        # The command reports the crash and logs its traceback at DEBUG.
        assert "unexpected RuntimeError: simulated crash inside push" in result.stderr
        assert "Traceback (most recent call last)" in result.stderr
    assert "setting password from DIGITALEO_PASSWORD (value hidden)" in result.stderr
    assert "DEBUG" in result.stderr
    assert PASSWORD not in result.stdout
    assert PASSWORD not in result.stderr
    assert PASSWORD not in caplog.text
    assert PASSWORD not in tracebacks
    journal_files = list(tmp_path.glob("journal.sqlite3*"))
    assert journal_files
    for path in journal_files:
        assert PASSWORD.encode() not in path.read_bytes()


@pytest.mark.parametrize("where", ["flag", "env"])
def test_password_in_url_never_logged(
    server: FakeServer, tmp_path: Path, where: str
) -> None:
    export = write_export(tmp_path / "crm", "clients.csv", deposit_csv(1, 2))
    url = f"sftp://crm:Secret-In-Url-42@127.0.0.1:{server.port}"
    env = {
        "DIGITALEO_CONFIG": str(tmp_path / "none.toml"),
        "DIGITALEO_PASSWORD": PASSWORD,
    }
    arguments = ["push", str(export), "-vv"]
    if where == "flag":
        arguments += ["--url", url]
    else:
        env["DIGITALEO_URL"] = url

    result = run(env, *arguments)

    assert result.exit_code == ExitCode.USAGE
    assert "Secret-In-Url-42" not in result.stderr + result.stdout
    assert f"setting url = 'sftp://crm:***@127.0.0.1:{server.port}' from" in (
        result.stderr
    )
