"""Verification of an SSH server's host key, as OpenSSH does it.

Three policies, chosen from the connection settings:

- strict (the default): the key must match an entry of the known_hosts file,
  plain, hashed (`|1|salt|hash`) or written `[host]:port` for a port other
  than 22;
- pinned: `host_key_fingerprint` ("SHA256:...") decides alone;
- accept-new: an unknown host is trusted once and its key appended to the
  known_hosts file; a changed key is still rejected.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import paramiko

from digitaleo_client.config import ConnectionSettings
from digitaleo_client.errors import ConfigurationError, HostKeyMismatch, UnknownHostKey

logger = logging.getLogger(__name__)

# Host key algorithms a known_hosts key type can be verified with.
_ALGORITHMS_OF_KEY_TYPE = {
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
}


def fingerprint(key: paramiko.PKey) -> str:
    """Return the key's SHA256 fingerprint as OpenSSH prints it ("SHA256:...")."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def known_hosts_name(host: str, port: int) -> str:
    """Return the name a known_hosts entry uses: `host` or `[host]:port`."""
    return host if port == 22 else f"[{host}]:{port}"


def known_hosts_line(host: str, port: int, key: paramiko.PKey) -> str:
    """Return the known_hosts line that trusts `key` for the host and port."""
    return f"{known_hosts_name(host, port)} {key.get_name()} {key.get_base64()}"


def normalise_fingerprint(value: str) -> str:
    """Return a pinned fingerprint in the "SHA256:..." form, padding removed.

    Raises ConfigurationError for an MD5 or otherwise unreadable fingerprint.
    """
    text = value.strip()
    if not text.startswith("SHA256:") or len(text) < len("SHA256:") + 40:
        raise ConfigurationError(
            f"host key fingerprint {value!r} is not a SHA256 fingerprint; "
            "copy the SHA256:... value that `ssh-keyscan HOST | ssh-keygen -lf -` "
            "prints",
            key="host_key_fingerprint",
        )
    return text.rstrip("=")


@dataclass(frozen=True)
class HostKeyChecker:
    """The host key policy of one connection, built from its settings."""

    host: str
    port: int
    known_hosts: Path
    pinned: str | None = None
    accept_new: bool = False

    @classmethod
    def from_settings(
        cls, settings: ConnectionSettings, host: str, port: int
    ) -> HostKeyChecker:
        """Build the checker for `host` and `port` from the connection settings.

        Raises ConfigurationError for an unreadable pinned fingerprint.
        """
        pinned = settings.host_key_fingerprint
        return cls(
            host=host,
            port=port,
            known_hosts=settings.known_hosts.expanduser(),
            pinned=normalise_fingerprint(pinned) if pinned else None,
            accept_new=settings.accept_new_host_key,
        )

    @property
    def name(self) -> str:
        return known_hosts_name(self.host, self.port)

    def preferred_key_types(self, offered: tuple[str, ...]) -> tuple[str, ...]:
        """Order host key algorithms so that those already known come first.

        A server often has several host keys; asking for the type that
        known_hosts records avoids a false mismatch, as OpenSSH does.
        """
        if self.pinned is not None:
            return offered
        known: list[str] = []
        for key_type in self._recorded_keys():
            known += _ALGORITHMS_OF_KEY_TYPE.get(key_type, (key_type,))
        first = [name for name in known if name in offered]
        return tuple(dict.fromkeys(first + list(offered)))

    def verify(self, key: paramiko.PKey) -> None:
        """Accept the server's `key` or raise.

        Raises HostKeyMismatch when the key differs from the pin or from the
        known_hosts entry, or is marked @revoked in known_hosts, and
        UnknownHostKey when neither records the host and accept-new is off.
        """
        key_fingerprint = fingerprint(key)
        if self._is_revoked(key):
            raise HostKeyMismatch(
                f"host key of {self.name} ({key.get_name()} {key_fingerprint}) is "
                f"marked @revoked in {self.known_hosts}; do not connect until the "
                "deposit's operator gives you its new key",
                host=self.name,
                fingerprint=key_fingerprint,
            )
        if self.pinned is not None:
            self._verify_pinned(key, key_fingerprint)
            return

        recorded = self._recorded_keys()
        if key.get_name() in recorded:
            if recorded[key.get_name()] != key:
                raise HostKeyMismatch(
                    self._mismatch_message(key, key_fingerprint),
                    host=self.name,
                    fingerprint=key_fingerprint,
                )
            logger.debug("host key of %s matches %s", self.name, self.known_hosts)
            return
        if recorded:
            raise HostKeyMismatch(
                self._mismatch_message(key, key_fingerprint),
                host=self.name,
                fingerprint=key_fingerprint,
            )
        if not self.accept_new:
            raise UnknownHostKey(
                self._unknown_message(key, key_fingerprint),
                host=self.name,
                fingerprint=key_fingerprint,
            )
        self._record(key, key_fingerprint)

    def _verify_pinned(self, key: paramiko.PKey, key_fingerprint: str) -> None:
        if key_fingerprint == self.pinned:
            logger.debug("host key of %s matches the pinned fingerprint", self.name)
            return
        raise HostKeyMismatch(
            f"host key of {self.name} is {key.get_name()} {key_fingerprint}, not the pinned "
            f"{self.pinned}; if the deposit's operator confirms the new key, "
            f"pin it with --host-key-fingerprint {key_fingerprint}",
            host=self.name,
            fingerprint=key_fingerprint,
        )

    def _is_revoked(self, key: paramiko.PKey) -> bool:
        """Tell whether a `@revoked` line of known_hosts lists `key`."""
        blob = key.get_base64()
        for line in self._lines():
            fields = line.split()
            if len(fields) >= 4 and fields[0] == "@revoked" and fields[3] == blob:
                return True
        return False

    def _recorded_keys(self) -> dict[str, paramiko.PKey]:
        """Return the keys known_hosts records for the host, by key type.

        Marker lines (`@revoked`, `@cert-authority`) and lines paramiko
        cannot parse are skipped, as OpenSSH skips lines it cannot read.
        """
        host_keys = paramiko.HostKeys()
        for number, line in enumerate(self._lines(), start=1):
            if line.startswith("@"):
                continue
            try:
                entry = paramiko.hostkeys.HostKeyEntry.from_line(line, number)
            except (
                paramiko.SSHException,
                paramiko.hostkeys.InvalidHostKey,
                ValueError,
            ):
                logger.debug(
                    "skipping unreadable line %d of %s", number, self.known_hosts
                )
                continue
            if entry is not None and entry.key is not None:
                for hostname in entry.hostnames:
                    host_keys.add(hostname, entry.key.get_name(), entry.key)
        found = host_keys.lookup(self.name)
        return dict(found) if found is not None else {}

    def _lines(self) -> list[str]:
        """Return the non-empty, non-comment lines of the known_hosts file."""
        try:
            text = self.known_hosts.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as error:
            raise ConfigurationError(
                f"cannot read known_hosts file {self.known_hosts}: {error.strerror}; "
                "fix its permissions or choose another file with --known-hosts",
                key="known_hosts",
            ) from error
        stripped = (line.strip() for line in text.splitlines())
        return [line for line in stripped if line and not line.startswith("#")]

    def _record(self, key: paramiko.PKey, key_fingerprint: str) -> None:
        """Append the key to known_hosts, creating the file and its folder."""
        line = known_hosts_line(self.host, self.port, key)
        try:
            self.known_hosts.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(
                self.known_hosts, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600
            )
            with os.fdopen(descriptor, "a", encoding="ascii") as known_hosts:
                known_hosts.write(self._separator() + line + "\n")
        except OSError as error:
            raise ConfigurationError(
                f"cannot add the host key of {self.name} to {self.known_hosts}: "
                f"{error.strerror}; fix the file's permissions or choose another "
                "file with --known-hosts",
                key="known_hosts",
            ) from error
        logger.warning(
            "trusted new host key of %s (%s %s) and added it to %s",
            self.name,
            key.get_name(),
            key_fingerprint,
            self.known_hosts,
        )

    def _separator(self) -> str:
        """Return a newline when the file does not already end with one."""
        try:
            with self.known_hosts.open("rb") as existing:
                existing.seek(0, os.SEEK_END)
                if existing.tell() == 0:
                    return ""
                existing.seek(-1, os.SEEK_END)
                return "" if existing.read(1) == b"\n" else "\n"
        except FileNotFoundError:
            return ""

    def _unknown_message(self, key: paramiko.PKey, key_fingerprint: str) -> str:
        return (
            f"host key of {self.name} is unknown: {key.get_name()} {key_fingerprint} is not in "
            f"{self.known_hosts}. Check this fingerprint with the deposit's operator, "
            f"then trust it with --host-key-fingerprint {key_fingerprint}, or with --accept-new "
            f"to record it in {self.known_hosts}, or add it yourself: "
            f"{self._keyscan_command()}"
        )

    def _mismatch_message(self, key: paramiko.PKey, key_fingerprint: str) -> str:
        return (
            f"host key of {self.name} has changed: the server sent {key.get_name()} "
            f"{key_fingerprint}, which differs from the key recorded in {self.known_hosts}. "
            "Someone may be intercepting the connection. If the deposit's operator "
            f"confirms the new key, remove the old entry with "
            f"`ssh-keygen -R '{self.name}' -f {self.known_hosts}` and connect again "
            f"with --accept-new, or pin it with --host-key-fingerprint {key_fingerprint}"
        )

    def _keyscan_command(self) -> str:
        port = "" if self.port == 22 else f"-p {self.port} "
        return f"ssh-keyscan {port}{self.host} >> {self.known_hosts}"
