"""`digitaleo doctor` against the fake deposit and local folders."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from digitaleo_client.cli import app
from digitaleo_client.deposit import Stage, all_action_folders
from digitaleo_client.errors import ExitCode
from fake_server.server import FakeServer
from tests.transport.deposits import make_deposit, read_only_folder

IN_FOLDERS = [folder.stage(Stage.IN) for folder in all_action_folders()]
CHECK_NAMES = [
    "connection",
    "server identity",
    "folder layout",
    *[f"write access to {folder}/" for folder in IN_FOLDERS],
    "import mode",
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FakeServer]:
    with FakeServer(tmp_path / "fake", password="pw", ftp_port=0, ftps=True) as fake:
        yield fake


def run_doctor(
    tmp_path: Path, *arguments: str, password: str = "pw"
) -> tuple[int, str, str]:
    environment = {
        "DIGITALEO_PASSWORD": password,
        "DIGITALEO_CONFIG": str(tmp_path / "no-config.toml"),
        "DIGITALEO_KNOWN_HOSTS": str(tmp_path / "empty_known_hosts"),
    }
    result = CliRunner().invoke(app, ["doctor", *arguments], env=environment)
    return result.exit_code, result.stdout, result.stderr


def sftp_options(server: FakeServer) -> list[str]:
    return ["--url", server.url, "--known-hosts", str(server.known_hosts_path)]


def checks_of(output: str) -> dict[str, dict[str, Any]]:
    document = json.loads(output)
    return {check["name"]: check for check in document["checks"]}


def test_doctor_sftp_all_pass(server: FakeServer, tmp_path: Path) -> None:
    code, out, _ = run_doctor(
        tmp_path,
        *sftp_options(server),
        "--json",
    )
    document = json.loads(out)
    checks = checks_of(out)

    assert code == ExitCode.OK
    assert document["ok"] is True
    assert list(checks) == CHECK_NAMES
    assert {check["status"] for check in checks.values()} == {"passed"}
    assert checks["server identity"]["detail"].startswith(
        f"ssh-ed25519 {server.host_key_fingerprint}, trusted by "
    )
    assert checks["import mode"]["detail"].startswith(
        "create (no mode file, the default)"
    )


def test_doctor_leaves_no_probe(server: FakeServer, tmp_path: Path) -> None:
    code, _, _ = run_doctor(tmp_path, *sftp_options(server))

    assert code == ExitCode.OK
    for folder in IN_FOLDERS:
        assert os.listdir(server.root / folder) == []
    assert server.store.lists() == []


def test_doctor_ftps_shows_certificate(server: FakeServer, tmp_path: Path) -> None:
    assert server.ftp_url is not None
    code, out, _ = run_doctor(
        tmp_path, "--url", server.ftp_url, "--ca-file", str(server.ca_file), "--json"
    )
    checks = checks_of(out)

    assert code == ExitCode.OK
    assert checks["server identity"]["status"] == "passed"
    assert checks["server identity"]["detail"].startswith("TLS certificate SHA-256 ")
    assert checks["server identity"]["detail"].endswith(f"trusted by {server.ca_file}")


def test_doctor_plain_ftp_warns(tmp_path: Path) -> None:
    with FakeServer(tmp_path / "fake", password="pw", ftp_port=0) as plain:
        assert plain.ftp_url is not None
        code, out, _ = run_doctor(tmp_path, "--url", plain.ftp_url, "--json")
    checks = checks_of(out)

    assert code == ExitCode.OK
    assert json.loads(out)["ok"] is True
    assert checks["server identity"]["status"] == "warning"
    assert "unencrypted" in checks["server identity"]["detail"]
    assert (
        checks["server identity"]["fix"]
        == "use ftps:// if the server offers FTP over TLS"
    )


def test_doctor_unknown_host_key(server: FakeServer, tmp_path: Path) -> None:
    code, out, _ = run_doctor(tmp_path, "--url", server.url, "--json")
    checks = checks_of(out)

    assert code == ExitCode.CONNECTION
    assert list(checks) == ["server identity"]
    assert checks["server identity"]["status"] == "failed"
    assert server.host_key_fingerprint in checks["server identity"]["detail"]


def test_doctor_wrong_password(server: FakeServer, tmp_path: Path) -> None:
    code, out, _ = run_doctor(
        tmp_path,
        *sftp_options(server),
        "--json",
        password="wrong",
    )
    checks = checks_of(out)

    assert code == ExitCode.CONNECTION
    assert list(checks) == ["login"]
    assert checks["login"]["status"] == "failed"


def test_doctor_ftp_server_requiring_tls(server: FakeServer, tmp_path: Path) -> None:
    assert server.ftp_url is not None
    plain_url = server.ftp_url.replace("ftps://", "ftp://")

    code, out, _ = run_doctor(tmp_path, "--url", plain_url, "--json")
    checks = checks_of(out)

    assert code == ExitCode.CONNECTION
    assert checks["connection"]["status"] == "failed"
    assert "requires TLS before login" in checks["connection"]["detail"]
    assert checks["connection"]["fix"].startswith("use ftps://127.0.0.1:")


def test_doctor_missing_folders(tmp_path: Path) -> None:
    root = make_deposit(tmp_path / "deposit")
    shutil.rmtree(root / "contacts/delete")
    (root / "contacts/optinSMS/ko").rmdir()

    code, out, _ = run_doctor(tmp_path, "--url", f"file://{root}", "--json")
    checks = checks_of(out)

    assert code == ExitCode.ERROR
    assert json.loads(out)["ok"] is False
    assert checks["folder layout"]["status"] == "failed"
    assert checks["folder layout"]["detail"] == (
        "missing folders: contacts/delete, contacts/optinSMS/ko, contacts/delete/in, "
        "contacts/delete/on, contacts/delete/ok and 1 more"
    )
    assert "URL's path" in checks["folder layout"]["fix"]
    assert checks["write access to contacts/delete/in/"]["fix"] == (
        "contacts/delete/in/ does not exist: check that the URL's path is the folder "
        "holding contacts/ and reporting/, or ask Digitaleo to set up the deposit"
    )


def test_doctor_read_only_in_folder(tmp_path: Path) -> None:
    root = make_deposit(tmp_path / "deposit")

    with read_only_folder(root / "contacts/optoutSMS/in"):
        code, out, _ = run_doctor(tmp_path, "--url", f"file://{root}", "--json")
    checks = checks_of(out)
    failed = [name for name, check in checks.items() if check["status"] == "failed"]

    assert code == ExitCode.ERROR
    assert failed == ["write access to contacts/optoutSMS/in/"]
    assert checks[failed[0]]["fix"] == (
        "ask Digitaleo to give your user write access to contacts/optoutSMS/in/"
    )


def test_doctor_several_mode_files(tmp_path: Path) -> None:
    root = make_deposit(tmp_path / "deposit")
    (root / "contacts/import/.syncExistingList").touch()
    (root / "contacts/import/.addToExistingList").touch()

    code, out, _ = run_doctor(tmp_path, "--url", f"file://{root}")

    assert code == ExitCode.ERROR
    assert "FAILED  import mode: several mode files" in out
    assert "fix: keep one with `digitaleo mode set create|add|sync`" in out
    assert out.rstrip().endswith("1 check(s) failed")


def test_doctor_reads_sync_mode(tmp_path: Path) -> None:
    root = make_deposit(tmp_path / "deposit")
    (root / "contacts/import/.syncExistingList").touch()

    code, out, _ = run_doctor(tmp_path, "--url", f"file://{root}")

    assert code == ExitCode.OK
    assert "ok      import mode: sync (.syncExistingList)" in out
    assert out.rstrip().endswith("all checks passed")
