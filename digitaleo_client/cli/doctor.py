"""`digitaleo doctor`: check the connection, the deposit's folders and access."""

from __future__ import annotations

import typer

from digitaleo_client.cli import app
from digitaleo_client.cli.common import (
    CommonOptions,
    command_errors,
    emit,
    with_connection_options,
)
from digitaleo_client.doctor import Report, Status, run_checks

_MARKS = {Status.PASSED: "ok    ", Status.WARNING: "warn  ", Status.FAILED: "FAILED"}


@app.command()
@with_connection_options
def doctor(common: CommonOptions) -> None:
    """Check the deposit: connection, server identity, folders, write access, import mode.

    Write access is checked with a hidden probe file in each in/ folder,
    removed right after; the deposit never processes hidden files. Exits
    with 0 when every check passes (warnings included), 1 when a check
    fails, and the connection's exit code when the connection fails.
    """
    with command_errors(common):
        report = run_checks(common.connection_settings())
    document = {
        "ok": report.ok,
        "url": report.url,
        "checks": [check.as_dict() for check in report.checks],
    }
    emit(common, document, _render(report))
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def _render(report: Report) -> str:
    lines = [f"deposit {report.url}"]
    for check in report.checks:
        lines.append(f"{_MARKS[check.status]}  {check.name}: {check.detail}")
        if check.fix is not None:
            lines.append(f"        fix: {check.fix}")
    failed = sum(check.status is Status.FAILED for check in report.checks)
    lines.append("all checks passed" if failed == 0 else f"{failed} check(s) failed")
    return "\n".join(lines)
