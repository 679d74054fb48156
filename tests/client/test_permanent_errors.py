"""Errors that no retry can fix, and the hints of errors after an upload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digitaleo_client.cli import app
from digitaleo_client.client import DigitaleoClient, StageChange
from digitaleo_client.client.retrying import RetryPolicies
from digitaleo_client.config import ConnectionSettings, parse_url
from digitaleo_client.errors import (
    ConfigurationError,
    DepositConnectionError,
    ExitCode,
)
from digitaleo_client.journal import Journal
from fake_server.server import FakeServer
from tests.resilience.support import settings_for

EXPORT = "Email;Prénom\npierre.dupont@example.com;Pierre\n"


def run(env: dict[str, str], *arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(arguments), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "url",
    ["file://relative/path", "file://deposit.example.com/mnt/deposit", "file:relative"],
    ids=["relative-as-host", "remote-host", "relative-path"],
)
def test_file_url_off_this_machine_rejected(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_url(url)

    assert str(caught.value) == (
        f"deposit URL {url!r} is not an absolute folder path on this machine; "
        "write three slashes before the absolute path, as in file:///mnt/deposit"
    )


@pytest.mark.parametrize(
    "url",
    ["file:///mnt/deposit", "file://localhost/mnt/deposit"],
    ids=["no-host", "localhost"],
)
def test_file_url_on_this_machine_accepted(url: str) -> None:
    assert parse_url(url).path == "/mnt/deposit"


def client_for(settings: ConnectionSettings, pauses: list[float]) -> DigitaleoClient:
    policies = RetryPolicies().with_timing(sleep=pauses.append, jitter=0.0)
    return DigitaleoClient(settings, retry_policies=policies)


def test_missing_deposit_folder_not_retried(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "folder"
    pauses: list[float] = []
    client = client_for(ConnectionSettings(url=f"file://{missing}"), pauses)

    with pytest.raises(DepositConnectionError) as caught:
        client.get_mode()

    assert pauses == []
    assert str(caught.value) == (
        f"deposit folder {missing} does not exist or is not a folder; "
        "mount the deposit there or fix the file:// URL"
    )


def test_plain_ftp_to_ftps_server_not_retried(tmp_path: Path) -> None:
    pauses: list[float] = []
    with FakeServer(tmp_path / "deposit", ftp_port=0, ftps=True) as server:
        assert server.ftp_url is not None
        plain = server.ftp_url.replace("ftps://", "ftp://")
        settings = ConnectionSettings(url=plain, password=server.password)
        with pytest.raises(DepositConnectionError) as caught:
            client_for(settings, pauses).get_mode()

    assert pauses == []
    assert "requires TLS before login" in str(caught.value)
    assert f"use ftps://127.0.0.1:{parse_url(plain).port}" in str(caught.value)


class StoppingClock:
    """A clock that never sleeps, and stops `server` at the first poll pause."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.time = 1_000_000.0

    def now(self) -> float:
        return self.time

    def monotonic(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.server.stop()
        self.time += seconds


def test_interrupted_wait_names_push_id(tmp_path: Path) -> None:
    export = tmp_path / "Newsletter.csv"
    export.write_text(EXPORT, encoding="utf-8")
    pauses: list[float] = []
    with (
        FakeServer(tmp_path / "deposit", processing_delay=2.0) as server,
        Journal(tmp_path / "journal.sqlite3") as journal,
    ):
        client = DigitaleoClient(
            settings_for(server),
            clock=StoppingClock(server),
            retry_policies=RetryPolicies().with_timing(sleep=pauses.append),
            journal=journal,
        )
        with pytest.raises(DepositConnectionError) as caught:
            client.push(export)

    message = str(caught.value)
    assert message.endswith(
        "; the file was uploaded as push 1; resume with `digitaleo wait 1`"
    )
    assert caught.value.details["push_id"] == 1
    # The read policy makes 5 attempts; each one's error is listed.
    assert len(caught.value.details["attempts"]) == 5
    assert caught.value.details["attempts"][4].startswith("attempt 5: ")


def test_wait_for_unknown_push_id(tmp_path: Path) -> None:
    env = {
        "DIGITALEO_URL": f"file://{tmp_path}",
        "DIGITALEO_CONFIG": str(tmp_path / "no-config.toml"),
        "DIGITALEO_JOURNAL": str(tmp_path / "journal.sqlite3"),
    }

    code, _, err = run(env, "wait", "99")

    assert code == ExitCode.USAGE
    assert "error: no push 99 in the journal; run `digitaleo status` to list" in err


def test_no_wait_json_ok_is_null(tmp_path: Path) -> None:
    export = tmp_path / "Newsletter.csv"
    export.write_text(EXPORT, encoding="utf-8")
    with FakeServer(tmp_path / "deposit", processing_delay=1.0) as server:
        env = {
            "DIGITALEO_URL": server.url,
            "DIGITALEO_PASSWORD": server.password or "",
            "DIGITALEO_KNOWN_HOSTS": str(server.known_hosts_path),
            "DIGITALEO_CONFIG": str(tmp_path / "no-config.toml"),
            "DIGITALEO_JOURNAL": str(tmp_path / "journal.sqlite3"),
        }
        code, out, _ = run(env, "push", str(export), "--no-wait", "--json")

    document = json.loads(out)
    assert code == ExitCode.OK
    assert document["ok"] is None
    assert document["uploaded"] is True
    assert document["stage"] in ("in", "on")


def test_interrupted_push_logs_push_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    export = tmp_path / "Newsletter.csv"
    export.write_text(EXPORT, encoding="utf-8")

    def interrupt(change: StageChange) -> None:
        raise KeyboardInterrupt

    with (
        FakeServer(tmp_path / "deposit", processing_delay=1.0) as server,
        Journal(tmp_path / "journal.sqlite3") as journal,
        DigitaleoClient(settings_for(server), journal=journal) as client,
        pytest.raises(KeyboardInterrupt),
    ):
        client.push(export, on_stage=interrupt)

    assert (
        "the file was uploaded as push 1; resume with `digitaleo wait 1`"
        in caplog.messages
    )
