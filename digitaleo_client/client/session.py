"""DepositSession: one deposit's connection, import mode, atomic uploads and waiting.

`DigitaleoClient` (in `digitaleo_client.client.core`) adds pushing files on
top of it.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from digitaleo_client import retry
from digitaleo_client.client.arguments import action_folder
from digitaleo_client.client.mode import read_mode, write_mode
from digitaleo_client.client.outcome import ModeChange, Outcome, Upload
from digitaleo_client.client.retrying import RetryPolicies, needs_reconnect
from digitaleo_client.client.waiting import (
    Clock,
    PollPolicy,
    StageCallback,
    SystemClock,
    Waiter,
    locate,
    processed_names,
)
from digitaleo_client.config import ConnectionSettings, parse_url
from digitaleo_client.contacts.account import AccountSettings
from digitaleo_client.deposit import (
    Action,
    ActionFolder,
    ImportMode,
    Media,
    Stage,
    parse_processed_name,
    remote_file_name,
    temporary_name,
)
from digitaleo_client.errors import (
    ConfigurationError,
    DigitaleoError,
    RemoteNotFound,
    TransferError,
)
from digitaleo_client.journal import Journal
from digitaleo_client.transport import ProgressCallback, Transport, open_transport

logger = logging.getLogger(__name__)

# Seconds push and wait give the deposit to move a file to ok/ or ko/.
DEFAULT_WAIT_TIMEOUT = 600.0

T = TypeVar("T")


class DepositSession:
    """A connection to one deposit, for one account.

    Use it as a context manager. The connection opens on first use and
    reopens after a dropped connection when an operation is safe to repeat.
    `account` None means the default account settings (separator `;`,
    dedup on Email, France); `clock` None means the system clock;
    `retry_policies` None means the default policies of `RetryPolicies`;
    `journal` None records no push and rejects no duplicate.
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        account: AccountSettings | None = None,
        *,
        clock: Clock | None = None,
        poll_policy: PollPolicy | None = None,
        open_connection: Callable[[ConnectionSettings], Transport] = open_transport,
        retry_policies: RetryPolicies | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.settings = settings
        self.account = account or AccountSettings()
        self.clock = clock or SystemClock()
        self.poll_policy = poll_policy or PollPolicy()
        self.retry_policies = retry_policies or RetryPolicies()
        self.journal = journal
        self._renaming = False
        self._open_connection = open_connection
        self._transport: Transport | None = None
        self._closed = False

    # -- lifecycle -------------------------------------------------------------

    @property
    def display_url(self) -> str:
        return parse_url(self.settings.url).display

    @property
    def transport(self) -> Transport:
        """The open connection, opened now if needed.

        Raises ConfigurationError once the client is closed.
        """
        if self._closed:
            raise ConfigurationError(
                f"the client for {self.display_url} is closed; create a new DigitaleoClient"
            )
        if self._transport is None:
            self._transport = self.retry_policies.connect.call(
                lambda: self._open_connection(self.settings),
                f"connect to {self.display_url}",
            )
        return self._transport

    def close(self) -> None:
        """Close the connection; the client cannot be used afterwards."""
        self._closed = True
        self._drop_connection()

    def __enter__(self) -> Self:
        self._transport = self.transport
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _drop_connection(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    def _retried(
        self, policy: retry.RetryPolicy, operation: Callable[[], T], what: str
    ) -> T:
        """Run `operation` under `policy`, reconnecting after a dropped connection."""

        def attempt() -> T:
            try:
                # One connection attempt per attempt of `policy`: the CONNECT
                # policy inside it would multiply the attempts and pauses.
                if self._transport is None and not self._closed:
                    self._transport = self._open_connection(self.settings)
                return operation()
            except DigitaleoError as error:
                if needs_reconnect(error):
                    self._drop_connection()
                raise

        return policy.call(attempt, what)

    # -- import mode -------------------------------------------------------------

    def get_mode(self) -> ImportMode:
        """Return the account's import mode, read from its dot-file.

        Raises ConfigurationError when several mode files are present.
        """
        return self._retried(
            self.retry_policies.read,
            lambda: read_mode(self.transport),
            "read import mode",
        )

    def set_mode(self, mode: ImportMode) -> ModeChange:
        """Leave exactly the dot-file of `mode`; return the mode before and after."""
        return self._retried(
            self.retry_policies.read,
            lambda: write_mode(self.transport, mode),
            f"set import mode {mode}",
        )

    # -- waiting ----------------------------------------------------------------

    def wait(
        self,
        upload: Upload,
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        on_stage: StageCallback | None = None,
    ) -> Outcome:
        """Poll until `upload` reaches ok/ or ko/; return that outcome.

        Polls with growing pauses (PollPolicy). Raises WaitTimeout, carrying
        the last stage seen, when `timeout` seconds pass first.
        """
        waiter = Waiter(self.locate, self.clock, self.poll_policy, on_stage)
        return waiter.wait(upload, timeout)

    def find_upload(
        self,
        remote_name: str,
        *,
        action: Action = Action.IMPORT,
        media: Media | None = None,
    ) -> Upload:
        """Return the Upload of the newest file called `remote_name`, to wait for it.

        A file still in in/ is that file; otherwise the newest processed file
        of that name in on/, ok/ or ko/, by the server's timestamp prefix.
        Use it to wait for a file uploaded earlier or by another program.

        Raises RemoteNotFound when no file of that name is in any stage folder.
        """
        folder = action_folder(action, media)
        name = remote_file_name(remote_name)

        def find() -> Upload:
            processed = processed_names(self.transport, folder, name)
            if self.transport.exists(f"{folder.stage(Stage.IN)}/{name}"):
                return Upload(action, media, name, None, None, frozenset(processed))
            if not processed:
                raise RemoteNotFound(
                    f"no file named {name} in the in/, on/, ok/ or ko/ folders of "
                    f"{folder.path}/; check the name and --action",
                    path=f"{folder.path}/{name}",
                )
            newest = max(processed, key=_timestamp_of)
            return Upload(
                action, media, name, None, None, frozenset(processed - {newest})
            )

        return self._retried(
            self.retry_policies.read, find, f"find {name} in {folder.path}"
        )

    def locate(self, upload: Upload) -> Outcome | None:
        """Return the current stage of `upload`, or None while it moves between folders."""
        return self._retried(
            self.retry_policies.read,
            lambda: locate(self.transport, upload),
            "locate upload",
        )

    # -- uploading --------------------------------------------------------------

    def upload(
        self,
        local_path: Path,
        folder: ActionFolder,
        remote_name: str,
        part: int = 1,
        parts: int = 1,
        on_progress: ProgressCallback | None = None,
        *,
        before_rename: Callable[[Upload, str], None] | None = None,
    ) -> Upload:
        """Publish one file as `in/<remote_name>` of `folder`, atomically.

        The bytes go to a hidden `.NAME.part` first, retried from the start
        after a dropped connection, then a rename publishes them.
        `before_rename` None calls nothing; otherwise it receives the Upload
        and the temporary path just before the rename. Returns the Upload,
        which remembers the older files of the same name.

        Raises TransferError when a file of that name still waits in in/.
        """
        final = f"{folder.stage(Stage.IN)}/{remote_name}"
        partial = posixpath.join(folder.stage(Stage.IN), temporary_name(remote_name))

        def check_and_note() -> frozenset[str]:
            if self.transport.exists(final):
                raise TransferError(
                    f"{final} already waits on {self.display_url}; wait until the "
                    "deposit picks it up, or choose another name with --list",
                    path=final,
                )
            return frozenset(processed_names(self.transport, folder, remote_name))

        earlier = self._retried(
            self.retry_policies.read, check_and_note, f"look at {folder.path}"
        )
        size = self._retried(
            self.retry_policies.upload,
            lambda: self._put(local_path, partial, on_progress),
            f"upload {partial}",
        )
        pending = Upload(
            folder.action, folder.media, remote_name, None, size, earlier, part, parts
        )
        if before_rename is not None:
            before_rename(pending, partial)
        # From here a failure may come after the rename happened.
        self._renaming = True
        self._retried(
            self.retry_policies.publish,
            lambda: self._publish(partial, final, folder, earlier),
            f"rename to {final}",
        )
        self._renaming = False
        logger.info("uploaded %s as %s (%d bytes)", local_path, final, size)
        return replace(pending, uploaded_at=self.clock.now())

    def _put(
        self, local_path: Path, partial: str, on_progress: ProgressCallback | None
    ) -> int:
        transport = self.transport
        if transport.exists(partial):
            logger.info("removing leftover temporary file %s", partial)
            transport.remove(partial)
        with local_path.open("rb") as source:
            return transport.put(source, partial, on_progress)

    def _publish(
        self, partial: str, final: str, folder: ActionFolder, earlier: frozenset[str]
    ) -> None:
        """Rename `partial` to `final`, unless an earlier attempt already did.

        Raises RemoteNotFound when the temporary file is gone and no file of
        the final name appeared in in/, on/, ok/ or ko/ either.
        """
        if self.transport.exists(partial):
            self.transport.rename(partial, final)
            return

        # The hidden file was written by this push, so its absence means the
        # rename happened but its response was lost with the connection. The
        # deposit may already have moved the file on from in/.
        name = posixpath.basename(final)
        if (
            self.transport.exists(final)
            or processed_names(self.transport, folder, name) - earlier
        ):
            logger.info("%s was already renamed to %s", partial, final)
            return
        raise RemoteNotFound(
            f"{partial} disappeared from {self.display_url} before its rename, and "
            f"no {name} appeared in {folder.path}/; push the file again",
            path=partial,
        )


def _timestamp_of(processed: str) -> int:
    parsed = parse_processed_name(processed)
    return parsed[0] if parsed is not None else 0
