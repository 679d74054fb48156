"""`digitaleo wait NAME` against the fake deposit: names, zipped pushes and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digitaleo_client.cli import app
from digitaleo_client.contacts.convert import ConvertOptions
from digitaleo_client.errors import ExitCode
from fake_server.server import FakeServer
from tests.resilience.support import cli_env, client_for, deposit_csv, write_export


@pytest.fixture
def zipped_push(digitaleo_fake_server: FakeServer, tmp_path: Path) -> str:
    """Push big.csv as big.zip without waiting; return the name it went up as."""
    source = write_export(tmp_path / "crm", "big.csv", deposit_csv(1, 3))
    with client_for(digitaleo_fake_server) as client:
        result = client.push(source, options=ConvertOptions(zip="always"), wait=False)
    return result.remote_name


@pytest.mark.parametrize("name", ["big.csv", "big", "big.zip"], ids=str)
def test_wait_finds_zipped_push(
    env: dict[str, str], zipped_push: str, name: str
) -> None:
    waited = CliRunner().invoke(app, ["wait", name, "--json"], env=env)

    assert zipped_push == "big.zip"
    assert waited.exit_code == ExitCode.OK, waited.output
    document = json.loads(waited.stdout)
    assert document["ok"] is True
    assert document["remote_name"] == "big.zip"
    assert document["remote_path"].startswith("contacts/import/ok/")
    assert document["remote_path"].endswith("_big.zip")


def test_wait_takes_newest_of_csv_and_zip(tmp_path: Path) -> None:
    source = write_export(tmp_path / "crm", "big.csv", deposit_csv(1, 3))
    # A second in on/ per file gives the two files different deposit times.
    with FakeServer(tmp_path / "deposit", faults=["processing-delay=1"]) as server:
        with client_for(server) as client:
            client.push(source, options=ConvertOptions(zip="never"), timeout=30)
            client.push(source, options=ConvertOptions(zip="always"), wait=False)
        env = cli_env(server, tmp_path)
        waited = CliRunner().invoke(app, ["wait", "big", "--json"], env=env)

    assert waited.exit_code == ExitCode.OK, waited.output
    assert json.loads(waited.stdout)["remote_name"] == "big.zip"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "absent",
            (
                "no file named absent.csv or absent.zip in the in/, on/, ok/ or ko/ "
                "folders of contacts/import/; check the name and --action, or give the "
                "push id that `digitaleo status` lists"
            ),
        ),
        (
            "absent.zip",
            (
                "no file named absent.zip in the in/, on/, ok/ or ko/ folders of "
                "contacts/import/"
            ),
        ),
        (
            "gen/contacts.csv",
            (
                "invalid file name 'gen/contacts.csv': the name contains '/'; give the "
                "name of the deposited file without folders (NAME.csv or NAME.zip), or "
                "the push id that `digitaleo status` lists"
            ),
        ),
    ],
    ids=["missing", "missing-zip", "folder"],
)
def test_wait_name_errors(env: dict[str, str], name: str, message: str) -> None:
    waited = CliRunner().invoke(app, ["wait", name, "--json"], env=env)

    assert waited.exit_code == ExitCode.USAGE, waited.output
    error = json.loads(waited.stdout)["error"]
    assert error["type"] == "ConfigurationError"
    assert error["message"].startswith(message)
    assert "--list" not in waited.stderr
