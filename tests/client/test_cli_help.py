"""The top-level help and --version of `digitaleo`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from digitaleo_client.cli import app
from digitaleo_client.errors import ExitCode


def test_version_printed() -> None:
    result = CliRunner().invoke(app, ["--version"])

    assert result.exit_code == ExitCode.OK
    assert result.stdout == "digitaleo 0.1.0\n"


@pytest.mark.parametrize(
    "expected",
    [
        "8 a report zip was rejected (reports pull)",
        "9 reports left the deposit before any pull (reports pull)",
        "130 interrupted (Ctrl-C)",
    ],
    ids=["report-rejected", "reports-lost", "interrupted"],
)
def test_help_lists_exit_code(expected: str) -> None:
    result = CliRunner().invoke(app, ["--help"])

    assert result.exit_code == ExitCode.OK
    assert expected in " ".join(result.stdout.split())
