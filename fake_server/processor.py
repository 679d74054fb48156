"""The fake deposit's processor: moves each file in -> on -> ok/ko and applies it.

A file deposited in `contacts/<action>/in/` moves to `on/` under the name
`<POSIX seconds>_<name>`, is applied to the store in one transaction, and
moves to `ok/`, or to `ko/` when it cannot be processed as a whole (the
transaction is then rolled back, so a rejected file changes nothing). Hidden
files (leading `.`) are never processed.

Files reach the processor in two ways: a front end calls `submit` when a
client closes a written file, or, with `settle_seconds` set, the worker
scans every `in/` and takes files whose size and modification time stayed
unchanged for that long, as measured by the injected clock.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digitaleo_client.deposit import (
    IMPORT_DIR,
    Action,
    ActionFolder,
    ImportMode,
    Stage,
    all_action_folders,
    all_remote_folders,
    import_mode_from_dotfiles,
    is_hidden,
    list_name_of,
    parse_action_folder,
    processed_name,
)
from fake_server.clock import Clock
from fake_server.config import DEFAULT_ACCOUNT, ServerConfig
from fake_server.rules.contacts import ContactBook
from fake_server.rules.context import FileContext
from fake_server.rules.delete import delete_contacts
from fake_server.rules.importing import import_contacts
from fake_server.rules.optout import opt_in, opt_out
from fake_server.rules.reader import DepositTable, Rejected, open_table
from fake_server.store import Store, empty_counts

logger = logging.getLogger(__name__)

# Real seconds between two scans of the in/ folders in settle mode.
SCAN_INTERVAL = 0.2

_DEDUP_SETTING = "dedup_criterion"


@dataclass(frozen=True)
class _Deposit:
    """A file taken from an in/ folder: where it came from and its processed name."""

    folder: ActionFolder
    on_path: Path
    name: str
    deposited_at: float


class Processor:
    """Applies deposited files to the store, synchronously or on a worker thread.

    `settle_seconds` None turns off the periodic scan of in/ folders, and a
    direct `scan` call then takes every visible file at once.
    `processing_delay` keeps each file that many real seconds in on/ so
    that clients can watch it there. `is_open_for_writing` tells whether a
    front end still has a file open for writing; the scan leaves such a file
    to that front end, which submits it once closed. None means no file is.
    """

    def __init__(
        self,
        root: Path,
        config: ServerConfig,
        store: Store,
        clock: Clock,
        *,
        settle_seconds: float | None = None,
        processing_delay: float = 0.0,
        is_open_for_writing: Callable[[Path], bool] | None = None,
    ) -> None:
        self.root = root
        self.config = config
        self.store = store
        self.clock = clock
        self.settle_seconds = settle_seconds
        self.processing_delay = processing_delay
        self._is_open_for_writing = is_open_for_writing or (lambda path: False)

        # None wakes the worker up so that it sees a stop request at once.
        self._queue: queue.Queue[Path | None] = queue.Queue()
        self._pending: set[Path] = set()
        self._changed = threading.Condition()
        self._seen: dict[Path, tuple[int, int, float]] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._refresh_dedup_keys()

    # Layout

    def ensure_layout(self) -> None:
        """Create every folder of the deposit under the root."""
        for folder in all_remote_folders():
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    # Processing one file

    def process(self, path: Path) -> dict[str, Any]:
        """Process one file of an in/ folder now and return its file record.

        Raises ValueError when `path` is hidden or not directly in the in/
        folder of an action, and FileNotFoundError when it is gone.
        """
        folder = self._action_folder_of(path)
        deposit = self._move_to_on(path, folder)
        list_name = (
            list_name_of(deposit.name) if folder.action is Action.IMPORT else None
        )
        media = folder.media.value if folder.media is not None else None
        file_id = self.store.add_file(
            folder.action.value, media, deposit.name, list_name, deposit.deposited_at
        )
        logger.info("processing %s/%s", folder.stage(Stage.ON), deposit.name)
        if self.processing_delay > 0:
            self._stopping.wait(self.processing_delay)

        stage, reason = self._apply_and_record(deposit, file_id, list_name)
        final_path = self.root / folder.stage(stage) / deposit.name
        os.replace(deposit.on_path, final_path)
        record = self.store.file(file_id)
        if reason is None:
            logger.info("processed %s into ok/: %s", deposit.name, record["counts"])
        else:
            logger.info("rejected %s into ko/: %s", deposit.name, reason)
        return record

    def _action_folder_of(self, path: Path) -> ActionFolder:
        folder = parse_action_folder(path.parent.parent.name)
        expected = (
            None if folder is None else (self.root / folder.stage(Stage.IN)).resolve()
        )
        if folder is None or path.parent.resolve() != expected:
            raise ValueError(
                f"{path} is not directly in an in/ folder of {self.root}/contacts"
            )
        if is_hidden(path.name):
            raise ValueError(f"{path} is hidden; hidden files are never processed")
        return folder

    def _move_to_on(self, path: Path, folder: ActionFolder) -> _Deposit:
        """Move a file to on/ under a timestamped name no other file of the folder has."""
        now = self.clock.now()
        timestamp = int(now)
        # NOTE: a name already taken in the same second gets a later second, so
        # the prefix can run ahead of the clock when files arrive faster than
        # one per second under the same name.
        while any(
            (
                self.root / folder.stage(stage) / processed_name(timestamp, path.name)
            ).exists()
            for stage in (Stage.ON, Stage.OK, Stage.KO)
        ):
            timestamp += 1
        name = processed_name(timestamp, path.name)
        on_path = self.root / folder.stage(Stage.ON) / name
        os.replace(path, on_path)
        return _Deposit(folder, on_path, name, now)

    def _apply_and_record(
        self, deposit: _Deposit, file_id: int, list_name: str | None
    ) -> tuple[Stage, str | None]:
        """Apply the file in one transaction and record its outcome; return stage and reason."""
        try:
            with self.store.transaction() as connection, ExitStack() as stack:
                book = ContactBook(connection, self.clock.now())
                context = FileContext(self.config.account, book, DEFAULT_ACCOUNT)
                table = open_table(deposit.on_path, self.config.account, stack)
                self._handler(deposit.folder, list_name)(table, context)
                book.flush()
                self.store.finish_file(
                    connection,
                    file_id,
                    name=deposit.name,
                    stage=Stage.OK.value,
                    counts=context.counts,
                    reason=None,
                    processed_at=self.clock.now(),
                )
            return Stage.OK, None
        except Rejected as rejected:
            reason = rejected.reason
        except Exception as error:  # a file must never stay in on/
            logger.exception("processing %s failed", deposit.name)
            reason = (
                f"the fake deposit failed while processing the file "
                f"({type(error).__name__}: {error}); this is a bug of the fake server"
            )
        with self.store.transaction() as connection:
            self.store.finish_file(
                connection,
                file_id,
                name=deposit.name,
                stage=Stage.KO.value,
                counts=empty_counts(),
                reason=reason,
                processed_at=self.clock.now(),
            )
        return Stage.KO, reason

    def _handler(
        self, folder: ActionFolder, list_name: str | None
    ) -> Callable[[DepositTable, FileContext], None]:
        if folder.action is Action.IMPORT:
            assert list_name is not None
            mode = self.import_mode()
            return lambda table, context: import_contacts(
                table, context, list_name, mode
            )
        if folder.action is Action.DELETE:
            return delete_contacts
        media = folder.media
        assert media is not None
        apply = opt_out if folder.action is Action.OPTOUT else opt_in
        return lambda table, context: apply(table, context, media)

    def import_mode(self) -> ImportMode:
        """Return the account's import mode from the dot-files of `contacts/import/`.

        Raises Rejected when several mode dot-files are present, because the
        mode is then ambiguous.
        """
        import_dir = self.root / IMPORT_DIR
        names = [entry.name for entry in import_dir.iterdir() if entry.is_file()]
        modes = import_mode_from_dotfiles(names)
        if len(modes) > 1:
            shown = ", ".join(mode.dotfile for mode in modes)
            raise Rejected(
                f"contacts/import contains several import mode files ({shown}), so the mode "
                "is ambiguous; remove all but one"
            )
        return modes[0] if modes else ImportMode.CREATE

    def _refresh_dedup_keys(self) -> None:
        """Recompute stored dedup keys when the account's criterion changed."""
        criterion = self.config.account.dedup
        if self.store.setting(_DEDUP_SETTING) == criterion.value:
            return
        with self.store.transaction() as connection:
            count = ContactBook(connection, self.clock.now()).recompute_keys(criterion)
            self.store.set_setting(connection, _DEDUP_SETTING, criterion.value)
        if count:
            logger.info(
                "recomputed the dedup keys of %s contacts for %s",
                count,
                criterion.value,
            )

    # Queue and worker

    def submit(self, path: Path) -> None:
        """Queue a file for the worker; hidden, queued or in-progress files are skipped."""
        if is_hidden(path.name):
            logger.debug("not queuing hidden file %s", path)
            return
        with self._changed:
            if path in self._pending:
                logger.debug("%s is already queued", path)
                return
            self._pending.add(path)
        self._queue.put(path)

    def scan(self) -> list[Path]:
        """Submit every visible file of the in/ folders that has settled; return them.

        A file has settled when its size and modification time stayed the
        same for `settle_seconds` of the clock (0 when None) since this
        processor first saw them so.
        """
        settle = self.settle_seconds or 0.0
        now = self.clock.now()
        present: set[Path] = set()
        settled: list[Path] = []
        for path, size, mtime in self._visible_in_files():
            present.add(path)
            seen = self._seen.get(path)
            if seen is None or seen[:2] != (size, mtime):
                seen = (size, mtime, now)
                self._seen[path] = seen
            settled_now = now - seen[2] >= settle and not self._is_pending(path)
            if settled_now and not self._is_open_for_writing(path):
                settled.append(path)
        for path in set(self._seen) - present:
            del self._seen[path]
        for path in settled:
            del self._seen[path]
            self.submit(path)
        return settled

    def _visible_in_files(self) -> list[tuple[Path, int, int]]:
        files = []
        for folder in all_action_folders():
            in_dir = self.root / folder.stage(Stage.IN)
            try:
                entries = list(os.scandir(in_dir))
            except FileNotFoundError:
                continue
            for entry in entries:
                if is_hidden(entry.name) or not entry.is_file(follow_symlinks=False):
                    continue
                stat = entry.stat(follow_symlinks=False)
                files.append((Path(entry.path), stat.st_size, stat.st_mtime_ns))
        return files

    def _is_pending(self, path: Path) -> bool:
        with self._changed:
            return path in self._pending

    def start(self) -> None:
        """Start the worker thread.

        Raises RuntimeError when it is already running.
        """
        if self._thread is not None:
            raise RuntimeError("the processor is already running; call stop() first")
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="deposit-processor", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker after the file in progress; queued files stay in in/."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        self._queue.put(None)
        thread.join()
        with self._changed:
            while True:
                try:
                    queued = self._queue.get_nowait()
                except queue.Empty:
                    break
                if queued is not None:
                    self._pending.discard(queued)
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to `timeout` real seconds until no file is queued or processing.

        Returns False when files were still pending at the timeout.
        """
        with self._changed:
            return self._changed.wait_for(lambda: not self._pending, timeout=timeout)

    def _run(self) -> None:
        last_scan = 0.0
        while not self._stopping.is_set():
            if (
                self.settle_seconds is not None
                and time.monotonic() - last_scan >= SCAN_INTERVAL
            ):
                last_scan = time.monotonic()
                self._scan_logged()
            try:
                path = self._queue.get(timeout=SCAN_INTERVAL)
            except queue.Empty:
                continue
            if path is None:
                continue
            try:
                self._process_logged(path)
            finally:
                with self._changed:
                    self._pending.discard(path)
                    self._changed.notify_all()

    def _scan_logged(self) -> None:
        try:
            self.scan()
        except OSError:
            logger.exception("scanning the in/ folders of %s failed", self.root)

    def _process_logged(self, path: Path) -> None:
        try:
            self.process(path)
        except FileNotFoundError:
            logger.warning("%s disappeared before it could be processed", path)
        except (OSError, ValueError):
            logger.exception("processing %s failed", path)
