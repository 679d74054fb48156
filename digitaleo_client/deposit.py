"""Layout of the Digitaleo deposit: actions, media, stages, import modes, paths.

Pure module: it builds and parses remote paths and names, and does no I/O.
Remote paths are POSIX paths relative to the deposit root.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from digitaleo_client.errors import InvalidRemoteName

CONTACTS_DIR = "contacts"
REPORTING_DIR = "reporting"
IMPORT_DIR = f"{CONTACTS_DIR}/import"

# Each deposited part, CSV or zip, stays at or under this many bytes.
MAX_PART_BYTES = 20_000_000

# Suffix of the hidden name a file is written under before its rename.
TEMPORARY_SUFFIX = ".part"


class Action(StrEnum):
    """What a deposited file does to the contacts it lists."""

    IMPORT = "import"
    OPTOUT = "optout"
    OPTIN = "optin"
    DELETE = "delete"

    @property
    def needs_media(self) -> bool:
        return self in (Action.OPTOUT, Action.OPTIN)


class Media(StrEnum):
    """Channel that an opt-out or opt-in applies to."""

    EMAIL = "EMAIL"
    SMS = "SMS"
    VOICE = "VOICE"
    VOICEMAIL = "VOICEMAIL"

    @property
    def contact_column(self) -> str:
        """Name of the column holding the means of contact this media uses."""
        return MEDIA_CONTACT_COLUMN[self]


MEDIA_CONTACT_COLUMN: dict[Media, str] = {
    Media.EMAIL: "Email",
    Media.SMS: "Mobile",
    Media.VOICE: "Téléphone Fixe",
    Media.VOICEMAIL: "Mobile",
}


class Stage(StrEnum):
    """Stage folder of an action folder; only `in` is writable."""

    IN = "in"
    ON = "on"
    OK = "ok"
    KO = "ko"

    @property
    def is_final(self) -> bool:
        return self in (Stage.OK, Stage.KO)


class ImportMode(StrEnum):
    """Import mode of the account, chosen by a dot-file in `contacts/import/`."""

    CREATE = "create"
    ADD = "add"
    SYNC = "sync"

    @property
    def dotfile(self) -> str:
        return IMPORT_MODE_DOTFILES[self]

    @property
    def dotfile_path(self) -> str:
        return f"{IMPORT_DIR}/{self.dotfile}"

    @property
    def description(self) -> str:
        return IMPORT_MODE_DESCRIPTIONS[self]


IMPORT_MODE_DOTFILES: dict[ImportMode, str] = {
    ImportMode.CREATE: ".createNewList",
    ImportMode.ADD: ".addToExistingList",
    ImportMode.SYNC: ".syncExistingList",
}

IMPORT_MODE_DESCRIPTIONS: dict[ImportMode, str] = {
    ImportMode.CREATE: "every file creates a new list named after the file",
    ImportMode.ADD: "contacts join the list named after the file",
    ImportMode.SYNC: "the list named after the file holds exactly its contacts",
}

# Without any dot-file the account is in systematic list creation.
DEFAULT_IMPORT_MODE = ImportMode.CREATE


def import_mode_from_dotfiles(names: set[str] | list[str]) -> list[ImportMode]:
    """Return the import modes whose dot-files appear among `names`."""
    present = set(names)
    return [mode for mode in ImportMode if mode.dotfile in present]


def action_folder(action: Action, media: Media | None = None) -> str:
    """Return the folder of an action, such as `contacts/optoutSMS`.

    Raises ValueError when `media` is missing for opt-out and opt-in, or given
    for import and delete.
    """
    if action.needs_media and media is None:
        raise ValueError(f"the {action} action needs a media (EMAIL, SMS, ...)")
    if not action.needs_media and media is not None:
        raise ValueError(f"the {action} action takes no media, got {media}")
    suffix = media.value if media is not None else ""
    return f"{CONTACTS_DIR}/{action.value}{suffix}"


def stage_folder(action: Action, stage: Stage, media: Media | None = None) -> str:
    """Return a stage folder, such as `contacts/import/in`."""
    return f"{action_folder(action, media)}/{stage.value}"


@dataclass(frozen=True)
class ActionFolder:
    """An action folder of `contacts/`, with its media for opt-out and opt-in."""

    action: Action
    media: Media | None = None

    @property
    def path(self) -> str:
        return action_folder(self.action, self.media)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[1]

    def stage(self, stage: Stage) -> str:
        return f"{self.path}/{stage.value}"


def all_action_folders() -> list[ActionFolder]:
    """Return the ten action folders of `contacts/`, in the published order."""
    folders = [ActionFolder(Action.IMPORT)]
    folders += [ActionFolder(Action.OPTOUT, media) for media in Media]
    folders += [ActionFolder(Action.OPTIN, media) for media in Media]
    folders.append(ActionFolder(Action.DELETE))
    return folders


def parse_action_folder(name: str) -> ActionFolder | None:
    """Return the action folder named `name` (`optoutSMS`), or None if unknown."""
    for folder in all_action_folders():
        if folder.name == name:
            return folder
    return None


def all_remote_folders() -> list[str]:
    """Return every folder of the deposit layout, parents before children."""
    folders = [CONTACTS_DIR, REPORTING_DIR]
    for folder in all_action_folders():
        folders.append(folder.path)
        folders += [folder.stage(stage) for stage in Stage]
    return folders


# The processed name is `<POSIX seconds>_<deposited name>`.
_PROCESSED_NAME = re.compile(r"^(\d+)_(.+)$")


def processed_name(timestamp: int, name: str) -> str:
    """Return the name a file takes in `on/`, `ok/` and `ko/`."""
    return f"{timestamp}_{name}"


def parse_processed_name(name: str) -> tuple[int, str] | None:
    """Split `1447797847_mylist.csv` into (1447797847, "mylist.csv").

    Returns None when `name` carries no timestamp prefix.
    """
    match = _PROCESSED_NAME.match(name)
    if match is None:
        return None
    return int(match.group(1)), match.group(2)


def temporary_name(name: str) -> str:
    """Return the hidden name a file is uploaded under before its rename."""
    return f".{name}{TEMPORARY_SUFFIX}"


def is_hidden(name: str) -> bool:
    """Tell whether the processor must ignore a file (a dot-file)."""
    return name.startswith(".")


def list_name_of(file_name: str) -> str:
    """Return the list a deposited file feeds: its name without extension.

    A timestamp prefix, if any, is removed too: `1447797847_Clients.csv`
    gives `Clients`.
    """
    parsed = parse_processed_name(file_name)
    if parsed is not None:
        file_name = parsed[1]
    lowered = file_name.lower()
    for extension in (".csv", ".zip"):
        if lowered.endswith(extension):
            return file_name[: -len(extension)]
    return file_name


# Characters a deposited file name may not contain: path separators, control
# characters and the characters that Windows, FTP servers or shells mangle.
_FORBIDDEN_NAME_CHARACTERS = set('/\\:*?"<>|') | {chr(code) for code in range(32)}
_MAX_NAME_BYTES = 200


def check_remote_name(name: str) -> str:
    """Return `name` if the deposit can hold it as a file name.

    Raises InvalidRemoteName, naming the offending character and the fix,
    for empty or hidden names, path separators, control characters, names
    that start with digits and `_` (they would read as a processed name) and
    names longer than 200 UTF-8 bytes.
    """
    fix = "choose another name with --list"
    if not name or not name.strip():
        raise InvalidRemoteName(name, "the name is empty", fix)
    if name != name.strip():
        raise InvalidRemoteName(name, "the name starts or ends with a space", fix)
    if is_hidden(name):
        raise InvalidRemoteName(
            name, "names starting with '.' are hidden and never processed", fix
        )
    bad = sorted({char for char in name if char in _FORBIDDEN_NAME_CHARACTERS})
    if bad:
        shown = ", ".join(repr(char) for char in bad)
        raise InvalidRemoteName(name, f"the name contains {shown}", fix)
    if parse_processed_name(name) is not None:
        raise InvalidRemoteName(
            name,
            "digits followed by '_' read as the processing timestamp prefix",
            fix,
        )
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        raise InvalidRemoteName(
            name, f"the name is longer than {_MAX_NAME_BYTES} bytes", fix
        )
    if list_name_of(name) == "":
        raise InvalidRemoteName(name, "the list name before the extension is empty", fix)
    return name


def remote_file_name(list_name: str, extension: str = ".csv") -> str:
    """Return the file name that feeds `list_name`, checked for the deposit.

    A `list_name` that already ends in `.csv` or `.zip` keeps its extension.
    """
    if list_name.lower().endswith((".csv", ".zip")):
        return check_remote_name(list_name)
    return check_remote_name(f"{list_name}{extension}")


def report_day_folder(day: str) -> str:
    """Return the reporting folder of a day given as `YYYY-MM-DD`."""
    return f"{REPORTING_DIR}/{day}"
