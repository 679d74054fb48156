"""Connection settings of a deposit: URL, credentials, host key policy, timeouts."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from digitaleo_client.errors import ConfigurationError

SCHEMES = ("sftp", "ftp", "ftps", "file")
DEFAULT_PORTS = {"sftp": 22, "ftp": 21, "ftps": 21}
DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything needed to open a transport to one deposit.

    `password` never appears in `repr`, logs or JSON output.
    """

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    key_file: Path | None = None
    known_hosts: Path = DEFAULT_KNOWN_HOSTS
    accept_new_host_key: bool = False
    host_key_fingerprint: str | None = None
    ca_file: Path | None = None
    connect_timeout: float = 15.0
    operation_timeout: float = 60.0

    def __post_init__(self) -> None:
        # Callers often pass paths as strings, and the transports need Path objects.
        for name in ("key_file", "known_hosts", "ca_file"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, Path(value))

    @property
    def scheme(self) -> str:
        return parse_url(self.url).scheme

    def with_changes(self, **changes: object) -> ConnectionSettings:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ParsedUrl:
    """The parts of a deposit URL that the transports use."""

    scheme: str
    host: str
    port: int
    username: str | None
    path: str

    @property
    def display(self) -> str:
        """The URL without any password."""
        if self.scheme == "file":
            return f"file://{self.path}"
        user = f"{self.username}@" if self.username else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}{self.path}"


def _file_url_path(url: str, host: str) -> str:
    """Return the folder of a file URL, which must be on this machine."""
    path = unquote(urlsplit(url).path)
    if host.lower() not in ("", "localhost") or not path.startswith("/"):
        raise ConfigurationError(
            f"deposit URL {url!r} is not an absolute folder path on this machine; "
            "write three slashes before the absolute path, as in "
            "file:///mnt/deposit",
            key="url",
        )
    return path


def parse_url(url: str) -> ParsedUrl:
    """Split a deposit URL such as `sftp://crm@127.0.0.1:2222/base`.

    Raises ConfigurationError for an unknown scheme, a missing host, or a
    password written in the URL (passwords come from DIGITALEO_PASSWORD or a
    prompt, never from a command line).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ConfigurationError(
            f"deposit URL {url!r} has scheme {parts.scheme!r}; "
            "use sftp://, ftp://, ftps:// or file://",
            key="url",
        )
    if parts.password is not None:
        raise ConfigurationError(
            "the deposit URL contains a password; remove it from the URL and "
            "set DIGITALEO_PASSWORD or let the command prompt for it",
            key="url",
        )
    if scheme == "file":
        return ParsedUrl(scheme, "", 0, None, _file_url_path(url, parts.netloc))
    if not parts.hostname:
        raise ConfigurationError(
            f"deposit URL {url!r} has no host; write it as {scheme}://user@host:port",
            key="url",
        )
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as error:
        raise ConfigurationError(
            f"deposit URL {url!r} has an invalid port; use a number from 1 to 65535",
            key="url",
        ) from error
    username = unquote(parts.username) if parts.username else None
    return ParsedUrl(scheme, parts.hostname, port, username, unquote(parts.path) or "")
