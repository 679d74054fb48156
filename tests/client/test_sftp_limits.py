"""The SFTP transport against servers with smaller request limits than OpenSSH's.

The fake deposit's file handle is changed in each test to act like such a
server: one rejects writes longer than 32 KiB, one returns at most 10,000
bytes per read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from digitaleo_client.config import ConnectionSettings
from digitaleo_client.transport.sftp import (
    LARGE_REQUEST_SIZE,
    SMALL_REQUEST_SIZE,
    SFTPTransport,
)
from fake_server.server import FakeServer
from fake_server.sftp import DepositFile

DATA = os.urandom(3 * LARGE_REQUEST_SIZE + 1234)


@pytest.fixture
def transport(digitaleo_fake_server: FakeServer) -> Iterator[SFTPTransport]:
    settings = ConnectionSettings(
        url=digitaleo_fake_server.url,
        password=digitaleo_fake_server.password,
        known_hosts=digitaleo_fake_server.known_hosts_path,
    )
    with SFTPTransport.connect(settings) as connected:
        yield connected


def test_large_writes_rejected_fall_back(
    transport: SFTPTransport,
    digitaleo_fake_server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    original_write = DepositFile.write

    def write_small_only(self: DepositFile, offset: int, data: bytes) -> int:
        if len(data) > SMALL_REQUEST_SIZE:
            return paramiko.sftp.SFTP_FAILURE
        return original_write(self, offset, data)

    monkeypatch.setattr(DepositFile, "write", write_small_only)
    source = tmp_path / "big.bin"
    source.write_bytes(DATA)

    with caplog.at_level(logging.WARNING, logger="digitaleo_client.transport.sftp"):
        sent = transport.upload(source, "contacts/delete/in/big.bin")

    # The server may be moving the file between stage folders; let it finish.
    assert digitaleo_fake_server.processor.wait_idle(timeout=10)
    stored = digitaleo_fake_server.root / "contacts/delete"
    names = [
        path.name
        for stage in ("in", "on", "ok", "ko")
        for path in (stored / stage).iterdir()
    ]
    assert sent == len(DATA)
    assert transport.request_size == SMALL_REQUEST_SIZE
    assert f"rejected {LARGE_REQUEST_SIZE}-byte write requests" in caplog.text
    assert len(names) == 1
    assert names[0].endswith("big.bin")


def test_short_reads_completed(
    transport: SFTPTransport,
    digitaleo_fake_server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original_read = DepositFile.read

    def read_at_most_10000(self: DepositFile, offset: int, length: int) -> bytes | int:
        result: bytes | int = original_read(self, offset, min(length, 10_000))
        return result

    monkeypatch.setattr(DepositFile, "read", read_at_most_10000)
    report_day = digitaleo_fake_server.root / "reporting" / "2026-01-05"
    report_day.mkdir()
    (report_day / "2026-01-05_Daily.zip").write_bytes(DATA)

    received = transport.download(
        "reporting/2026-01-05/2026-01-05_Daily.zip", tmp_path / "back.zip"
    )

    assert received == len(DATA)
    assert (tmp_path / "back.zip").read_bytes() == DATA
