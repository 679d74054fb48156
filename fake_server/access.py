"""Access rules of the fake deposit, shared by its network front ends.

A client sees the deposit root as `/`, and only `contacts/` and `reporting/`
inside it. The server's own state under `.fake-server/`, and anything else at
the root, is invisible. Clients may write in two places only:

- files directly in `contacts/<action>/in/`: create, write, rename within the
  same `in/` folder, remove;
- the three import-mode dot-files directly in `contacts/import/`: create,
  write, remove.

Every other write, and every folder creation or removal, is denied. Apart
from `real_path`, which inspects the tree for symbolic links, the functions
here work on path strings only.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from digitaleo_client.deposit import (
    CONTACTS_DIR,
    IMPORT_MODE_DOTFILES,
    REPORTING_DIR,
    Stage,
    is_hidden,
    parse_action_folder,
)

# Top-level folders a client can see; everything else at the root is hidden.
VISIBLE_TOP_FOLDERS = frozenset({CONTACTS_DIR, REPORTING_DIR})

_IMPORT_FOLDER_NAME = "import"
_MODE_DOTFILES = frozenset(IMPORT_MODE_DOTFILES.values())


class AccessError(Exception):
    """A client request that the deposit's access rules reject."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class PathNotFound(AccessError):
    """The path does not exist for the client, or is hidden from it."""


class PermissionDenied(AccessError):
    """The client may read the path, if it exists, but not change it."""


class WriteTarget(Enum):
    """Kind of path a client may write."""

    IN_FILE = "a file in an in/ folder"
    MODE_DOTFILE = "an import-mode dot-file"


@dataclass(frozen=True)
class ClientPath:
    """A client path, normalised to its parts below the deposit root."""

    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        """The path as the client sees it, starting with `/`."""
        return "/" + "/".join(self.parts)

    @property
    def name(self) -> str:
        return self.parts[-1] if self.parts else ""

    @property
    def parent(self) -> ClientPath:
        return ClientPath(self.parts[:-1])

    def child(self, name: str) -> ClientPath:
        return ClientPath((*self.parts, name))


ROOT = ClientPath(())


def parse_client_path(path: str) -> ClientPath:
    """Normalise a path sent by a client, relative or absolute, below the root.

    A relative path starts at the root. `.` parts are dropped and `..` parts
    remove the previous part but stop at the root, as in a chroot, so no path
    leaves the deposit. Raises PermissionDenied for a path containing NUL.
    """
    if "\x00" in path:
        raise PermissionDenied(repr(path), "the path contains a NUL character")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return ClientPath(tuple(parts))


def is_visible(path: ClientPath) -> bool:
    """Tell whether a client may see `path`: the root, or below a visible folder."""
    return not path.parts or path.parts[0] in VISIBLE_TOP_FOLDERS


def check_visible(path: ClientPath) -> None:
    """Raise PathNotFound unless the client may see `path`."""
    if not is_visible(path):
        raise PathNotFound(path.text, "no such file or folder")


def write_target(path: ClientPath) -> WriteTarget | None:
    """Return what kind of writable path `path` is, or None if it is read-only."""
    parts = path.parts
    if len(parts) == 4 and _is_in_folder(parts[:3]):
        return WriteTarget.IN_FILE
    in_import_folder = len(parts) == 3 and parts[:2] == (
        CONTACTS_DIR,
        _IMPORT_FOLDER_NAME,
    )
    if in_import_folder and parts[2] in _MODE_DOTFILES:
        return WriteTarget.MODE_DOTFILE
    return None


def _is_in_folder(parts: tuple[str, ...]) -> bool:
    return (
        parts[0] == CONTACTS_DIR
        and parse_action_folder(parts[1]) is not None
        and parts[2] == Stage.IN.value
    )


def check_write(path: ClientPath) -> WriteTarget:
    """Return the kind of `path` if a client may create, write or remove it.

    Raises PermissionDenied, naming what is writable, for any other path.
    """
    target = write_target(path)
    if target is None:
        raise PermissionDenied(
            path.text,
            "read-only; only files in contacts/<action>/in/ and the import-mode "
            "dot-files in contacts/import/ are writable",
        )
    return target


def check_rename(source: ClientPath, target: ClientPath) -> None:
    """Raise PermissionDenied unless both paths are files of the same in/ folder.

    The import-mode dot-files can be created and removed but not renamed.
    """
    for path in (source, target):
        if check_write(path) is not WriteTarget.IN_FILE:
            raise PermissionDenied(
                path.text,
                "import-mode dot-files cannot be renamed; create or remove them",
            )
    if source.parent != target.parent:
        raise PermissionDenied(
            target.text,
            f"a file can only be renamed within its own folder, {source.parent.text}",
        )


def check_folder_change(path: ClientPath) -> None:
    """Raise PermissionDenied: clients never create or remove folders."""
    raise PermissionDenied(
        path.text, "the deposit's folders are fixed; clients cannot add or remove them"
    )


def is_submitted_upload(path: ClientPath) -> bool:
    """Tell whether a file written at `path` is a deposit for the processor.

    That is a file with a visible name directly in an in/ folder; hidden names
    are temporary upload names that the deposit never processes.
    """
    return write_target(path) is WriteTarget.IN_FILE and not is_hidden(path.name)


def real_path(root: Path, path: ClientPath, *, writing: bool = False) -> Path:
    """Return the file system path of `path` under `root`, following no link.

    `root` must be an absolute path without symbolic links (`Path.resolve()`
    gives one). A symbolic link in any part of `path` is never followed: the
    client sees no such file, or, when `writing`, a permission error. A part
    that does not exist ends the check, because nothing below it can be a link.

    NOTE: a local process that swaps a checked folder for a link before the
    caller opens the path can still redirect it. The SFTP front end opens
    files with O_NOFOLLOW, which covers the last part only. Clients of the
    deposit cannot create links, so only a local user of the folder can.
    """
    check_visible(path)
    current = root
    for part in path.parts:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except (FileNotFoundError, NotADirectoryError):
            break
        if stat.S_ISLNK(mode):
            reason = "symbolic links are not followed"
            if writing:
                raise PermissionDenied(path.text, reason)
            raise PathNotFound(path.text, reason)
    return root.joinpath(*path.parts)
