"""The top-level help and --version of `digitaleo`."""

from __future__ import annotations

from pathlib import Path

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


@pytest.mark.parametrize(
    "shown",
    ["-v <int>", "[default: 5.0]", "[default: 0]"],
    ids=["verbose-metavar", "max-invalid-default", "count-default"],
)
def test_push_help_omits_misleading_text(shown: str) -> None:
    result = CliRunner().invoke(app, ["push", "--help"], env={"COLUMNS": "200"})

    assert result.exit_code == ExitCode.OK
    assert shown not in " ".join(result.stdout.split())


def test_double_verbose_flag_accepted(tmp_path: Path) -> None:
    env = {"DIGITALEO_CONFIG": str(tmp_path / "no-config.toml")}

    result = CliRunner().invoke(
        app, ["check", str(tmp_path / "absent.csv"), "-vv"], env=env
    )

    assert result.exit_code == ExitCode.USAGE
    assert "absent.csv: not found; check the path" in " ".join(result.stderr.split())
