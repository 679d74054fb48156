"""The `digitaleo` command: thin typer commands over the SDK.

Each module of this package registers its commands on `app`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from digitaleo_client import __version__
from digitaleo_client.cli.common import EXIT_CODES_HELP

app = typer.Typer(
    name="digitaleo",
    help="Push contact files to a Digitaleo deposit and pull its reports.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"digitaleo {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Push contact files to a Digitaleo deposit and pull its reports."""


# Command modules register themselves on import; add new ones here.
from digitaleo_client.cli import (
    check,  # noqa: F401
    convert,  # noqa: F401
    doctor,  # noqa: F401
    mode,  # noqa: F401
    push,  # noqa: F401
    reports,  # noqa: F401
    status,  # noqa: F401
    wait,  # noqa: F401
)


def main() -> None:
    app()
