"""Opening an SFTP deposit's SSH connection: socket, handshake, host key, login."""

from __future__ import annotations

import socket
from typing import NoReturn

import paramiko

from digitaleo_client.config import ConnectionSettings, ParsedUrl
from digitaleo_client.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectTimeout,
    DepositConnectionError,
)
from digitaleo_client.transport.hostkeys import HostKeyChecker

WINDOW_SIZE = 64 * 1024 * 1024
MAX_PACKET_SIZE = 256 * 1024
# Seconds to wait for the server's first bytes before the SSH handshake.
_GREETING_PEEK_SECONDS = 2.0
PREFERRED_CIPHERS = ("aes128-gcm@openssh.com", "aes128-ctr", "aes256-gcm@openssh.com")


def open_ssh(
    url: ParsedUrl, settings: ConnectionSettings, checker: HostKeyChecker
) -> paramiko.Transport:
    """Connect the socket, negotiate SSH and verify the host key."""
    try:
        sock = socket.create_connection(
            (url.host, url.port), timeout=settings.connect_timeout
        )
    except TimeoutError as error:
        raise ConnectTimeout(
            f"{url.host}:{url.port} did not respond within {settings.connect_timeout:g} s; "
            "check the host, the port and any firewall, or raise --connect-timeout",
        ) from error
    except OSError as error:
        raise DepositConnectionError(
            f"cannot connect to {url.host}:{url.port}: {error.strerror or error}; "
            "check the host and port of the deposit URL",
        ) from error

    _check_not_ftp(sock, url, settings)
    ssh = paramiko.Transport(
        sock, default_window_size=WINDOW_SIZE, default_max_packet_size=MAX_PACKET_SIZE
    )
    try:
        _negotiate(ssh, url, settings, checker)
    except BaseException:
        ssh.close()
        raise
    return ssh


def _check_not_ftp(
    sock: socket.socket, url: ParsedUrl, settings: ConnectionSettings
) -> None:
    """Raise DepositConnectionError, closing `sock`, when an FTP server greets.

    SSH and FTP servers both speak first, so the greeting is read without
    consuming it (MSG_PEEK). A server that stays silent for a moment is left
    to the SSH handshake and its own timeout.
    """
    sock.settimeout(min(settings.connect_timeout, _GREETING_PEEK_SECONDS))
    try:
        greeting = sock.recv(4, socket.MSG_PEEK)
    except OSError:
        greeting = b""
    finally:
        sock.settimeout(settings.connect_timeout)
    if greeting[:3] != b"220":
        return
    sock.close()
    raise DepositConnectionError(
        f"{url.host}:{url.port} is an FTP server (it greeted with code 220), not an "
        f"SSH server; use ftps://{url.host}:{url.port} or ftp:// as the deposit URL",
        host=url.host,
        transient=False,
    )


def _negotiate(
    ssh: paramiko.Transport,
    url: ParsedUrl,
    settings: ConnectionSettings,
    checker: HostKeyChecker,
) -> None:
    options = ssh.get_security_options()
    offered = tuple(options.ciphers)
    options.ciphers = tuple(
        dict.fromkeys([c for c in PREFERRED_CIPHERS if c in offered] + list(offered))
    )
    options.key_types = checker.preferred_key_types(tuple(options.key_types))
    timed_out = ConnectTimeout(
        f"{url.display} did not complete the SSH handshake within "
        f"{settings.connect_timeout:g} s; check that the port serves SSH, or "
        "raise --connect-timeout",
    )
    try:
        ssh.start_client(timeout=settings.connect_timeout)
    except TimeoutError as error:
        raise timed_out from error
    except (paramiko.SSHException, EOFError, OSError) as error:
        raise DepositConnectionError(
            f"SSH handshake with {url.display} failed: {error}; check that the port serves SSH",
        ) from error
    # start_client returns without an error when its timeout expires.
    if not ssh.is_active() or not ssh.initial_kex_done:
        raise timed_out
    checker.verify(ssh.get_remote_server_key())


def authenticate(
    ssh: paramiko.Transport, url: ParsedUrl, username: str, settings: ConnectionSettings
) -> None:
    """Log in with the key file, then the password, whichever are set."""
    if settings.key_file is None and settings.password is None:
        raise ConfigurationError(
            f"no credentials for {username} on {url.display}; set DIGITALEO_PASSWORD, "
            "answer the password prompt, or give a private key with --key-file",
            key="password",
        )
    failures: list[str] = []
    if settings.key_file is not None:
        key = _load_key(settings)
        try:
            ssh.auth_publickey(username, key)
            return
        except paramiko.AuthenticationException as error:
            failures.append(f"key {settings.key_file} rejected")
            if settings.password is None:
                _fail_authentication(url, username, failures, error)
    try:
        ssh.auth_password(username, settings.password)
    except paramiko.AuthenticationException as error:
        failures.append("password rejected")
        _fail_authentication(url, username, failures, error)
    except paramiko.SSHException as error:
        raise DepositConnectionError(
            f"login to {url.display} failed: {error}; retry the command"
        ) from error


def _fail_authentication(
    url: ParsedUrl, username: str, failures: list[str], error: Exception
) -> NoReturn:
    raise AuthenticationFailed(
        f"{url.display} rejected the login of {username} ({', '.join(failures)}); "
        "check the user name, DIGITALEO_PASSWORD or --key-file",
        host=url.host,
        username=username,
    ) from error


def _load_key(settings: ConnectionSettings) -> paramiko.PKey:
    assert settings.key_file is not None
    path = settings.key_file.expanduser()
    try:
        # An encrypted key is opened with the password setting as passphrase.
        return paramiko.PKey.from_path(path, settings.password)
    except FileNotFoundError as error:
        raise ConfigurationError(
            f"private key file {path} not found; fix --key-file / DIGITALEO_KEY_FILE",
            key="key_file",
        ) from error
    except (paramiko.SSHException, OSError, ValueError) as error:
        raise ConfigurationError(
            f"cannot read private key {path}: {error}; give an OpenSSH or PEM private "
            "key, and its passphrase in DIGITALEO_PASSWORD if it has one",
            key="key_file",
        ) from error
