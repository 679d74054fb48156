"""Check that a deposit is reachable and usable, one named check at a time.

`run_checks` connects, then checks the server's identity, the folder layout,
write access to each `in/` folder (with a hidden probe file that it removes)
and the import mode. Each check passes or fails with the fix; a failed
connection ends the run, because no later check can run without it.
"""

from __future__ import annotations

import io
import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from digitaleo_client.client.mode import modes_present
from digitaleo_client.config import ConnectionSettings, parse_url
from digitaleo_client.deposit import (
    CONTACTS_DIR,
    DEFAULT_IMPORT_MODE,
    IMPORT_DIR,
    REPORTING_DIR,
    Stage,
    all_action_folders,
)
from digitaleo_client.errors import (
    AuthenticationFailed,
    DigitaleoError,
    ExitCode,
    HostKeyError,
    RemoteNotFound,
)
from digitaleo_client.transport import Transport, open_transport

logger = logging.getLogger(__name__)

# Prefix of the hidden probe files; the deposit never processes hidden files.
PROBE_PREFIX = ".digitaleo-doctor-"


class Status(StrEnum):
    """Outcome of one check."""

    PASSED = "passed"
    WARNING = "warning"
    FAILED = "failed"


@dataclass(frozen=True)
class Check:
    """One check's outcome: what was checked, what was found, and the fix.

    `fix` is None for a passed check, and for a failure whose `detail`
    already ends with what to do.
    """

    name: str
    status: Status
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}


@dataclass(frozen=True)
class Report:
    """Every check of one run, and the exit code it calls for."""

    url: str
    checks: list[Check]
    exit_code: int

    @property
    def ok(self) -> bool:
        return all(check.status is not Status.FAILED for check in self.checks)


def run_checks(
    settings: ConnectionSettings,
    connect: Callable[[ConnectionSettings], Transport] = open_transport,
) -> Report:
    """Run every check against the deposit of `settings` and return the report.

    `connect` opens the transport; tests may pass another opener. A failed
    check, the connection included, is returned as a Check, not raised.
    """
    url = parse_url(settings.url).display
    try:
        transport = connect(settings)
    except DigitaleoError as error:
        logger.debug("connection to %s failed", url, exc_info=error)
        return Report(url, [_connection_failure(error)], error.exit_code)

    with transport:
        checks = [Check("connection", Status.PASSED, f"connected to {url}")]
        checks.append(_identity_check(transport, settings))
        checks.append(_layout_check(transport))
        checks += [
            _write_check(transport, folder.stage(Stage.IN))
            for folder in all_action_folders()
        ]
        checks.append(_mode_check(transport))

    failed = any(check.status is Status.FAILED for check in checks)
    return Report(url, checks, ExitCode.ERROR if failed else ExitCode.OK)


def _connection_failure(error: DigitaleoError) -> Check:
    """Name the step that failed: identity, login or the connection itself."""
    if isinstance(error, HostKeyError):
        name = "server identity"
    elif isinstance(error, AuthenticationFailed):
        name = "login"
    else:
        name = "connection"
    return Check(name, Status.FAILED, error.message, _fix_of(error.message))


def _fix_of(message: str) -> str | None:
    """Return the fix that ends most SDK messages, after their last "; ".

    Returns None when the message has no such part, because it then gives
    the fix in its own words.
    """
    _, separator, fix = message.rpartition("; ")
    return fix if separator else None


def _identity_check(transport: Transport, settings: ConnectionSettings) -> Check:
    identity = transport.server_identity
    scheme = parse_url(settings.url).scheme
    if identity is not None:
        return Check(
            "server identity",
            Status.PASSED,
            f"{identity}, {_trust_source(scheme, settings)}",
        )
    if scheme == "ftp":
        return Check(
            "server identity",
            Status.WARNING,
            "plain FTP: the server is not authenticated and the password travels unencrypted",
            "use ftps:// if the server offers FTP over TLS",
        )
    return Check(
        "server identity", Status.PASSED, "a local folder has no server to verify"
    )


def _trust_source(scheme: str, settings: ConnectionSettings) -> str:
    if scheme == "ftps":
        return f"trusted by {settings.ca_file or 'the system CAs'}"
    if settings.host_key_fingerprint:
        return "matches the pinned fingerprint"
    return f"trusted by {settings.known_hosts}"


def _layout_check(transport: Transport) -> Check:
    missing = _missing_folders(transport)
    if not missing:
        return Check(
            "folder layout",
            Status.PASSED,
            "contacts/ and reporting/ have every published folder",
        )
    shown = ", ".join(missing[:5])
    if len(missing) > 5:
        shown += f" and {len(missing) - 5} more"
    return Check(
        "folder layout",
        Status.FAILED,
        f"missing folders: {shown}",
        "check that the URL's path is the folder holding contacts/ and reporting/, "
        "or ask Digitaleo to set up the deposit",
    )


def _missing_folders(transport: Transport) -> list[str]:
    """Return the published folders that are missing, listing each parent once."""
    expected = {"": [CONTACTS_DIR, REPORTING_DIR]}
    expected[CONTACTS_DIR] = [folder.path for folder in all_action_folders()]
    for folder in all_action_folders():
        expected[folder.path] = [folder.stage(stage) for stage in Stage]

    missing: list[str] = []
    for parent, children in expected.items():
        present = _folder_names(transport, parent)
        missing += [
            child for child in children if child.rsplit("/", 1)[-1] not in present
        ]
    return missing


def _folder_names(transport: Transport, path: str) -> set[str]:
    try:
        entries = transport.list(path)
    except DigitaleoError as error:
        logger.info("cannot list %s: %s", path or "the deposit root", error)
        return set()
    return {entry.name for entry in entries if entry.is_dir}


def _write_check(transport: Transport, folder: str) -> Check:
    name = f"write access to {folder}/"
    probe = f"{folder}/{PROBE_PREFIX}{secrets.token_hex(4)}"
    try:
        transport.put(io.BytesIO(b"probe\n"), probe)
    except DigitaleoError as error:
        return Check(
            name,
            Status.FAILED,
            f"cannot write {probe}: {error.message}",
            _write_fix(folder, missing=isinstance(error, RemoteNotFound)),
        )
    try:
        transport.remove(probe)
    except DigitaleoError as error:
        return Check(
            name,
            Status.FAILED,
            f"wrote {probe} but cannot remove it: {error.message}",
            f"remove {probe} by hand; the deposit never processes hidden files",
        )
    return Check(name, Status.PASSED, "wrote and removed a hidden probe file")


def _write_fix(folder: str, *, missing: bool = False) -> str:
    if missing:
        return (
            f"{folder}/ does not exist: check that the URL's path is the folder "
            "holding contacts/ and reporting/, or ask Digitaleo to set up the deposit"
        )
    return f"ask Digitaleo to give your user write access to {folder}/"


def _mode_check(transport: Transport) -> Check:
    try:
        present = modes_present(transport)
    except DigitaleoError as error:
        return Check(
            "import mode",
            Status.FAILED,
            f"cannot read {IMPORT_DIR}/: {error.message}",
            _fix_of(error.message),
        )
    if not present:
        mode = DEFAULT_IMPORT_MODE
        return Check(
            "import mode",
            Status.PASSED,
            f"{mode.value} (no mode file, the default): {mode.description}",
        )
    if len(present) > 1:
        files = ", ".join(mode.dotfile for mode in present)
        return Check(
            "import mode",
            Status.FAILED,
            f"several mode files ({files}), so the deposit cannot tell which mode applies",
            "keep one with `digitaleo mode set create|add|sync`",
        )
    mode = present[0]
    return Check(
        "import mode",
        Status.PASSED,
        f"{mode.value} ({mode.dotfile}): {mode.description}",
    )
