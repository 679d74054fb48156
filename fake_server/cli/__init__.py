"""The `digitaleo-fake-server` command.

Each module of this package registers its commands on `app`.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="digitaleo-fake-server",
    help="Run a fake Digitaleo deposit on 127.0.0.1 and inspect what it did.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _commands() -> None:
    # A callback keeps the subcommand names even while only one is registered.
    pass


# Command modules register themselves on import; add new ones here.
from fake_server.cli import campaign, inspect, serve  # noqa: F401


def main() -> None:
    app()
