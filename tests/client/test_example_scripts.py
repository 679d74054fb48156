"""The example scripts run as a user runs them, so the README's examples cannot rot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fake_server.server import FakeServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_push_with_sdk_example(
    digitaleo_fake_server: FakeServer, tmp_path: Path
) -> None:
    export = tmp_path / "crm.csv"
    export.write_text(
        "email;first_name\npierre.dupont@example.com;Pierre\nsylvie.martin@example.com;Sylvie\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "DIGITALEO_URL": digitaleo_fake_server.url,
        "DIGITALEO_PASSWORD": digitaleo_fake_server.password or "",
        "DIGITALEO_KNOWN_HOSTS": str(digitaleo_fake_server.known_hosts_path),
    }

    completed = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "push_with_sdk.py"),
            str(export),
            "Newsletter FR",
        ],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )

    document = json.loads(completed.stdout)
    lists = digitaleo_fake_server.store.lists()
    assert completed.returncode == 0, completed.stderr
    assert document["ok"] is True
    assert document["mode"] == "sync"
    assert "Newsletter FR.csv: ok/" in completed.stderr
    assert [(item["name"], item["size"]) for item in lists] == [("Newsletter FR", 2)]


@pytest.mark.parametrize(
    ("arguments", "code", "expected"),
    [
        ([], 2, "error: the following arguments are required: export"),
        (["--help"], 0, "usage: push_with_sdk.py [-h] export [list_name]"),
        (["crm.csv"], 2, "error: DIGITALEO_URL is not set; export the deposit URL"),
    ],
    ids=["no-arguments", "help", "no-url"],
)
def test_push_with_sdk_usage(arguments: list[str], code: int, expected: str) -> None:
    env = {key: value for key, value in os.environ.items() if key != "DIGITALEO_URL"}

    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / "push_with_sdk.py"), *arguments],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert completed.returncode == code
    assert expected in completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr


def test_demo_passes() -> None:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py")],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "demo passed" in completed.stdout
    assert (
        "checked: every member of the list comes from contacts-small.csv"
        in completed.stdout
    )
