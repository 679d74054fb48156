"""The fake server's FTP and FTPS service, from FakeServer and from `serve`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from digitaleo_client.config import ConnectionSettings
from digitaleo_client.errors import AuthenticationFailed
from digitaleo_client.transport import open_transport
from fake_server.server import FakeServer
from tests.fake_server.test_serve_cli import start_serve

# A valid contact in ISO-8859-1, with the LF line ends the deposit asks for.
CONTACTS = "Email;Prénom\npierre.dupont@example.com;Pierre\n".encode("iso-8859-1")
IN = "contacts/import/in"


@pytest.fixture(params=[False, True], ids=["ftp", "ftps"])
def ftp_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FakeServer]:
    with FakeServer(
        tmp_path / "deposit", password="pw", ftp_port=0, ftps=request.param
    ) as server:
        yield server


def client_settings(server: FakeServer, password: str = "pw") -> ConnectionSettings:
    assert server.ftp_url is not None
    return ConnectionSettings(
        url=server.ftp_url, password=password, ca_file=server.ca_file
    )


def test_ftp_upload_is_processed(
    ftp_server: FakeServer, tmp_path: Path, wait_until: Callable[..., None]
) -> None:
    source = tmp_path / "Clients.csv"
    source.write_bytes(CONTACTS)
    ok_folder = ftp_server.root / "contacts/import/ok"

    with open_transport(client_settings(ftp_server)) as remote:
        remote.upload(source, f"{IN}/Clients.csv")
    wait_until(lambda: len(os.listdir(ok_folder)) == 1)

    (processed,) = os.listdir(ok_folder)
    assert processed.endswith("_Clients.csv")
    assert os.listdir(ftp_server.root / IN) == []


def test_ftp_uses_server_accounts(ftp_server: FakeServer) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        open_transport(client_settings(ftp_server, password="wrong"))

    assert "rejected the login of 'crm'" in str(caught.value)


def test_ready_info_lists_ftp(ftp_server: FakeServer) -> None:
    info = ftp_server.ready_info()

    scheme = "ftps" if ftp_server.ca_file is not None else "ftp"
    assert info["ftp_url"] == ftp_server.ftp_url
    assert str(info["ftp_url"]).startswith(f"{scheme}://crm@127.0.0.1:")
    if scheme == "ftps":
        assert info["ca_file"] == str(
            ftp_server.root.resolve() / ".fake-server/ftps-cert.pem"
        )
    else:
        assert "ca_file" not in info


def test_without_ftp_port_no_ftp(tmp_path: Path) -> None:
    with FakeServer(tmp_path / "deposit") as server:
        info = server.ready_info()

        assert server.ftp_url is None
        assert "ftp_url" not in info
        assert "ca_file" not in info


def run_serve(tmp_path: Path, *arguments: str) -> subprocess.Popen[str]:
    process: subprocess.Popen[str] = start_serve(
        tmp_path, "--password-env", "FAKE_DEPOSIT_PASSWORD", *arguments, password="pw"
    )
    return process


def test_serve_ftps_ready_file(tmp_path: Path, wait_until: Callable[..., None]) -> None:
    ready_file = tmp_path / "ready.json"
    process = run_serve(
        tmp_path, "--ftp-port", "0", "--ftps", "--ready-file", str(ready_file)
    )
    try:
        wait_until(
            lambda: ready_file.exists() or process.poll() is not None, timeout=30
        )
        info = json.loads(ready_file.read_text())
        settings = ConnectionSettings(
            url=info["ftp_url"], password="pw", ca_file=Path(info["ca_file"])
        )
        with open_transport(settings) as remote:
            names = sorted(remote.list_names(""))
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, _stderr = process.communicate(timeout=30)

    assert info["ftp_url"].startswith("ftps://crm@127.0.0.1:")
    assert names == ["contacts", "reporting"]
    assert f"FTP url: {info['ftp_url']}" in stdout
    assert process.returncode == 0


def test_serve_ftps_needs_ftp_port(tmp_path: Path) -> None:
    process = run_serve(tmp_path, "--ftps")
    _stdout, stderr = process.communicate(timeout=30)

    assert process.returncode == 2
    assert "--ftps needs --ftp-port" in stderr
