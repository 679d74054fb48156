"""`digitaleo-fake-server serve` as a separate process, stopped by signal."""

import json
import logging
import os
import signal
import subprocess
import sys

import pytest

from fake_server.cli.serve import _drop_connection_resets

READY_KEYS = ["host_key_fingerprint", "known_hosts_line", "password", "url", "username"]


def start_serve(tmp_path, *arguments, password="s3cret"):
    environment = {**os.environ, "FAKE_DEPOSIT_PASSWORD": password}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fake_server",
            "serve",
            "--root",
            str(tmp_path / "deposit"),
            *arguments,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


@pytest.fixture
def serve_process(tmp_path, wait_until):
    """A running `serve` process with a ready file; killed if a test leaves it running."""
    ready_file = tmp_path / "ready.json"
    process = start_serve(
        tmp_path,
        "--ready-file",
        str(ready_file),
        "--password-env",
        "FAKE_DEPOSIT_PASSWORD",
    )
    wait_until(lambda: ready_file.exists() or process.poll() is not None, timeout=30)
    yield process, ready_file
    if process.poll() is None:
        process.kill()
        process.communicate(timeout=10)


def test_ready_file_has_connection_details(serve_process):
    _process, ready_file = serve_process

    info = json.loads(ready_file.read_text())

    assert sorted(info) == READY_KEYS
    assert info["username"] == "crm"
    assert info["password"] == "s3cret"
    assert info["url"].startswith("sftp://crm@127.0.0.1:")
    assert info["host_key_fingerprint"].startswith("SHA256:")
    port = info["url"].rsplit(":", 1)[1]
    assert info["known_hosts_line"].startswith(f"[127.0.0.1]:{port} ssh-ed25519 AAAA")
    assert ready_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"]
)
def test_serves_then_stops_on_signal(
    serve_process, tmp_path, connect_sftp, wait_until, stop_signal
):
    process, ready_file = serve_process
    info = json.loads(ready_file.read_text())
    port = int(info["url"].rsplit(":", 1)[1])
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(info["known_hosts_line"] + "\n")
    with (
        connect_sftp(port, known_hosts, "crm", "s3cret") as client,
        client.open("/contacts/import/in/list.csv", "wb") as remote,
    ):
        remote.write(b"Email\npierre.dupont@example.com\n")
    ok_folder = tmp_path / "deposit/contacts/import/ok"
    wait_until(lambda: len(list(ok_folder.iterdir())) == 1)

    os.kill(process.pid, stop_signal)
    stdout, stderr = process.communicate(timeout=20)

    assert process.returncode == 0, stderr
    assert stdout.splitlines() == [
        f"url: {info['url']}",
        "user: crm",
        "password: s3cret",
        f"host key fingerprint: {info['host_key_fingerprint']}",
        f"known_hosts line: {info['known_hosts_line']}",
    ]
    assert f"received {stop_signal.name}, stopping" in stderr
    assert "'crm' deposited /contacts/import/in/list.csv" in stderr
    assert not ready_file.exists()


def test_missing_password_variable_fails(tmp_path):
    process = start_serve(tmp_path, "--password-env", "FAKE_DEPOSIT_UNSET")

    stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 2
    assert stdout == ""
    assert stderr.strip() == (
        "error: --password-env FAKE_DEPOSIT_UNSET: the environment variable "
        "FAKE_DEPOSIT_UNSET is not set or empty; export it or leave out --password-env"
    )


def test_invalid_config_fails(tmp_path):
    config = tmp_path / "deposit.toml"
    config.write_text("[acount]\n")

    process = start_serve(tmp_path, "--config", str(config))
    stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 2
    assert stdout == ""
    assert stderr.strip().startswith(f"error: {config}: acount is not a known table")


@pytest.mark.parametrize(
    ("name", "message", "kept"),
    [
        (
            "paramiko.transport",
            "Socket exception: Connection reset by peer (104)",
            False,
        ),
        ("paramiko.transport", "Error reading SSH protocol banner", True),
        ("fake_server.sftp", "Connection reset by peer", True),
    ],
    ids=["paramiko-reset", "paramiko-other-error", "own-log"],
)
def test_connection_reset_filter(name, message, kept):
    record = logging.LogRecord(name, logging.ERROR, __file__, 1, message, None, None)

    assert _drop_connection_resets(record) is kept
