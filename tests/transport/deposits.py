"""Deposit folders and servers that the transport tests run against."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from digitaleo_client.config import ConnectionSettings
from digitaleo_client.deposit import all_remote_folders
from digitaleo_client.transport import Transport
from fake_server.ftp import DepositFTPHandler, FTPFrontEnd

USER = "crm"
PASSWORD = "s3cret-Pass"


def make_deposit(root: Path) -> Path:
    """Create the published folder layout under `root` and return `root`."""
    for folder in all_remote_folders():
        (root / folder).mkdir(parents=True, exist_ok=True)
    return root


def accept_test_user(username: str, password: str) -> bool:
    return (username, password) == (USER, PASSWORD)


class ListOnlyFTPHandler(DepositFTPHandler):
    """A server without MLSD/MLST, as many older FTP servers are."""

    proto_cmds: ClassVar[dict[str, dict[str, object]]] = {
        name: spec
        for name, spec in DepositFTPHandler.proto_cmds.items()
        if name not in ("MLSD", "MLST")
    }


@dataclass
class Remote:
    """An open transport and the folder it serves."""

    kind: str
    root: Path
    transport: Transport
    submitted: list[Path]
    # Whether the server itself enforces the deposit's write rules.
    enforces_access_rules: bool


def ftp_settings(front_end: FTPFrontEnd, **changes: object) -> ConnectionSettings:
    url = front_end.url.replace("://", f"://{USER}@")
    settings = ConnectionSettings(url=url, password=PASSWORD, connect_timeout=5.0)
    return settings.with_changes(**changes)


@contextmanager
def read_only_folder(folder: Path) -> Iterator[None]:
    """Make `folder` refuse new files, even to root, for the duration.

    Root ignores permission bits, so as root the folder is made immutable
    with chattr, which needs a file system that supports it (ext4, xfs, btrfs).
    """
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    try:
        result = subprocess.run(
            ["chattr", "+i", str(folder)], check=False, capture_output=True, text=True
        )
    except OSError as error:
        pytest.skip(f"cannot run chattr to make {folder} read-only as root: {error}")
    if result.returncode != 0:
        pytest.skip(f"cannot make {folder} immutable as root: {result.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
