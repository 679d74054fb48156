"""Run Debian's OpenSSH sshd with a private configuration, for tests and benchmarks.

Everything the server needs (host keys, the client's key pair, the
configuration, the pid file) lives in a folder the caller gives. The server
listens on 127.0.0.1 only, on a free port, accepts public-key logins of the
current user and serves SFTP with `internal-sftp`. The system's own sshd, if
any, is never touched.

    with OpenSSHServer(tmp_path / "sshd") as server:
        settings = ConnectionSettings(server.url(deposit_path), key_file=server.client_key, ...)
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

SSHD = Path("/usr/sbin/sshd")
SSH_KEYGEN = "ssh-keygen"
HOST = "127.0.0.1"
# sshd refuses to start as root without its privilege separation folder.
PRIVSEP_DIR = Path("/run/sshd")
READY_TIMEOUT = 10.0


def sshd_missing_reason() -> str | None:
    """Return why OpenSSH's sshd cannot run here, or None when it can."""
    if not SSHD.exists():
        return f"{SSHD} is not installed; run `apt-get install -y openssh-server`"
    if shutil.which(SSH_KEYGEN) is None:
        return "ssh-keygen is not installed; run `apt-get install -y openssh-client`"
    return None


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class OpenSSHServer:
    """An sshd on 127.0.0.1 with its own keys and configuration under `folder`."""

    def __init__(
        self, folder: Path, *, host_key_types: tuple[str, ...] = ("ed25519",)
    ) -> None:
        self.folder = folder
        self.host_key_types = host_key_types
        self.username = getpass.getuser()
        self.port = 0
        self.client_key = folder / "client_ed25519"
        self._process: subprocess.Popen[bytes] | None = None

    # -- files ----------------------------------------------------------------

    def host_key(self, key_type: str) -> Path:
        return self.folder / f"ssh_host_{key_type}_key"

    @property
    def config_path(self) -> Path:
        return self.folder / "sshd_config"

    @property
    def log_path(self) -> Path:
        return self.folder / "sshd.log"

    def url(self, path: Path | str = "") -> str:
        """Return the sftp:// URL of `path` on this server (absolute path)."""
        return f"sftp://{self.username}@{HOST}:{self.port}{path}"

    def known_hosts_lines(self) -> list[str]:
        """Return one known_hosts line per host key, `[127.0.0.1]:PORT type key`."""
        lines = []
        for key_type in self.host_key_types:
            public = self.host_key(key_type).with_suffix(".pub").read_text().split()
            lines.append(f"[{HOST}]:{self.port} {public[0]} {public[1]}")
        return lines

    def fingerprint(self, key_type: str | None = None) -> str:
        """Return the SHA256 fingerprint of a host key, as ssh-keygen prints it."""
        path = self.host_key(key_type or self.host_key_types[0]).with_suffix(".pub")
        output = subprocess.run(
            [SSH_KEYGEN, "-l", "-E", "sha256", "-f", str(path)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return output.split()[1]

    def write_known_hosts(self, path: Path) -> Path:
        path.write_text("\n".join(self.known_hosts_lines()) + "\n")
        return path

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> Self:
        """Generate keys and configuration, start sshd and wait until it accepts.

        Raises RuntimeError when sshd is missing or does not come up.
        """
        if self._process is not None:
            raise RuntimeError("this sshd is already running; stop it first")
        reason = sshd_missing_reason()
        if reason is not None:
            raise RuntimeError(reason)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._generate_keys()
        if os.geteuid() == 0:
            PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)

        for _attempt in range(3):
            self.port = free_port()
            self._write_config()
            if self._launch():
                return self
        raise RuntimeError(
            f"sshd did not start; its log is in {self.log_path}:\n{self._log_tail()}"
        )

    def stop(self) -> None:
        """Stop this sshd by its process id and wait for it to exit."""
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- helpers ---------------------------------------------------------------

    def _generate_keys(self) -> None:
        keys = [(self.host_key(key_type), key_type) for key_type in self.host_key_types]
        keys.append((self.client_key, "ed25519"))
        for path, key_type in keys:
            if not path.exists():
                subprocess.run(
                    [
                        SSH_KEYGEN,
                        "-q",
                        "-t",
                        key_type,
                        "-N",
                        "",
                        "-C",
                        "",
                        "-f",
                        str(path),
                    ],
                    check=True,
                )
        authorized = self.client_key.with_suffix(".pub").read_text()
        (self.folder / "authorized_keys").write_text(authorized)

    def _write_config(self) -> None:
        host_keys = "\n".join(
            f"HostKey {self.host_key(key_type)}" for key_type in self.host_key_types
        )
        self.config_path.write_text(
            f"""\
ListenAddress {HOST}
Port {self.port}
{host_keys}
PidFile {self.folder / "sshd.pid"}
AuthorizedKeysFile {self.folder / "authorized_keys"}
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers {self.username}
UsePAM no
PrintMotd no
Subsystem sftp internal-sftp
"""
        )

    def _launch(self) -> bool:
        """Start sshd; return False when it exits before accepting connections."""
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(self.config_path)],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        return False

    def _log_tail(self) -> str:
        try:
            return "\n".join(
                self.log_path.read_text(errors="replace").splitlines()[-20:]
            )
        except FileNotFoundError:
            return "(no log)"
