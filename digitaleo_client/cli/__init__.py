"""The `digitaleo` command: thin typer commands over the SDK.

Each module of this package registers its commands on `app`.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="digitaleo",
    help="Push contact files to a Digitaleo deposit and pull its reports.",
    no_args_is_help=True,
    add_completion=False,
)

# Command modules register themselves on import; add new ones here.
from digitaleo_client.cli import check  # noqa: E402, F401
from digitaleo_client.cli import convert  # noqa: E402, F401
from digitaleo_client.cli import reports  # noqa: E402, F401


def main() -> None:
    app()
