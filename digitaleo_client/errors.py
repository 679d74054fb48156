"""Exceptions of the SDK, one tree with one root.

    DigitaleoError
    ├── ConfigurationError            bad setting, profile or flag value
    │   └── InvalidRemoteName         a list or file name the deposit cannot hold
    ├── DepositConnectionError        could not reach or keep the deposit
    │   ├── AuthenticationFailed      wrong user, password or key
    │   ├── HostKeyError              server key not trusted
    │   │   ├── UnknownHostKey        no known_hosts entry and no pin
    │   │   └── HostKeyMismatch       key differs from known_hosts or the pin
    │   └── ConnectTimeout            no answer within the connect timeout
    ├── TransferError                 a remote operation failed
    │   ├── RemoteNotFound            the remote path does not exist
    │   └── RemotePermissionDenied    the server refused the operation
    ├── ValidationError               input rejected before upload
    │   └── InputFileError            an input file cannot be read as CSV
    ├── OutcomeError                  the deposit did not process the file as hoped
    │   ├── FileRejected              the file landed in ko/
    │   ├── WaitTimeout               no final stage before the timeout
    │   └── IncompletePush            a push stopped before uploading every part
    ├── DuplicatePush                 the same content was already pushed
    └── ReportError                   a report zip cannot be used
        ├── CorruptReport             truncated or undecodable zip
        └── HostileReport             a zip entry or size breaks the safety bounds

Every message says what failed, on which value, and what to do. Each class
carries the process exit code that the CLI uses for it. `Terminated`, for
SIGTERM, is outside the tree: it derives from KeyboardInterrupt, as Ctrl-C does.
"""

from __future__ import annotations

from typing import Any


class ExitCode:
    """Exit codes of the `digitaleo` command."""

    OK = 0
    ERROR = 1
    USAGE = 2
    REJECTED = 3
    TIMEOUT = 4
    CONNECTION = 5
    INVALID_INPUT = 6
    DUPLICATE = 7
    # A report zip was corrupt or hostile and was not unpacked; the others were.
    REPORT_REJECTED = 8
    # Days of reports left the deposit's 7-day retention before any pull.
    REPORTS_LOST = 9
    # A multi-part push stopped before uploading all its parts.
    INCOMPLETE = 10


class DigitaleoError(Exception):
    """Root of every error the SDK raises."""

    exit_code = ExitCode.ERROR

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class ConfigurationError(DigitaleoError):
    """A setting, profile or flag value is missing or invalid."""

    exit_code = ExitCode.USAGE


class InvalidRemoteName(ConfigurationError):
    """A list or file name that the deposit cannot hold safely."""

    def __init__(self, name: str, reason: str, fix: str) -> None:
        super().__init__(f"invalid remote name {name!r}: {reason}; {fix}", name=name)
        self.name = name
        self.reason = reason


class DepositConnectionError(DigitaleoError):
    """The deposit could not be reached, or the connection was lost."""

    exit_code = ExitCode.CONNECTION


class AuthenticationFailed(DepositConnectionError):
    """The server rejected the user name, password or key."""


class HostKeyError(DepositConnectionError):
    """The server's host key is not trusted."""

    def __init__(self, message: str, *, host: str, fingerprint: str) -> None:
        super().__init__(message, host=host, fingerprint=fingerprint)
        self.host = host
        self.fingerprint = fingerprint


class UnknownHostKey(HostKeyError):
    """The server's host key is in no known_hosts file and matches no pin."""


class HostKeyMismatch(HostKeyError):
    """The server's host key differs from the one recorded or pinned."""


class ConnectTimeout(DepositConnectionError):
    """The server did not respond within the connect timeout."""


class TransferError(DigitaleoError):
    """A remote operation (list, upload, download, rename, remove) failed."""

    def __init__(
        self, message: str, *, path: str | None = None, **details: Any
    ) -> None:
        super().__init__(message, path=path, **details)
        self.path = path


class RemoteNotFound(TransferError):
    """The remote path does not exist."""


class RemotePermissionDenied(TransferError):
    """The server refused the operation on that path."""


class ValidationError(DigitaleoError):
    """Input was rejected before anything was uploaded."""

    exit_code = ExitCode.INVALID_INPUT


class InputFileError(ValidationError):
    """An input file cannot be read: encoding, dialect or header."""

    def __init__(
        self,
        message: str,
        *,
        path: str,
        row: int | None = None,
        column: str | None = None,
        offset: int | None = None,
    ) -> None:
        super().__init__(message, path=path, row=row, column=column, offset=offset)
        self.path = path
        self.row = row
        self.column = column
        self.offset = offset


class OutcomeError(DigitaleoError):
    """The deposit did not process a file as hoped."""


class FileRejected(OutcomeError):
    """The deposit moved the file to ko/."""

    exit_code = ExitCode.REJECTED


class WaitTimeout(OutcomeError):
    """The file reached no final stage (ok/ or ko/) before the timeout."""

    exit_code = ExitCode.TIMEOUT


class IncompletePush(OutcomeError):
    """A push stopped before all its parts were uploaded."""

    exit_code = ExitCode.INCOMPLETE

    def __init__(self, message: str, *, push_id: int, missing_parts: list[int]) -> None:
        super().__init__(message, push_id=push_id, missing_parts=missing_parts)
        self.push_id = push_id
        self.missing_parts = missing_parts


class DuplicatePush(DigitaleoError):
    """The same content was already pushed to the same action and list."""

    exit_code = ExitCode.DUPLICATE


class ReportError(DigitaleoError):
    """A report zip cannot be used."""

    exit_code = ExitCode.REPORT_REJECTED


class CorruptReport(ReportError):
    """A report zip is truncated or cannot be decoded."""


class HostileReport(ReportError):
    """A report zip breaks the extraction safety bounds."""


class Terminated(KeyboardInterrupt):
    """SIGTERM asked the command to stop (a scheduler's timeout, `systemctl stop`).

    The CLI's signal handler raises it so that a command unwinds as after
    Ctrl-C: a push records it in the journal, names the push to resume and
    removes its converted files. Code that lets KeyboardInterrupt through
    lets it through as well.
    """

    def __init__(self) -> None:
        super().__init__("interrupted (SIGTERM)")
