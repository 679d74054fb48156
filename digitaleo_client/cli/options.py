"""The shared command-line options, as typer annotations keyed by parameter name.

`digitaleo_client.cli.common` adds them to commands; each name is also a
field of `CommonOptions`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

DEFAULT_CONNECT_TIMEOUT = 15.0
CONNECTION_PANEL = "Connection"
OUTPUT_PANEL = "Output"

CONNECTION_PARAMETERS: dict[str, Any] = {
    "url": Annotated[
        str | None,
        typer.Option(
            "--url",
            envvar="DIGITALEO_URL",
            help="Deposit URL: sftp://USER@HOST:PORT/PATH, ftp://, ftps:// or file://.",
            rich_help_panel=CONNECTION_PANEL,
        ),
    ],
    "user": Annotated[
        str | None,
        typer.Option(
            "--user",
            envvar="DIGITALEO_USER",
            help="User name, when the URL has none. The password comes only from "
            "DIGITALEO_PASSWORD or a prompt.",
            rich_help_panel=CONNECTION_PANEL,
        ),
    ],
    "key_file": Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            envvar="DIGITALEO_KEY_FILE",
            help="SSH private key to log in with; an encrypted key takes its "
            "passphrase from DIGITALEO_PASSWORD.",
            rich_help_panel=CONNECTION_PANEL,
        ),
    ],
    "known_hosts": Annotated[
        Path | None,
        typer.Option(
            "--known-hosts",
            envvar="DIGITALEO_KNOWN_HOSTS",
            help="known_hosts file that SSH host keys are checked against "
            "(default ~/.ssh/known_hosts).",
            rich_help_panel=CONNECTION_PANEL,
        ),
    ],
    "accept_new": Annotated[
        bool,
        typer.Option(
            "--accept-new",
            help="Trust an unknown SSH host key once and add it to the known_hosts "
            "file; a changed key is still rejected.",
            rich_help_panel=CONNECTION_PANEL,
        ),
    ],
    "host_key_fingerprint": Annotated[
        str | None,
        typer.Option(
            "--host-key-fingerprint",
            envvar="DIGITALEO_HOST_KEY_FINGERPRINT",
            help="Accept only the SSH host key with this fingerprint (SHA256:...), "
            "instead of known_hosts.",
            rich_help_panel=CONNECTION_PANEL,
        ),
    ],
    "ca_file": Annotated[
        Path | None,
        typer.Option(
            "--ca-file",
            envvar="DIGITALEO_CA_FILE",
            help="PEM file of the certificates that an ftps:// server's TLS "
            "certificate is checked against (default: the system's CAs).",
            rich_help_panel=CONNECTION_PANEL,
        ),
    ],
    "connect_timeout": Annotated[
        float | None,
        typer.Option(
            "--connect-timeout",
            envvar="DIGITALEO_CONNECT_TIMEOUT",
            min=0.1,
            help="Seconds to wait for the server to respond when connecting "
            f"(default {DEFAULT_CONNECT_TIMEOUT:g}).",
            rich_help_panel=CONNECTION_PANEL,
        ),
    ],
    "profile": Annotated[
        str | None,
        typer.Option(
            "--profile",
            envvar="DIGITALEO_PROFILE",
            help="Profile of the config file (DIGITALEO_CONFIG, or config.toml in "
            "the user config folder) that gives the settings no flag or variable "
            "sets (default: the profile named default, if any).",
            rich_help_panel=CONNECTION_PANEL,
        ),
    ],
}

OUTPUT_PARAMETERS: dict[str, Any] = {
    "verbose": Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            metavar="",
            show_default=False,
            help="Log more on stderr; -vv for protocol details.",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ],
    "quiet": Annotated[
        int,
        typer.Option(
            "--quiet",
            "-q",
            count=True,
            metavar="",
            show_default=False,
            help="Log only warnings on stderr; -qq for errors only.",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ],
    "json": Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON document on stdout and nothing else there.",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ],
    "progress": Annotated[
        bool,
        typer.Option(
            "--progress/--no-progress",
            help="Draw live progress on a terminal; without a terminal, progress "
            "is logged as plain lines.",
            rich_help_panel=OUTPUT_PANEL,
        ),
    ],
}
