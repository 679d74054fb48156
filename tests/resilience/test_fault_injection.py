"""Pushes against a fake deposit that injects faults, over a real SFTP socket.

Each push uploads a file already in the deposit format, so the bytes the
deposit processed can be compared with the bytes sent: a truncated or
temporary file reaching ok/ would show up as a difference.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digitaleo_client.client import DigitaleoClient, StageChange
from digitaleo_client.client.retrying import RetryPolicies
from digitaleo_client.config import ConnectionSettings
from digitaleo_client.deposit import Stage
from digitaleo_client.errors import (
    AuthenticationFailed,
    DepositConnectionError,
    UnknownHostKey,
)
from fake_server.cli import app as fake_server_app
from fake_server.faults import Fault, Faults, parse_fault
from fake_server.server import FakeServer
from tests.resilience.support import (
    FAST_POLLS,
    SHORT_PAUSES,
    check_processed_files,
    client_for,
    deposit_csv,
    leftover_temporary_files,
    list_sizes,
    settings_for,
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


def test_long_writes_dropped_fall_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # 8,000 contacts make about 360 KB, more than one 255 KiB write request.
    content = deposit_csv(1, 8_000)
    source = write_export(tmp_path / "crm", "clients.csv", content)

    with (
        FakeServer(tmp_path / "deposit", faults=["max-write=65536"]) as server,
        client_for(server) as client,
    ):
        result = client.push(source, convert=False, timeout=30)

        assert result.ok
        assert list_sizes(server) == [("clients", 8_000)]
        check_processed_files(server, {"clients.csv": content})
        assert leftover_temporary_files(server) == []
    assert "in 261120-byte requests; later attempts send 32768-byte requests" in (
        caplog.text
    )


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


def test_serve_process_injects_fault(
    tmp_path: Path, wait_until: Callable[..., None]
) -> None:
    ready_file = tmp_path / "ready.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fake_server",
            "serve",
            "--root",
            str(tmp_path / "deposit"),
            "--ready-file",
            str(ready_file),
            "--fault",
            "refuse-rename",
            "--fault",
            "processing-delay=0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: ready_file.exists() or process.poll() is not None, 30)
        info = json.loads(ready_file.read_text(encoding="utf-8"))
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(info["known_hosts_line"] + "\n", encoding="utf-8")
        settings = ConnectionSettings(
            url=info["url"], password=info["password"], known_hosts=known_hosts
        )
        source = write_export(tmp_path / "crm", "clients.csv", CONTENT)
        with DigitaleoClient(
            settings, poll_policy=FAST_POLLS, retry_policies=SHORT_PAUSES
        ) as client:
            result = client.push(source, convert=False, timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)

    assert result.ok
    assert "injecting faults: refuse-rename, processing-delay=0.2" in stderr
    assert "injecting fault refuse-rename" in stderr


@pytest.mark.parametrize(
    ("settings_change", "error_type", "message"),
    [
        ({"password": "wrong"}, AuthenticationFailed, "rejected"),
        ({"known_hosts": None}, UnknownHostKey, "SHA256:"),
    ],
    ids=["bad-password", "unknown-host-key"],
)
def test_login_failures_not_retried(
    tmp_path: Path,
    settings_change: dict[str, object],
    error_type: type[Exception],
    message: str,
) -> None:
    pauses: list[float] = []
    policies = RetryPolicies().with_timing(sleep=pauses.append)

    with FakeServer(tmp_path / "deposit") as server:
        if settings_change.get("known_hosts", "") is None:
            settings_change = {"known_hosts": tmp_path / "empty_known_hosts"}
            (tmp_path / "empty_known_hosts").write_text("", encoding="utf-8")
        settings = settings_for(server).with_changes(**settings_change)
        client = DigitaleoClient(settings, retry_policies=policies)
        with pytest.raises(error_type) as caught:
            client.get_mode()

    assert message in str(caught.value)
    assert pauses == []
    assert "attempts" not in caught.value.details


def test_retries_end_with_real_cause(tmp_path: Path) -> None:
    pauses: list[float] = []
    policies = RetryPolicies().with_timing(sleep=pauses.append, jitter=0.0)
    with FakeServer(tmp_path / "deposit") as server:
        settings = settings_for(server)
        port = server.port
    client = DigitaleoClient(settings, retry_policies=policies)

    with pytest.raises(DepositConnectionError) as caught:
        client.get_mode()

    # READ allows 5 attempts, with pauses of 1, 2, 4 and 8 s between them,
    # and each attempt connects once.
    assert pauses == [1.0, 2.0, 4.0, 8.0]
    assert type(caught.value) is DepositConnectionError
    assert f"cannot connect to 127.0.0.1:{port}" in str(caught.value)
    assert len(caught.value.details["attempts"]) == 5
    assert caught.value.details["attempts"][0].startswith("attempt 1: ")
