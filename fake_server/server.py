"""`FakeServer`: the fake deposit served over SFTP (and FTP or FTPS), from Python or a test.

    with FakeServer(tmp_path / "deposit") as server:
        server.url                  # "sftp://crm@127.0.0.1:40321"
        server.password             # generated unless configured
        server.known_hosts_path     # a known_hosts file that trusts the server
        server.store.lists()        # what the deposit did

Every piece of state (folder tree, SQLite store, host key) lives under the
root folder. The server listens on 127.0.0.1 and a free port by default.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Self

import paramiko

from fake_server.clock import Clock, SystemClock
from fake_server.config import ServerConfig, load_server_config
from fake_server.faults import PROCESSING_DELAY, Fault, Faults
from fake_server.ftp import FTPFrontEnd
from fake_server.processor import Processor
from fake_server.reporting import Reporting, ReportSchedule
from fake_server.sessions import Account, OpenUploads, SessionRegistry
from fake_server.ssh import SSHListener, known_hosts_line, load_or_create_host_key
from fake_server.store import STATE_DIR, Store
from fake_server.tls import ensure_certificate

logger = logging.getLogger(__name__)

KNOWN_HOSTS_FILE_NAME = "known_hosts"


class ServerStateError(RuntimeError):
    """A FakeServer was used in a state that does not allow the call."""


class _State(enum.Enum):
    NEW = "not started"
    RUNNING = "running"
    STOPPED = "stopped"


class FakeServer:
    """A fake Digitaleo deposit on a local SFTP port.

    `config` is a ServerConfig, the path of a TOML configuration file, or
    None for the default account with one user, `crm`. `password` is that
    default user's password; None generates one. It is ignored when
    `config` is a ServerConfig or a file that lists its own users. `clock`
    None means the system clock. `settle_seconds` and `processing_delay`
    are passed to the Processor: the time a file written behind the
    server's back must stay unchanged before it is processed (None: only a
    call to `processor.scan()` takes such files), and a pause before each
    file is processed.
    `ready_timeout` bounds the wait, in seconds, for the SFTP listener to
    accept connections.
    `ftp_port` also serves the deposit over FTP on that port (0 picks a free
    one), with the same users and access rules; `ftps` makes it FTPS with a
    self-signed certificate for `host`, written under the state folder.
    `report_interval` is the number of real seconds between two writes of
    today's report zips; None writes them only when `reporting` is asked.
    `faults` arms faults to inject, as Fault objects or texts such as
    "drop-upload-after=4096" (see `fake_server.faults`); a processing-delay
    fault raises `processing_delay` to its value. Raises ValueError for an
    unknown or malformed fault.

    Use it as a context manager, or call start() and stop(). A server starts
    once; create a new one, on the same root if you like, to serve again.
    """

    def __init__(
        self,
        root: Path,
        config: ServerConfig | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        settle_seconds: float | None = None,
        processing_delay: float = 0.0,
        password: str | None = None,
        ready_timeout: float = 10.0,
        ftp_port: int | None = None,
        ftps: bool = False,
        report_interval: float | None = None,
        faults: Iterable[Fault | str] = (),
    ) -> None:
        self.root = Path(root).absolute()
        self.faults = Faults(faults)
        if isinstance(config, ServerConfig):
            self.config = config
        else:
            self.config = load_server_config(config, default_password=password)
        self.host = host
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._requested_port = port
        self._settle_seconds = settle_seconds
        self._processing_delay = max(
            processing_delay, self.faults.value(PROCESSING_DELAY)
        )
        self._ready_timeout = ready_timeout
        self._report_interval = report_interval
        self._reporting: Reporting | None = None
        self._report_schedule: ReportSchedule | None = None
        self._state = _State.NEW
        self._store: Store | None = None
        self._processor: Processor | None = None
        self._listener: SSHListener | None = None
        self._host_key: paramiko.PKey | None = None
        self._ftp_port = ftp_port
        self._ftps = ftps
        self._ftp: FTPFrontEnd | None = None
        self._ca_file: Path | None = None

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> Self:
        """Create the folder tree, then serve it until stop().

        Returns the server once it accepts connections. Raises
        ServerStateError if it was started before, TimeoutError if it is not
        accepting connections within the ready timeout, and OSError if the
        port cannot be bound.
        """
        if self._state is not _State.NEW:
            raise ServerStateError(
                f"the fake server on {self.root} is {self._state.value}; "
                "create a new FakeServer to serve again"
            )
        self._state = _State.RUNNING
        try:
            self._start_parts()
        except BaseException:
            self.stop()
            raise
        logger.info("fake deposit %s serving %s", self.url, self.root)
        return self

    def _start_parts(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        real_root = self.root.resolve()
        self._store = Store.for_root(real_root)
        open_uploads = OpenUploads()
        self._processor = Processor(
            real_root,
            self.config,
            self._store,
            self.clock,
            settle_seconds=self._settle_seconds,
            processing_delay=self._processing_delay,
            is_open_for_writing=open_uploads.contains,
        )
        self._processor.ensure_layout()
        self._reporting = Reporting(real_root, self._store, self.clock)
        if self._report_interval is not None:
            self._report_schedule = ReportSchedule(
                self._reporting, self._report_interval
            )
            self._report_schedule.start()
        self._host_key = load_or_create_host_key(real_root / STATE_DIR)
        self._processor.start()

        accounts = {
            user.name: Account.from_config(user.name, user.password, user.public_key)
            for user in self.config.users
        }
        registry = SessionRegistry(
            real_root, accounts, self._processor.submit, open_uploads, self.faults
        )
        self._listener = SSHListener(
            self.host, self._requested_port, self._host_key, registry
        )
        self._listener.start(self._ready_timeout)
        self.write_known_hosts(self.known_hosts_path)
        # Files an earlier server on this root left in in/ are processed now,
        # as the deposit would after a restart.
        self._processor.scan()
        if self.faults:
            logger.warning(
                "injecting faults: %s", ", ".join(map(str, self.faults.armed()))
            )
        if self._ftp_port is not None:
            self._start_ftp(real_root, accounts)

    def _start_ftp(self, real_root: Path, accounts: dict[str, Account]) -> None:
        assert self._processor is not None
        certificate = None
        if self._ftps:
            certificate = ensure_certificate(real_root / STATE_DIR, self.host)
            self._ca_file = certificate.certificate

        def check_password(username: str, password: str) -> bool:
            account = accounts.get(username)
            return account is not None and account.accepts_password(password)

        self._ftp = FTPFrontEnd(
            real_root,
            check_password,
            self._processor.submit,
            host=self.host,
            port=self._ftp_port or 0,
            certificate=certificate,
        )
        self._ftp.start()

    def stop(self) -> None:
        """Close every connection, finish processing and close the store.

        Stopping a stopped server does nothing.
        """
        if self._state is _State.STOPPED:
            return
        self._state = _State.STOPPED
        self.faults.stopping.set()
        if self._ftp is not None:
            self._ftp.stop()
        if self._listener is not None:
            self._listener.stop()
        if self._processor is not None:
            self._processor.stop()
        if self._report_schedule is not None:
            self._report_schedule.stop()
        if self._store is not None:
            self._store.close()
        logger.info("fake deposit on %s stopped", self.root)

    def __enter__(self) -> Self:
        if self._state is not _State.RUNNING:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._state is _State.RUNNING

    def _check_running(self) -> None:
        if self._state is not _State.RUNNING:
            hint = "call start() or use it in a with block"
            if self._state is _State.STOPPED:
                hint = "create a new FakeServer on the same root to serve it again"
            raise ServerStateError(
                f"the fake server on {self.root} is {self._state.value}; {hint}"
            )

    # -- what clients need ---------------------------------------------------

    @property
    def username(self) -> str:
        """Name of the first configured user, the one `url` logs in as."""
        return self.config.users[0].name

    @property
    def password(self) -> str | None:
        """Password of the first configured user; None if it logs in by key only."""
        return self.config.users[0].password

    @property
    def port(self) -> int:
        """The port the server listens on, chosen by the system for port 0."""
        self._check_running()
        assert self._listener is not None
        return self._listener.port

    @property
    def url(self) -> str:
        """The deposit's URL without the password, such as `sftp://crm@127.0.0.1:40321`."""
        return f"sftp://{self.username}@{self.host}:{self.port}"

    @property
    def ftp_url(self) -> str | None:
        """The FTP or FTPS URL, such as `ftps://crm@127.0.0.1:40322`; None without FTP."""
        self._check_running()
        if self._ftp is None:
            return None
        scheme = "ftps" if self._ftps else "ftp"
        return f"{scheme}://{self.username}@{self.host}:{self._ftp.port}"

    @property
    def ca_file(self) -> Path | None:
        """The FTPS certificate, to give clients as their CA file; None without FTPS."""
        return self._ca_file

    @property
    def host_key(self) -> paramiko.PKey:
        self._check_running()
        assert self._host_key is not None
        return self._host_key

    @property
    def host_key_fingerprint(self) -> str:
        """SHA256 fingerprint of the host key as OpenSSH prints it: `SHA256:...`."""
        fingerprint: str = self.host_key.fingerprint
        return fingerprint

    @property
    def known_hosts_line(self) -> str:
        """The known_hosts line that trusts this server, `[127.0.0.1]:PORT ssh-ed25519 AAAA...`."""
        return known_hosts_line(self.host, self.port, self.host_key)

    @property
    def known_hosts_path(self) -> Path:
        """A known_hosts file, under the root's state folder, holding `known_hosts_line`."""
        return self.root / STATE_DIR / KNOWN_HOSTS_FILE_NAME

    def write_known_hosts(self, path: Path) -> Path:
        """Write a known_hosts file that trusts this server and nothing else.

        Returns `path`. Raises ServerStateError unless the server is running.
        """
        path.write_text(self.known_hosts_line + "\n", encoding="utf-8")
        return path

    def ready_info(self) -> dict[str, str | None]:
        """Return what a client needs to connect, as the ready file stores it.

        `ftp_url` is there when FTP is served, and `ca_file` with FTPS.
        """
        info: dict[str, str | None] = {
            "url": self.url,
            "username": self.username,
            "password": self.password,
            "host_key_fingerprint": self.host_key_fingerprint,
            "known_hosts_line": self.known_hosts_line,
        }
        if self.ftp_url is not None:
            info["ftp_url"] = self.ftp_url
        if self._ca_file is not None:
            info["ca_file"] = str(self._ca_file)
        return info

    @property
    def store(self) -> Store:
        """The deposit's SQLite store, to read what it did while it runs."""
        self._check_running()
        assert self._store is not None
        return self._store

    @property
    def reporting(self) -> Reporting:
        """Campaigns and report zips: record events, write the day's zips."""
        self._check_running()
        assert self._reporting is not None
        return self._reporting

    @property
    def processor(self) -> Processor:
        self._check_running()
        assert self._processor is not None
        return self._processor

    def connection_count(self) -> int:
        """Return how many client connections are open now."""
        self._check_running()
        assert self._listener is not None
        return self._listener.connection_count()
