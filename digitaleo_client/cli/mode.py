"""`digitaleo mode show|set`: the account's import mode."""

from __future__ import annotations

from typing import Annotated

import typer

from digitaleo_client.cli import app
from digitaleo_client.cli.common import (
    CommonOptions,
    command_errors,
    emit,
    with_connection_options,
)
from digitaleo_client.client import DigitaleoClient
from digitaleo_client.deposit import ImportMode

mode_app = typer.Typer(
    help="Show or set the account's import mode (a dot-file in contacts/import/).",
    no_args_is_help=True,
)
app.add_typer(mode_app, name="mode")


@mode_app.command("show")
@with_connection_options
def show(common: CommonOptions) -> None:
    """Show the import mode: create, add or sync."""
    with (
        command_errors(common),
        DigitaleoClient(common.connection_settings()) as client,
    ):
        mode = client.get_mode()
    document = {
        "ok": True,
        "mode": mode.value,
        "dotfile": mode.dotfile,
        "description": mode.description,
    }
    emit(common, document, f"import mode: {mode.value} ({mode.description})")


@mode_app.command("set")
@with_connection_options
def set_mode(
    mode: Annotated[
        ImportMode,
        typer.Argument(
            help="create: every file creates a new list; add: contacts join the "
            "list named after the file; sync: that list holds exactly the file's "
            "contacts.",
            case_sensitive=False,
        ),
    ],
    common: CommonOptions,
) -> None:
    """Set the import mode, leaving exactly one mode dot-file."""
    with (
        command_errors(common),
        DigitaleoClient(common.connection_settings()) as client,
    ):
        change = client.set_mode(mode)
    document = {
        "ok": True,
        "mode": change.mode.value,
        "previous_mode": change.previous.value if change.previous else None,
        "changed": change.changed,
    }
    emit(common, document, change.describe())
