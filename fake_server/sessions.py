"""Who may log in to the fake deposit over SSH, and what connections share.

`SSHSessionServer` authenticates users against their `Account` and opens
the `sftp` subsystem. `SessionRegistry` contains what every connection
shares: the deposit root, the accounts, the submit callback, the files
open for writing and the running SFTP sessions.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import paramiko

from fake_server.faults import Faults

if TYPE_CHECKING:
    from fake_server.sftp import DepositSFTPServer

logger = logging.getLogger(__name__)

# SSH status codes, typed for the checker since paramiko has no type hints.
AUTH_FAILED: int = paramiko.AUTH_FAILED
AUTH_SUCCESSFUL: int = paramiko.AUTH_SUCCESSFUL
OPEN_SUCCEEDED: int = paramiko.OPEN_SUCCEEDED
OPEN_PROHIBITED: int = paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

# Called with the real path of a file that a client finished writing.
SubmitCallback = Callable[[Path], None]


@dataclass(frozen=True)
class Account:
    """A user allowed to log in, with a password, a public key, or both."""

    name: str
    password: str | None = None
    public_key: paramiko.PublicBlob | None = None

    @classmethod
    def from_config(
        cls, name: str, password: str | None, public_key: str | None
    ) -> Account:
        """Build an account from a configured user.

        `public_key` is one line of an authorized_keys file, such as
        `ssh-ed25519 AAAA... comment`; None means password login only.
        Raises ValueError when that line cannot be read as a public key.
        """
        blob = None
        if public_key is not None:
            try:
                blob = paramiko.PublicBlob.from_string(public_key)
            except ValueError as error:
                raise ValueError(
                    f"invalid public key for user {name!r}: {error}; give one "
                    "line of an authorized_keys file, such as 'ssh-ed25519 AAAA...'"
                ) from error
        return cls(name, password, blob)

    def accepts_password(self, password: str) -> bool:
        if self.password is None:
            return False
        return hmac.compare_digest(self.password.encode(), password.encode())

    def accepts_key(self, key: paramiko.PKey) -> bool:
        if self.public_key is None:
            return False
        same_type: bool = key.get_name() == self.public_key.key_type
        return same_type and bytes(key.asbytes()) == self.public_key.key_blob


class OpenUploads:
    """Real paths of the files that SFTP clients have open for writing now."""

    def __init__(self) -> None:
        self._counts: Counter[Path] = Counter()
        self._lock = threading.Lock()

    def add(self, path: Path) -> None:
        with self._lock:
            self._counts[path] += 1

    def discard(self, path: Path) -> None:
        with self._lock:
            self._counts[path] -= 1
            if self._counts[path] <= 0:
                del self._counts[path]

    def contains(self, path: Path) -> bool:
        """Tell whether a client has `path` open for writing."""
        with self._lock:
            return path in self._counts


@dataclass
class SessionRegistry:
    """State shared by every connection: the deposit, its users, its sessions."""

    root: Path
    accounts: dict[str, Account]
    submit: SubmitCallback
    open_uploads: OpenUploads = field(default_factory=OpenUploads)
    faults: Faults = field(default_factory=Faults)
    _sessions: set[DepositSFTPServer] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, session: DepositSFTPServer) -> None:
        with self._lock:
            self._sessions.add(session)

    def discard(self, session: DepositSFTPServer) -> None:
        with self._lock:
            self._sessions.discard(session)

    def sessions(self) -> list[DepositSFTPServer]:
        with self._lock:
            return list(self._sessions)


class SSHSessionServer(paramiko.ServerInterface):  # type: ignore[misc]
    """Authentication and channel policy of one SSH connection.

    Only session channels and the `sftp` subsystem are offered: no shell,
    no command execution, no forwarding.
    """

    def __init__(self, registry: SessionRegistry, peer: str) -> None:
        self.registry = registry
        self.peer = peer
        self.username: str | None = None

    def get_allowed_auths(self, username: str) -> str:
        account = self.registry.accounts.get(username)
        methods = []
        if account is None or account.password is not None:
            methods.append("password")
        if account is None or account.public_key is not None:
            methods.append("publickey")
        return ",".join(methods)

    def check_auth_password(self, username: str, password: str) -> int:
        account = self.registry.accounts.get(username)
        accepted = account is not None and account.accepts_password(password)
        return self._auth_result(username, accepted, "password")

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        account = self.registry.accounts.get(username)
        accepted = account is not None and account.accepts_key(key)
        return self._auth_result(
            username, accepted, f"{key.get_name()} key {key.fingerprint}"
        )

    def _auth_result(self, username: str, accepted: bool, method: str) -> int:
        if not accepted:
            logger.info(
                "authentication failed for user %r from %s by %s",
                username,
                self.peer,
                method,
            )
            return AUTH_FAILED
        logger.info("user %r logged in from %s by %s", username, self.peer, method)
        self.username = username
        return AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_PROHIBITED
