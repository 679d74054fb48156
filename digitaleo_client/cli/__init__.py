"""The `digitaleo` command: thin typer commands over the SDK."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="digitaleo",
    help="Push contact files to a Digitaleo deposit and pull its reports.",
    no_args_is_help=True,
    add_completion=False,
)


def main() -> None:
    app()
