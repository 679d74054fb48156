"""Helpers shared by the tests: an SFTP client on paramiko, and waiting."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import paramiko
import pytest

from digitaleo_client.transport import sftp as sftp_transport

# `pytester` runs small test suites in a subprocess, to check the plugin that
# the package registers through its pytest11 entry point.
pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def forget_small_request_servers() -> Iterator[None]:
    """Keep the SFTP servers one test saw drop large writes from the next tests."""
    yield
    sftp_transport._SMALL_REQUEST_SERVERS.clear()


@contextmanager
def _open_sftp(
    port: int,
    known_hosts: Path,
    username: str,
    password: str | None = None,
    key: paramiko.PKey | None = None,
) -> Iterator[paramiko.SFTPClient]:
    """Open an SFTP session on 127.0.0.1 that trusts only the keys in `known_hosts`."""
    client = paramiko.SSHClient()
    client.load_host_keys(str(known_hosts))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(
            "127.0.0.1",
            port,
            username=username,
            password=password,
            pkey=key,
            look_for_keys=False,
            allow_agent=False,
            timeout=10,
            auth_timeout=10,
        )
        yield client.open_sftp()
    finally:
        client.close()


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll `condition` until it holds; fail the test after `timeout` seconds.

    For waiting on other threads and processes only: tests of time itself
    move an injected clock instead.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition still false after {timeout} seconds: {condition}")
        time.sleep(0.01)


@pytest.fixture
def connect_sftp() -> Callable[
    ..., contextlib.AbstractContextManager[paramiko.SFTPClient]
]:
    """Return a function that opens an SFTP session: see `_open_sftp`."""
    return _open_sftp


@pytest.fixture
def wait_until() -> Callable[..., None]:
    """Return a function that polls a condition: see `_wait_until`."""
    return _wait_until


@pytest.fixture(autouse=True)
def _journal_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the client's journal of every test in its own temporary folder.

    Without it, commands run in tests would record pushes in the user's state
    folder and reject a later test's push of the same content as a duplicate.
    """
    monkeypatch.setenv("DIGITALEO_JOURNAL", str(tmp_path / "journal.sqlite3"))
