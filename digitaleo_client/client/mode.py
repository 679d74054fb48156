"""Reading and setting the account's import mode through its dot-files.

The mode is the presence of one of `.createNewList`, `.addToExistingList`
or `.syncExistingList` directly in `contacts/import/`; without any, the
account is in create mode. Several at once make the mode ambiguous.
"""

from __future__ import annotations

import io
import logging

from digitaleo_client.client.outcome import ModeChange
from digitaleo_client.deposit import (
    DEFAULT_IMPORT_MODE,
    IMPORT_DIR,
    ImportMode,
    import_mode_from_dotfiles,
)
from digitaleo_client.errors import ConfigurationError
from digitaleo_client.transport.base import Transport

logger = logging.getLogger(__name__)


def modes_present(transport: Transport) -> list[ImportMode]:
    """Return the modes whose dot-files are in `contacts/import/`."""
    return import_mode_from_dotfiles(transport.list_names(IMPORT_DIR))


def read_mode(transport: Transport) -> ImportMode:
    """Return the account's import mode.

    Raises ConfigurationError when several mode files are present, naming
    them and the command that leaves one.
    """
    present = modes_present(transport)
    if not present:
        return DEFAULT_IMPORT_MODE
    if len(present) > 1:
        files = ", ".join(mode.dotfile for mode in present)
        raise ConfigurationError(
            f"{IMPORT_DIR}/ has several import mode files ({files}), so the deposit "
            "cannot tell which mode applies; keep one with `digitaleo mode set "
            "create|add|sync`",
            files=files,
        )
    return present[0]


def write_mode(transport: Transport, mode: ImportMode) -> ModeChange:
    """Leave exactly the dot-file of `mode` in `contacts/import/`.

    The new file is written before the others are removed. In between, the
    deposit finds two modes and, as this project settles that case,
    sends import files to ko/ rather than using the wrong mode.
    """
    # NOTE: what the real deposit does with a file processed in that window
    # is not published.
    present = modes_present(transport)
    previous: ImportMode | None
    if len(present) > 1:
        previous = None
    else:
        previous = present[0] if present else DEFAULT_IMPORT_MODE

    if mode not in present:
        transport.put(io.BytesIO(b""), mode.dotfile_path)
    for other in present:
        if other is not mode:
            transport.remove(other.dotfile_path)

    change = ModeChange(previous, mode)
    if change.changed:
        logger.info("%s", change.describe())
    return change
