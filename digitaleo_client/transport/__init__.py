"""Transports: one contract (`base.Transport`), one implementation per protocol.

`open_transport` picks the implementation from the URL scheme: `sftp://`
(paramiko), `ftp://` and `ftps://` (ftplib), `file://` (a mounted folder).
"""

from __future__ import annotations

from digitaleo_client.config import ConnectionSettings, parse_url
from digitaleo_client.transport.base import ProgressCallback, RemoteEntry, Transport

__all__ = ["ProgressCallback", "RemoteEntry", "Transport", "open_transport"]


def open_transport(settings: ConnectionSettings) -> Transport:
    """Connect to the deposit named by `settings.url` and return the transport.

    Raises ConfigurationError for an unknown scheme and a
    DepositConnectionError subclass when the connection fails.
    """
    scheme = parse_url(settings.url).scheme
    if scheme == "sftp":
        from digitaleo_client.transport.sftp import SFTPTransport

        return SFTPTransport.connect(settings)
    if scheme in ("ftp", "ftps"):
        from digitaleo_client.transport.ftp import FTPTransport

        return FTPTransport.connect(settings)
    from digitaleo_client.transport.local import LocalTransport

    return LocalTransport.connect(settings)
