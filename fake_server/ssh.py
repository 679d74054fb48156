"""SSH connections of the fake deposit: host key, listening socket, sessions.

`SSHListener` accepts connections on one socket in a thread of its own and
gives each one a paramiko Transport, which runs the key exchange,
authentication and the SFTP subsystem in threads of its own.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import threading
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from fake_server.sessions import SessionRegistry, SSHSessionServer
from fake_server.sftp import DepositSFTPServer

logger = logging.getLogger(__name__)

HOST_KEY_FILE_NAME = "ssh_host_ed25519_key"

# How long stop() waits for each connection's threads to end.
_JOIN_SECONDS = 5.0


def load_or_create_host_key(state_dir: Path) -> paramiko.PKey:
    """Load the server's Ed25519 host key from `state_dir`, creating it once.

    The key persists so that clients that pinned it keep trusting the server
    across restarts on the same folder.
    """
    path = state_dir / HOST_KEY_FILE_NAME
    if not path.exists():
        _create_host_key(path)
    return paramiko.Ed25519Key(filename=str(path))


def _create_host_key(path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    text = key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(text)
    try:
        # link() fails if another server on the same folder created the key
        # first; that key then wins and this one is dropped.
        os.link(partial, path)
        logger.info("created host key %s", path)
    except FileExistsError:
        pass
    finally:
        partial.unlink()


def known_hosts_line(host: str, port: int, key: paramiko.PKey) -> str:
    """Return the known_hosts line that trusts `key` for `host` and `port`.

    OpenSSH writes the host bare on port 22 and as `[host]:port` otherwise.
    """
    name = host if port == 22 else f"[{host}]:{port}"
    return f"{name} {key.get_name()} {key.get_base64()}"


class SSHListener:
    """A listening socket that serves each connection as an SFTP session."""

    def __init__(
        self,
        host: str,
        port: int,
        host_key: paramiko.PKey,
        registry: SessionRegistry,
    ) -> None:
        self.host_key = host_key
        self.registry = registry
        self._socket = socket.create_server((host, port), backlog=64)
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._transports: list[paramiko.Transport] = []
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, name=f"fake-deposit-accept-{self.port}", daemon=True
        )

    @property
    def port(self) -> int:
        """The port the socket is bound to, chosen by the system for port 0."""
        port: int = self._socket.getsockname()[1]
        return port

    def start(self, timeout: float) -> None:
        """Start accepting connections.

        Raises TimeoutError if the accept thread is not running after
        `timeout` seconds.
        """
        self._thread.start()
        if not self._listening.wait(timeout):
            raise TimeoutError(
                f"the SFTP server on port {self.port} did not start accepting "
                f"connections within {timeout} seconds"
            )

    def stop(self) -> None:
        """Stop accepting, close every connection and wait for its threads."""
        if self._thread.ident is not None:
            self._wake_writer.send(b"x")
            self._thread.join(_JOIN_SECONDS)
        with self._lock:
            transports, self._transports = self._transports, []
        for transport in transports:
            transport.close()
        for transport in transports:
            transport.join(_JOIN_SECONDS)
        for session in self.registry.sessions():
            session.join(_JOIN_SECONDS)
        for closable in (self._socket, self._wake_reader, self._wake_writer):
            closable.close()

    def connection_count(self) -> int:
        """Return how many connections are open now."""
        with self._lock:
            self._drop_closed_transports()
            return len(self._transports)

    def _drop_closed_transports(self) -> None:
        self._transports = [t for t in self._transports if t.is_active()]

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._socket, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            self._listening.set()
            logger.info(
                "accepting SFTP connections on %s:%s", self.host_address, self.port
            )
            while True:
                ready = [key.fileobj for key, _ in selector.select()]
                if self._wake_reader in ready:
                    break
                self._accept()
        logger.info("stopped accepting SFTP connections on port %s", self.port)

    @property
    def host_address(self) -> str:
        address: str = self._socket.getsockname()[0]
        return address

    def _accept(self) -> None:
        try:
            connection, address = self._socket.accept()
        except OSError as error:
            logger.warning("accepting a connection failed: %s", error)
            return
        # Without TCP_NODELAY, Nagle's algorithm holds back the small status
        # reply to each SFTP write until the client's delayed ACK. 20 MB
        # uploads from a paramiko 5.1 client over loopback on a 2-vCPU VM ran
        # at about 50 MB/s without it and 95 to 125 MB/s with it.
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = f"{address[0]}:{address[1]}"
        logger.info("connection from %s", peer)
        transport = paramiko.Transport(connection)
        transport.add_server_key(self.host_key)
        transport.set_subsystem_handler("sftp", DepositSFTPServer)
        transport.start_server(
            event=threading.Event(), server=SSHSessionServer(self.registry, peer)
        )
        with self._lock:
            self._drop_closed_transports()
            self._transports.append(transport)
