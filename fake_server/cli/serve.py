"""`digitaleo-fake-server serve`: run the fake deposit until interrupted."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer

from digitaleo_client.errors import ConfigurationError
from fake_server.cli import app
from fake_server.faults import Fault, parse_fault

logger = logging.getLogger(__name__)

# Seconds a file copied into an in/ folder by other means than SFTP must stay
# unchanged before it is processed, when --settle is not given.
DEFAULT_SETTLE_SECONDS = 2.0

# Seconds between two writes of today's report zips, when --report-interval
# is not given.
DEFAULT_REPORT_INTERVAL = 300.0

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@app.command()
def serve(
    root: Annotated[
        Path,
        typer.Option(
            "--root",
            file_okay=False,
            help="Folder of the deposit, created if missing. It holds the deposit's "
            "folder tree and, in .fake-server/, the server's store and host key.",
        ),
    ],
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option("--port", min=0, max=65535, help="TCP port; 0 picks a free one."),
    ] = 0,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            dir_okay=False,
            help="TOML file of account settings and users. Without it: default "
            "settings and one user, crm.",
        ),
    ] = None,
    ready_file: Annotated[
        Path | None,
        typer.Option(
            "--ready-file",
            dir_okay=False,
            help="Write the connection details as JSON to this file once the server "
            "accepts connections (keys url, username, password, "
            "host_key_fingerprint, known_hosts_line, and with --ftp-port ftp_url, "
            "with --ftps ca_file); removed on stop.",
        ),
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option(
            "--password-env",
            metavar="VARIABLE",
            help="Environment variable holding the password of the default user "
            "crm. Without it a random password is generated.",
        ),
    ] = None,
    processing_delay: Annotated[
        float,
        typer.Option(
            "--processing-delay",
            min=0.0,
            help="Seconds each deposited file stays in on/ before it is processed.",
        ),
    ] = 0.0,
    settle: Annotated[
        float,
        typer.Option(
            "--settle",
            min=0.0,
            help="Seconds a file copied into an in/ folder without SFTP must stay "
            "unchanged before it is processed.",
        ),
    ] = DEFAULT_SETTLE_SECONDS,
    ftp_port: Annotated[
        int | None,
        typer.Option(
            "--ftp-port",
            min=0,
            max=65535,
            help="Also serve the deposit over FTP on this TCP port, with the same "
            "users and access rules; 0 picks a free one.",
        ),
    ] = None,
    ftps: Annotated[
        bool,
        typer.Option(
            "--ftps",
            help="Make the --ftp-port server FTPS (explicit TLS, required), with a "
            "self-signed certificate in .fake-server/ that clients pass as their "
            "CA file.",
        ),
    ] = False,
    report_interval: Annotated[
        float,
        typer.Option(
            "--report-interval",
            min=0.0,
            help="Seconds between two writes of today's report zips under "
            "reporting/; 0 writes them only with the `report` command.",
        ),
    ] = DEFAULT_REPORT_INTERVAL,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            metavar="NAME[=VALUE]",
            help="Inject a fault to test clients against; repeatable. "
            "drop-upload-after=BYTES, refuse-rename, drop-after-rename and "
            "stall-listing=SECONDS fire once each; processing-delay=SECONDS "
            "holds every file in on/; max-write=BYTES drops the connection on "
            "every longer write request.",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log every SFTP request on stderr.")
    ] = False,
) -> None:
    """Serve a fake deposit over SFTP, and FTP or FTPS if asked, until SIGINT or SIGTERM.

    Prints the URL, user, password and host key fingerprint on stdout; logs go
    to stderr.
    """
    _configure_logging(verbose)
    password = _password_from(password_env)
    if ftps and ftp_port is None:
        _fail("--ftps needs --ftp-port; add --ftp-port 0 for a free port", code=2)
    faults = _parse_faults(fault or [])

    # Imported here so that `--help` and other commands stay fast.
    from fake_server.server import FakeServer

    with _stop_signals() as stop:
        try:
            server = FakeServer(
                root,
                config,
                host=host,
                port=port,
                settle_seconds=settle,
                processing_delay=processing_delay,
                password=password,
                ftp_port=ftp_port,
                ftps=ftps,
                report_interval=report_interval or None,
                faults=faults,
            )
            server.start()
        except ConfigurationError as error:
            _fail(str(error), code=2)
        except OSError as error:
            _fail(f"cannot serve {root} on {host}:{port}: {error}", code=1)

        try:
            if password is not None and server.password != password:
                logger.warning(
                    "--password-env is ignored: %s lists its own users", config
                )
            _announce(server.ready_info(), ready_file)
            # A timeout lets the loop notice a stop request even if a signal
            # arrived before the wait started.
            while not stop.wait(0.5):
                pass
        finally:
            server.stop()
            if ready_file is not None:
                ready_file.unlink(missing_ok=True)


def _parse_faults(texts: list[str]) -> list[Fault]:
    faults = []
    for text in texts:
        try:
            faults.append(parse_fault(text))
        except ValueError as error:
            _fail(f"--fault {text}: {error}", code=2)
    return faults


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, handlers=[handler]
    )
    if not verbose:
        # paramiko logs each client's SSH version and login at INFO level.
        logging.getLogger("paramiko").setLevel(logging.WARNING)
        # pyftpdlib logs every FTP command at INFO level.
        logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
        handler.addFilter(_drop_connection_resets)


def _drop_connection_resets(record: logging.LogRecord) -> bool:
    """Drop paramiko's error line for a client that closed its socket abruptly.

    Many clients end a session that way; the session end is logged anyway.
    """
    return not (
        record.name == "paramiko.transport"
        and "Connection reset by peer" in record.getMessage()
    )


def _password_from(variable: str | None) -> str | None:
    if variable is None:
        return None
    password = os.environ.get(variable)
    if not password:
        _fail(
            f"--password-env {variable}: the environment variable {variable} is not "
            "set or empty; export it or leave out --password-env",
            code=2,
        )
    return password


def _announce(info: dict[str, str | None], ready_file: Path | None) -> None:
    """Print the connection details, then write the ready file if asked."""
    lines = [
        f"url: {info['url']}",
        f"user: {info['username']}",
        f"password: {info['password'] if info['password'] is not None else '(key login only)'}",
        f"host key fingerprint: {info['host_key_fingerprint']}",
        f"known_hosts line: {info['known_hosts_line']}",
    ]
    if "ftp_url" in info:
        lines.append(f"FTP url: {info['ftp_url']}")
    if "ca_file" in info:
        lines.append(f"FTPS CA file: {info['ca_file']}")
    typer.echo("\n".join(lines))
    sys.stdout.flush()
    if ready_file is not None:
        write_ready_file(ready_file, info)
        logger.info("wrote %s", ready_file)


def write_ready_file(path: Path, info: dict[str, str | None]) -> None:
    """Write `info` as JSON to `path` atomically, readable by its owner only.

    A reader that polls for `path` never reads a half-written file, because
    the JSON goes to a temporary file in the same folder that is then renamed.
    """
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(info, file, indent=2)
        file.write("\n")
    os.replace(partial, path)


@contextmanager
def _stop_signals() -> Iterator[threading.Event]:
    """Set the yielded event on SIGINT or SIGTERM, for the duration of the block."""
    stop = threading.Event()

    def request_stop(signal_number: int, frame: FrameType | None) -> None:
        logger.info("received %s, stopping", signal.Signals(signal_number).name)
        stop.set()

    previous = {number: signal.signal(number, request_stop) for number in _STOP_SIGNALS}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _fail(message: str, *, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=code)
