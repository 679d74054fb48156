"""Pushes against a fake deposit that injects faults, over a real SFTP socket.

Each push uploads a file already in the deposit format, so the bytes the
deposit processed can be compared with the bytes sent: a truncated or
temporary file reaching ok/ would show up as a difference.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digitaleo_client.client import StageChange
from digitaleo_client.client.retrying import RetryPolicies
from digitaleo_client.deposit import Stage
from digitaleo_client.errors import DepositConnectionError
from fake_server.cli import app as fake_server_app
from fake_server.faults import Fault, Faults, parse_fault
from fake_server.server import FakeServer
from tests.resilience.support import (
    SHORT_PAUSES,
    check_processed_files,
    client_for,
    deposit_csv,
    leftover_temporary_files,
    list_sizes,
    write_export,
)

CONTENT = deposit_csv(1, 40)


@pytest.mark.parametrize(
    ("faults", "operation_timeout", "stages"),
    [
        ([], 10.0, None),
        (["drop-upload-after=1000"], 10.0, None),
        (["refuse-rename"], 10.0, None),
        (["drop-after-rename"], 10.0, None),
        (["stall-listing=3"], 0.5, None),
        (["processing-delay=0.3"], 10.0, [Stage.ON, Stage.OK]),
        (["drop-upload-after=0", "refuse-rename", "stall-listing=3"], 0.5, None),
    ],
    ids=[
        "no-fault",
        "drop-upload",
        "refuse-rename",
        "drop-after-rename",
        "stall-listing",
        "processing-delay",
        "three-at-once",
    ],
)
def test_push_survives_fault(
    tmp_path: Path,
    faults: list[str],
    operation_timeout: float,
    stages: list[Stage] | None,
) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    seen: list[Stage] = []

    with (
        FakeServer(tmp_path / "deposit", faults=faults) as server,
        client_for(server, operation_timeout=operation_timeout) as client,
    ):
        result = client.push(
            source,
            convert=False,
            timeout=30,
            on_stage=lambda change: seen.append(change.stage),
        )

        assert result.ok
        assert result.outcomes[0].stage is Stage.OK
        assert list_sizes(server) == [("clients", 40)]
        check_processed_files(server, {"clients.csv": CONTENT})
        assert leftover_temporary_files(server) == []
        assert [fault for fault in server.faults.armed() if fault.once] == []
    if stages is not None:
        assert seen[-len(stages) :] == stages


def test_dropped_upload_is_never_processed(tmp_path: Path) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    single_try = RetryPolicies(upload=replace(RetryPolicies().upload, max_attempts=1))

    with (
        FakeServer(tmp_path / "deposit", faults=["drop-upload-after=1000"]) as server,
        client_for(server, retry_policies=single_try) as client,
    ):
        with pytest.raises(DepositConnectionError) as caught:
            client.push(source, convert=False, timeout=30)
        server.processor.wait_idle(5)

        assert "connection to sftp://crm@127.0.0.1:" in str(caught.value)
        assert "lost during contacts/import/in/.clients.csv.part" in str(caught.value)
        assert server.store.files() == []
        assert list_sizes(server) == []
        partial = server.root / "contacts/import/in/.clients.csv.part"
        assert partial.read_bytes() == CONTENT[:1000]


def test_restart_while_waiting(tmp_path: Path) -> None:
    source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
    root = tmp_path / "deposit"
    in_on = threading.Event()
    restarted: list[FakeServer] = []

    def note_stage(change: StageChange) -> None:
        if change.stage is Stage.ON:
            in_on.set()

    first = FakeServer(root, faults=["processing-delay=2"]).start()
    port, password = first.port, first.password

    def restart() -> None:
        in_on.wait(10)
        first.stop()
        restarted.append(FakeServer(root, port=port, password=password).start())

    restarter = threading.Thread(target=restart)
    restarter.start()
    try:
        with client_for(first, retry_policies=SHORT_PAUSES) as client:
            result = client.push(source, convert=False, timeout=30, on_stage=note_stage)
        restarter.join(10)
        server = restarted[0]

        assert in_on.is_set()
        assert result.ok
        assert list_sizes(server) == [("clients", 40)]
        check_processed_files(server, {"clients.csv": CONTENT})
    finally:
        restarter.join(10)
        first.stop()
        for server in restarted:
            server.stop()


def test_restart_picks_up_waiting_file(tmp_path: Path) -> None:
    root = tmp_path / "deposit"
    FakeServer(root).start().stop()
    write_export(root / "contacts/import/in", "left.csv", CONTENT)

    with FakeServer(root) as server:
        server.processor.wait_idle(10)

        assert list_sizes(server) == [("left", 40)]
        check_processed_files(server, {"left.csv": CONTENT})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("drop-upload-after=4096", Fault("drop-upload-after", 4096)),
        ("refuse-rename", Fault("refuse-rename")),
        ("drop-after-rename", Fault("drop-after-rename")),
        ("stall-listing=2.5", Fault("stall-listing", 2.5)),
        ("processing-delay=0", Fault("processing-delay", 0)),
    ],
    ids=["drop-upload", "refuse-rename", "drop-after-rename", "stall", "delay"],
)
def test_parse_fault_valid(text: str, expected: Fault) -> None:
    assert parse_fault(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("drop-everything", "unknown fault 'drop-everything'; use one of drop-upload"),
        ("refuse-rename=1", "fault refuse-rename takes no value"),
        ("stall-listing", "fault stall-listing needs a value"),
        ("drop-upload-after=1.5", "give a whole number of bytes"),
        ("processing-delay=soon", "give a number of seconds"),
        ("stall-listing=-1", "is negative; give 0 or more"),
    ],
    ids=[
        "unknown",
        "unexpected-value",
        "missing-value",
        "fraction",
        "word",
        "negative",
    ],
)
def test_parse_fault_invalid(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_fault(text)

    assert message in str(caught.value)


def test_once_fault_fires_once() -> None:
    faults = Faults(["refuse-rename", "processing-delay=1"])

    first = faults.take("refuse-rename")
    second = faults.take("refuse-rename")

    assert first == Fault("refuse-rename")
    assert second is None
    assert faults.take("processing-delay") == Fault("processing-delay", 1)
    assert faults.armed() == [Fault("processing-delay", 1)]


def test_serve_rejects_bad_fault(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        fake_server_app,
        ["serve", "--root", str(tmp_path / "deposit"), "--fault", "drop-all"],
    )

    assert result.exit_code == 2
    assert "--fault drop-all: unknown fault 'drop-all'" in result.output
    assert not (tmp_path / "deposit").exists()
