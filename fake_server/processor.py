"""The fake deposit's processor: moves each file in -> on -> ok/ko and applies it.

A file deposited in `contacts/<action>/in/` moves to `on/` under the name
`<POSIX seconds>_<name>`, is applied to the store in one transaction, and
moves to `ok/`. A file that cannot be processed as a whole moves to `ko/`
instead, and its transaction is rolled back, so it changes nothing. Hidden
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from digitaleo_client.deposit import (
    Action,
    ActionFolder,
    Stage,
    all_action_folders,
    all_remote_folders,
    is_hidden,
    list_name_of,
    parse_action_folder,
    parse_processed_name,
    processed_name,
)
from fake_server.clock import Clock
from fake_server.config import ServerConfig
from fake_server.rules.applying import FileJob, apply_file, refresh_dedup_keys
from fake_server.settle import SettleTracker, visible_in_files
from fake_server.store import Store

logger = logging.getLogger(__name__)

# Real seconds between two scans of the in/ folders in settle mode.
SCAN_INTERVAL = 0.2


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
        self._settle = SettleTracker()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        refresh_dedup_keys(self.store, self.config.account.dedup, self.clock)

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
        return self._finish(deposit, file_id, list_name)

    def _finish(
        self, deposit: _Deposit, file_id: int, list_name: str | None
    ) -> dict[str, Any]:
        """Apply a file of on/, move it to ok/ or ko/ and return its record."""
        stage, reason = self._apply_and_record(deposit, file_id, list_name)
        final_path = self.root / deposit.folder.stage(stage) / deposit.name
        os.replace(deposit.on_path, final_path)
        record = self.store.file(file_id)
        if reason is None:
            logger.info("processed %s into ok/: %s", deposit.name, record["counts"])
        else:
            logger.info("rejected %s into ko/: %s", deposit.name, reason)
        return record

    def recover(self) -> list[dict[str, Any]]:
        """Finish the files that a stopped process left in on/; return their records.

        A file whose record has stage ok or ko was applied and only needs its
        move. Any other file was never committed, so it is applied again,
        under its name and record. `start` calls this before the worker runs.
        """
        records = {
            (record["action"], record["media"], record["name"]): record
            for record in self.store.files()
        }
        finished = []
        for folder in all_action_folders():
            on_dir = self.root / folder.stage(Stage.ON)
            names = sorted(os.listdir(on_dir)) if on_dir.is_dir() else []
            for name in names:
                parsed = parse_processed_name(name)
                if is_hidden(name) or parsed is None:
                    continue
                media = folder.media.value if folder.media is not None else None
                record = records.get((folder.action.value, media, name))
                deposit = _Deposit(folder, on_dir / name, name, float(parsed[0]))
                logger.warning("finishing %s/%s, left in on/", folder.path, name)
                finished.append(self._recover_one(deposit, record))
        return finished

    def _recover_one(
        self, deposit: _Deposit, record: dict[str, Any] | None
    ) -> dict[str, Any]:
        if record is not None and record["stage"] != Stage.ON.value:
            stage_folder = self.root / deposit.folder.stage(Stage(record["stage"]))
            os.replace(deposit.on_path, stage_folder / deposit.name)
            return record
        is_import = deposit.folder.action is Action.IMPORT
        list_name = list_name_of(deposit.name) if is_import else None
        if record is None:
            media = deposit.folder.media
            file_id = self.store.add_file(
                deposit.folder.action.value,
                media.value if media is not None else None,
                deposit.name,
                list_name,
                deposit.deposited_at,
            )
        else:
            file_id = record["id"]
        return self._finish(deposit, file_id, list_name)

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
        return apply_file(
            FileJob(deposit.folder, deposit.on_path, deposit.name, file_id, list_name),
            self.root,
            self.config.account,
            self.store,
            self.clock,
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
        processor first saw them so. Files that are queued, or that a front
        end still has open for writing, wait for a later scan.
        """
        settle = self.settle_seconds or 0.0
        files = visible_in_files(self.root)
        submitted = []
        for path in self._settle.settled(files, self.clock.now(), settle):
            if self._is_pending(path) or self._is_open_for_writing(path):
                continue
            self._settle.forget(path)
            self.submit(path)
            submitted.append(path)
        return submitted

    def _is_pending(self, path: Path) -> bool:
        with self._changed:
            return path in self._pending

    def start(self) -> None:
        """Finish the files left in on/, then start the worker thread.

        Raises RuntimeError when it is already running.
        """
        if self._thread is not None:
            raise RuntimeError("the processor is already running; call stop() first")
        self.recover()
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
        except Exception:
            # A defect in a rule must not end the worker, or no later file
            # would be processed. The file stays in on/ until a restart.
            logger.exception("processing %s failed unexpectedly; it stays in on/", path)
