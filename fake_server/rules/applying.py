"""Applying one file of an on/ folder to the store, in one transaction.

The whole file is applied or nothing is: a file that turns out unreadable
midway (`Rejected`) rolls back, and its record gets stage ko and the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from digitaleo_client.contacts.account import AccountSettings, Dedup
from digitaleo_client.deposit import (
    IMPORT_DIR,
    Action,
    ActionFolder,
    ImportMode,
    Stage,
    import_mode_from_dotfiles,
)
from fake_server.clock import Clock
from fake_server.config import DEFAULT_ACCOUNT
from fake_server.rules.contacts import ContactBook
from fake_server.rules.context import FileContext
from fake_server.rules.delete import delete_contacts
from fake_server.rules.importing import import_contacts
from fake_server.rules.optout import opt_in, opt_out
from fake_server.rules.reader import DepositTable, Rejected, open_table
from fake_server.store import Store, empty_counts

logger = logging.getLogger(__name__)

_DEDUP_SETTING = "dedup_criterion"


@dataclass(frozen=True)
class FileJob:
    """A file in on/ with its action folder, processed name, record id and list."""

    folder: ActionFolder
    path: Path
    name: str
    file_id: int
    list_name: str | None


def apply_file(
    job: FileJob, root: Path, settings: AccountSettings, store: Store, clock: Clock
) -> tuple[Stage, str | None]:
    """Apply `job` in one transaction and record its outcome.

    Returns the stage the file goes to and, for ko, the reason. Unexpected
    errors are logged and recorded as ko too, so that no file stays in on/.
    """
    try:
        with store.transaction() as connection, ExitStack() as stack:
            book = ContactBook(connection, clock.now())
            context = FileContext(settings, book, DEFAULT_ACCOUNT)
            table = open_table(job.path, settings, stack)
            _handler(job.folder, job.list_name, root)(table, context)
            book.flush()
            store.finish_file(
                connection,
                job.file_id,
                name=job.name,
                stage=Stage.OK.value,
                counts=context.counts,
                reason=None,
                processed_at=clock.now(),
            )
        return Stage.OK, None
    except Rejected as rejected:
        reason = rejected.reason
    except Exception as error:  # a file must never stay in on/
        logger.exception("processing %s failed", job.name)
        reason = (
            f"the fake deposit failed while processing the file "
            f"({type(error).__name__}: {error}); this is a bug of the fake server"
        )
    with store.transaction() as connection:
        store.finish_file(
            connection,
            job.file_id,
            name=job.name,
            stage=Stage.KO.value,
            counts=empty_counts(),
            reason=reason,
            processed_at=clock.now(),
        )
    return Stage.KO, reason


def _handler(
    folder: ActionFolder, list_name: str | None, root: Path
) -> Callable[[DepositTable, FileContext], None]:
    if folder.action is Action.IMPORT:
        assert list_name is not None
        mode = read_import_mode(root)
        return lambda table, context: import_contacts(table, context, list_name, mode)
    if folder.action is Action.DELETE:
        return delete_contacts
    media = folder.media
    assert media is not None
    apply = opt_out if folder.action is Action.OPTOUT else opt_in
    return lambda table, context: apply(table, context, media)


def read_import_mode(root: Path) -> ImportMode:
    """Return the account's import mode from the dot-files of `contacts/import/`.

    Raises Rejected when several mode dot-files are present, because the
    mode is then ambiguous.
    """
    import_dir = root / IMPORT_DIR
    names = [entry.name for entry in import_dir.iterdir() if entry.is_file()]
    modes = import_mode_from_dotfiles(names)
    if len(modes) > 1:
        shown = ", ".join(mode.dotfile for mode in modes)
        raise Rejected(
            f"contacts/import contains several import mode files ({shown}), so the mode "
            "is ambiguous; remove all but one"
        )
    return modes[0] if modes else ImportMode.CREATE


def refresh_dedup_keys(store: Store, criterion: Dedup, clock: Clock) -> None:
    """Recompute stored dedup keys when the account's criterion changed."""
    if store.setting(_DEDUP_SETTING) == criterion.value:
        return
    with store.transaction() as connection:
        count = ContactBook(connection, clock.now()).recompute_keys(criterion)
        store.set_setting(connection, _DEDUP_SETTING, criterion.value)
    if count:
        logger.info(
            "recomputed the dedup keys of %s contacts for %s",
            count,
            criterion.value,
        )
