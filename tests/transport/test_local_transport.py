"""What the local-folder transport does beyond the shared contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from digitaleo_client.config import ConnectionSettings
from digitaleo_client.errors import DepositConnectionError, TransferError
from digitaleo_client.transport import open_transport
from tests.transport.deposits import make_deposit


@pytest.mark.parametrize(
    "path",
    ["../outside.csv", "contacts/../../outside.csv", "/etc/passwd"],
    ids=["parent", "nested-parent", "absolute"],
)
def test_local_path_outside_root(tmp_path: Path, path: str) -> None:
    root = make_deposit(tmp_path / "deposit")

    remote = open_transport(ConnectionSettings(url=f"file://{root}"))

    with pytest.raises(TransferError) as caught:
        remote.stat(path)

    assert f"remote path {path!r} leaves the deposit root {root}" in str(caught.value)
    assert "without '..'" in str(caught.value)


def test_local_missing_root(tmp_path: Path) -> None:
    missing = tmp_path / "not-mounted"

    with pytest.raises(DepositConnectionError) as caught:
        open_transport(ConnectionSettings(url=f"file://{missing}"))

    assert f"deposit folder {missing} does not exist" in str(caught.value)
    assert "mount the deposit" in str(caught.value)


def test_local_root_without_deposit_layout(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    with pytest.raises(DepositConnectionError) as caught:
        open_transport(ConnectionSettings(url=f"file://{empty}"))

    assert str(caught.value) == (
        f"deposit folder {empty} has neither contacts/ nor reporting/, so it is not "
        "the root of a deposit; mount the deposit there or fix the file:// URL"
    )
    assert caught.value.details["transient"] is False
