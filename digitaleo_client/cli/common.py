"""Options, output, logging and exit codes shared by the `digitaleo` commands.

A command takes the shared options by decorating itself and declaring a
`common` parameter:

    @app.command()
    @with_connection_options
    def doctor(common: CommonOptions) -> None:
        with command_errors(common):
            settings = common.connection_settings()
            ...
            emit(common, document, human_text)

Settings come from the flag, then the `DIGITALEO_*` environment variable,
then the profile file; the password only from DIGITALEO_PASSWORD, the
keyring (when the profile enables it) or a prompt, never from argv.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from digitaleo_client.cli.options import (
    CONNECTION_PARAMETERS,
    DEFAULT_CONNECT_TIMEOUT,
    OUTPUT_PARAMETERS,
)
from digitaleo_client.cli.sources import given_sources
from digitaleo_client.config import DEFAULT_KNOWN_HOSTS, ConnectionSettings, parse_url
from digitaleo_client.errors import (
    ConfigurationError,
    DigitaleoError,
    ExitCode,
    Terminated,
)
from digitaleo_client.profiles import (
    DEFAULT_PROFILE,
    ResolvedSettings,
    default_config_path,
    load_profile,
    masked_setting,
    resolve_password,
    resolve_settings,
)

# Exit codes of a command stopped by a signal: 128 plus the signal number.
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

EXIT_CODES_HELP = (
    "Exit codes: 0 done (file in ok/); 1 unexpected error; 2 usage or "
    "configuration error; 3 file rejected (in ko/); 4 timed out waiting for "
    "the outcome; 5 connection, login or host key failure; 6 invalid input "
    "file; 7 the same content was already pushed; 8 a report zip was rejected "
    "(reports pull); 9 reports left the deposit before any pull (reports pull); "
    "10 a push stopped before uploading all its parts (wait); "
    "130 interrupted (Ctrl-C); 143 stopped by SIGTERM."
)

# stdout carries results (one JSON document with --json); everything else,
# logs, progress and errors, goes to stderr.
stdout_console = Console(highlight=False, soft_wrap=True)
stderr_console = Console(stderr=True, highlight=False, soft_wrap=True)

logger = logging.getLogger(__name__)

T = TypeVar("T")


def folding_table(*headers: str, title: str | None = None) -> Table:
    """Return a table whose cells wrap long values onto more lines.

    Output to a file or a pipe is 80 columns wide, and rich's default cuts
    a long file or campaign name short with an ellipsis.
    """
    table = Table(title=title)
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


@dataclass(frozen=True)
class CommonOptions:
    """The shared options of one command run, after flags and environment."""

    url: str | None = None
    user: str | None = None
    key_file: Path | None = None
    known_hosts: Path | None = None
    accept_new: bool = False
    host_key_fingerprint: str | None = None
    ca_file: Path | None = None
    connect_timeout: float | None = None
    profile: str | None = None
    verbose: int = 0
    quiet: int = 0
    json: bool = False
    progress: bool = True
    # Where each option of the command came from ("--url", "DIGITALEO_URL"),
    # for the options not left at their default; None outside the command line.
    given: dict[str, str] | None = field(default=None, compare=False)

    @property
    def show_progress(self) -> bool:
        """Tell whether to draw live progress: a terminal on stderr, not --no-progress."""
        return self.progress and stderr_console.is_terminal and self.quiet == 0

    def resolved_settings(self) -> ResolvedSettings:
        """Merge flags and environment with the profile file, keeping each source.

        Raises ConfigurationError for an unreadable profile file or a named
        profile that does not exist.
        """
        config_path = default_config_path()
        profile = load_profile(self.profile, config_path)
        label = f"profile {self.profile or DEFAULT_PROFILE} in {config_path}"
        given = {
            "url": self.url,
            "user": self.user,
            "key_file": str(self.key_file) if self.key_file else None,
            "known_hosts": str(self.known_hosts) if self.known_hosts else None,
            "accept_new": True if self.accept_new else None,
            "host_key_fingerprint": self.host_key_fingerprint,
            "ca_file": str(self.ca_file) if self.ca_file else None,
            "connect_timeout": self.connect_timeout,
        }
        explicit = {
            key: (value, self._source_of(key))
            for key, value in given.items()
            if self.given is None or key in self.given
        }
        resolved = resolve_settings(explicit, profile, label)
        resolved.log_sources()
        return resolved

    def _source_of(self, key: str) -> str:
        if self.given is not None and key in self.given:
            return self.given[key]
        return _SOURCES[key]

    def profile_setting(self, key: str, value: T, convert: Callable[[Any], T]) -> T:
        """Return a command option's `value`, or the profile's `key` if the option was not given.

        An option given by flag or environment variable wins over the
        profile; one left at its default gives way to the profile's value,
        passed through `convert`, if the profile sets `key`. Logs at DEBUG
        where the value came from.
        """
        if self.given is not None and key in self.given:
            masked = masked_setting(key, value)
            logger.debug("setting %s = %r from %s", key, masked, self.given[key])
            return value
        config_path = default_config_path()
        profile_value = load_profile(self.profile, config_path).get(key)
        if profile_value is None:
            logger.debug("setting %s = %r from its default", key, masked_setting(key, value))
            return value
        label = f"profile {self.profile or DEFAULT_PROFILE} in {config_path}"
        converted = convert(profile_value)
        logger.debug("setting %s = %r from %s", key, masked_setting(key, converted), label)
        return converted

    def connection_settings(self) -> ConnectionSettings:
        """Build the connection settings, prompting for the password if needed.

        Raises ConfigurationError when no deposit URL is given.
        """
        resolved = self.resolved_settings()
        url = resolved.get("url")
        if not url:
            raise ConfigurationError(
                "no deposit URL; give --url sftp://USER@HOST:PORT, set DIGITALEO_URL, "
                "or add url to a profile",
                key="url",
            )
        parsed = parse_url(url)
        key_file = resolved.get("key_file")
        ca_file = resolved.get("ca_file")
        needs_password = parsed.scheme != "file" and key_file is None
        prompt = _prompt_password if needs_password and sys.stdin.isatty() else None
        password = resolve_password(resolved, prompt=prompt)
        if password is not None:
            logger.debug(
                "setting password from %s (value hidden)", resolved.sources["password"]
            )
        return ConnectionSettings(
            url=url,
            username=resolved.get("user") or parsed.username,
            password=password,
            key_file=Path(key_file).expanduser() if key_file else None,
            known_hosts=Path(resolved.get("known_hosts", str(DEFAULT_KNOWN_HOSTS))),
            accept_new_host_key=bool(resolved.get("accept_new", False)),
            host_key_fingerprint=resolved.get("host_key_fingerprint"),
            ca_file=Path(ca_file).expanduser() if ca_file else None,
            connect_timeout=float(
                resolved.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
            ),
        )


def _prompt_password(text: str) -> str:
    answer: str = typer.prompt(text, hide_input=True, err=True)
    return answer


# Where a value given on the command line came from, for debug logs.
_SOURCES = {
    "url": "--url or DIGITALEO_URL",
    "user": "--user or DIGITALEO_USER",
    "key_file": "--key-file or DIGITALEO_KEY_FILE",
    "known_hosts": "--known-hosts or DIGITALEO_KNOWN_HOSTS",
    "accept_new": "--accept-new",
    "host_key_fingerprint": "--host-key-fingerprint or DIGITALEO_HOST_KEY_FINGERPRINT",
    "ca_file": "--ca-file or DIGITALEO_CA_FILE",
    "connect_timeout": "--connect-timeout or DIGITALEO_CONNECT_TIMEOUT",
}


_DEFAULTS = {
    name: getattr(CommonOptions, name)
    for name in (*CONNECTION_PARAMETERS, *OUTPUT_PARAMETERS)
}

Command = TypeVar("Command", bound=Callable[..., Any])

# Name under which typer passes the command's context to the wrapper.
_CONTEXT_PARAMETER = "typer_context"


def _with_options(parameters: dict[str, Any], function: Command) -> Command:
    """Add `parameters` to a typer command and hand them over as `common`."""
    signature = inspect.signature(function, eval_str=True)
    own = [
        parameter
        for name, parameter in signature.parameters.items()
        if name != "common"
    ]
    added = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=annotation,
            default=_DEFAULTS[name],
        )
        for name, annotation in parameters.items()
    ]
    added.append(
        inspect.Parameter(
            _CONTEXT_PARAMETER, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context
        )
    )

    @functools.wraps(function)
    def command(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in parameters}
        given = given_sources(kwargs.pop(_CONTEXT_PARAMETER))
        common = CommonOptions(**values, given=given)
        with command_logging(common):
            return function(*args, common=common, **kwargs)

    command.__signature__ = signature.replace(parameters=own + added)  # type: ignore[attr-defined]
    return command  # type: ignore[return-value]


def with_connection_options(function: Command) -> Command:
    """Give a command the connection and output options, as `common`."""
    return _with_options({**CONNECTION_PARAMETERS, **OUTPUT_PARAMETERS}, function)


def with_output_options(function: Command) -> Command:
    """Give a command the output options (-v, -q, --json, --no-progress), as `common`."""
    return _with_options(OUTPUT_PARAMETERS, function)


# -- logging, output and errors ------------------------------------------------------


@contextmanager
def command_logging(common: CommonOptions) -> Iterator[None]:
    """Log to stderr, at the level -v/-q chose, while a command runs.

    On a terminal the handler is rich's; otherwise (cron, CI) plain
    timestamped lines. The handler and levels are removed afterwards, so
    commands run in tests leave no handler on a closed stream.
    """
    level = logging.INFO + 10 * (common.quiet - common.verbose)
    package_level = max(logging.DEBUG, min(logging.CRITICAL, level))
    # paramiko's INFO lines are protocol details: shown from -vv on.
    library_level = (
        logging.DEBUG if common.verbose >= 2 else max(package_level, logging.WARNING)
    )

    handler: logging.Handler
    if stderr_console.is_terminal:
        handler = RichHandler(console=stderr_console, show_path=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    package = logging.getLogger("digitaleo_client")
    # paramiko logs each failure as ERROR lines with a traceback, which the
    # client's own error message already states: they show from -v on.
    paramiko_logger = logging.getLogger("paramiko")
    saved = (root.level, package.level, paramiko_logger.level)
    root.addHandler(handler)
    root.setLevel(library_level)
    package.setLevel(package_level)
    paramiko_logger.setLevel(library_level if common.verbose else logging.CRITICAL)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        package.setLevel(saved[1])
        paramiko_logger.setLevel(saved[2])


def emit(common: CommonOptions, document: dict[str, Any], text: str) -> None:
    """Print the result: `document` as JSON with --json, else `text` for people."""
    if common.json:
        print_json(document)
    elif text:
        stdout_console.print(text, markup=False)


def print_json(document: dict[str, Any]) -> None:
    """Write one JSON document on stdout."""
    sys.stdout.write(
        json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"
    )
    sys.stdout.flush()


def fail(common: CommonOptions, error: DigitaleoError) -> NoReturn:
    """Report `error` on stderr (and as JSON with --json), then exit with its code."""
    logger.debug("command failed", exc_info=error)
    stderr_console.print(f"error: {error.message}", markup=False)
    if common.json:
        print_json(error_document(error))
    raise typer.Exit(error.exit_code)


def error_document(error: DigitaleoError) -> dict[str, Any]:
    """Return the JSON document that describes a failure."""
    details = {key: value for key, value in error.details.items() if value is not None}
    return {
        "ok": False,
        "error": {
            "type": type(error).__name__,
            "message": error.message,
            "exit_code": error.exit_code,
            "details": details,
        },
    }


def _stopped(common: CommonOptions, kind: str, message: str, code: int) -> NoReturn:
    """Report a command stopped by a signal, as JSON too with --json, and exit."""
    stderr_console.print(message, markup=False)
    if common.json:
        error = {"type": kind, "message": message, "exit_code": code, "details": {}}
        print_json({"ok": False, "error": error})
    raise typer.Exit(code) from None


@contextmanager
def command_errors(common: CommonOptions) -> Iterator[None]:
    """Turn SDK errors into a message on stderr and the error's exit code.

    Ctrl-C exits with 130 and SIGTERM with 143 (128 plus the signal number),
    as shells report them. While the command runs, SIGTERM raises
    Terminated, so that the command unwinds and cleans up as after Ctrl-C.
    Any other exception is a defect: it exits with 1 after a one-line
    message (and the JSON error with --json), and its traceback is logged
    at DEBUG, shown by -v.
    """
    with _sigterm_raises():
        try:
            yield
        except DigitaleoError as error:
            fail(common, error)
        except Terminated:
            _stopped(common, "Terminated", "interrupted (SIGTERM)", EXIT_TERMINATED)
        except KeyboardInterrupt:
            _stopped(common, "Interrupted", "interrupted", EXIT_INTERRUPTED)
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except Exception as error:
            logger.debug("unexpected error", exc_info=error)
            fail(
                common,
                DigitaleoError(
                    f"unexpected {type(error).__name__}: {error}; this is a defect "
                    "of digitaleo, so rerun with -v to log the traceback and "
                    "report it",
                    cause=type(error).__name__,
                ),
            )


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Make SIGTERM raise Terminated in this block; restore the handler afterwards.

    Python sets signal handlers only in the main thread, so elsewhere (a
    command run by a test in a thread) SIGTERM keeps its handler.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        # None means a handler set outside Python, which cannot be put back.
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _raise_terminated(signum: int, frame: FrameType | None) -> NoReturn:
    raise Terminated


def usage_error(common: CommonOptions, message: str) -> NoReturn:
    """Exit with the usage code after a message naming the option and the fix."""
    fail(common, ConfigurationError(message))


__all__ = [
    "EXIT_CODES_HELP",
    "CommonOptions",
    "ExitCode",
    "command_errors",
    "command_logging",
    "emit",
    "fail",
    "print_json",
    "stderr_console",
    "stdout_console",
    "usage_error",
    "with_connection_options",
    "with_output_options",
]
