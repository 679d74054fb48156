"""Typed records of a push: uploads, stage changes, outcomes, the whole result."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from digitaleo_client.deposit import (
    Action,
    ActionFolder,
    ImportMode,
    Media,
    Stage,
    list_name_of,
)


def timestamp_text(value: float | None) -> str | None:
    """Return a POSIX timestamp as ISO 8601 in UTC, or None."""
    if value is None:
        return None
    return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Upload:
    """One file published in an `in/` folder, with what waiting needs to find it.

    `earlier_names` are the processed names (`<ts>_<name>`) of files of the
    same name already in `on/`, `ok/` or `ko/` before this upload. Waiting
    ignores them, so an older file of the same name is never taken for
    this one. `uploaded_at` and `size` are None for a file this client did
    not upload (`DigitaleoClient.find_upload`).
    """

    action: Action
    media: Media | None
    remote_name: str
    uploaded_at: float | None
    size: int | None
    earlier_names: frozenset[str] = frozenset()
    part: int = 1
    parts: int = 1

    @property
    def folder(self) -> ActionFolder:
        return ActionFolder(self.action, self.media)

    @property
    def remote_path(self) -> str:
        return f"{self.folder.stage(Stage.IN)}/{self.remote_name}"


@dataclass(frozen=True)
class StageChange:
    """A stage change of an upload, as reported to a progress callback."""

    upload: Upload
    stage: Stage
    remote_path: str


@dataclass(frozen=True)
class Outcome:
    """Stage of an uploaded file (in/, on/, ok/ or ko/), with its timestamps.

    `picked_up_at` is the server's own timestamp from the processed name's
    prefix (the server clock may differ from ours); `uploaded_at` and
    `finished_at` are read on the client's clock. `finished_at` is None
    until the file reaches ok/ or ko/, and `uploaded_at` when this client
    did not upload the file.
    """

    action: Action
    media: Media | None
    remote_name: str
    stage: Stage
    remote_path: str
    uploaded_at: float | None
    picked_up_at: float | None = None
    finished_at: float | None = None
    part: int = 1
    parts: int = 1

    @property
    def list_name(self) -> str | None:
        """Name of the list an import feeds; None for the other actions."""
        if self.action is not Action.IMPORT:
            return None
        return list_name_of(self.remote_name)

    @property
    def ok(self) -> bool:
        return self.stage is Stage.OK

    @property
    def final(self) -> bool:
        return self.stage.is_final

    def as_dict(self) -> dict[str, Any]:
        """Return the outcome as JSON-ready values."""
        return {
            "action": self.action.value,
            "media": self.media.value if self.media else None,
            "list_name": self.list_name,
            "remote_name": self.remote_name,
            "remote_path": self.remote_path,
            "stage": self.stage.value,
            "uploaded_at": timestamp_text(self.uploaded_at),
            "picked_up_at": timestamp_text(self.picked_up_at),
            "finished_at": timestamp_text(self.finished_at),
            "part": self.part,
            "parts": self.parts,
        }


@dataclass(frozen=True)
class ModeChange:
    """The import mode before and after `set_mode`.

    `previous` is None when the account had several mode files at once.
    """

    previous: ImportMode | None
    mode: ImportMode

    @property
    def changed(self) -> bool:
        return self.previous is not self.mode

    def describe(self) -> str:
        """Return one line for people, such as "import mode changed from add to sync"."""
        if not self.changed:
            return f"import mode is {self.mode.value} ({self.mode.description})"
        before = self.previous.value if self.previous else "several modes at once"
        return (
            f"import mode changed from {before} to {self.mode.value} "
            f"({self.mode.description})"
        )


@dataclass
class PushResult:
    """Result of a push: the import mode used, the parts sent and their outcomes.

    `mode` and `mode_change` are None for actions other than import.
    `conversion` is the converter's report as a dict, None when the file
    was sent as it is. `notes` explains choices a user should know about,
    such as the modes used for each part. `push_id` is the push's id in
    the journal, None when the push was not recorded.
    """

    action: Action
    media: Media | None
    remote_name: str
    mode: ImportMode | None = None
    mode_change: ModeChange | None = None
    conversion: dict[str, Any] | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    parts: int = 1
    notes: list[str] = field(default_factory=list)
    push_id: int | None = None

    @property
    def list_name(self) -> str | None:
        return list_name_of(self.remote_name) if self.action is Action.IMPORT else None

    @property
    def stage(self) -> Stage | None:
        """Stage of the last part sent; None when nothing was sent."""
        return self.outcomes[-1].stage if self.outcomes else None

    @property
    def ok(self) -> bool:
        """Tell whether every part was sent and reached ok/.

        False also while a part awaits its outcome (after `wait=False`).
        `pending` distinguishes that case from a failure.
        """
        return len(self.outcomes) == self.parts and all(
            item.ok for item in self.outcomes
        )

    @property
    def rejected(self) -> bool:
        return any(item.stage is Stage.KO for item in self.outcomes)

    @property
    def uploaded(self) -> bool:
        """Tell whether every part reached the deposit."""
        return len(self.outcomes) == self.parts

    @property
    def pending(self) -> bool:
        """Tell whether every part was sent and one still awaits ok/ or ko/."""
        waiting = any(not item.final for item in self.outcomes)
        return self.uploaded and waiting and not self.rejected

    def _ok_so_far(self) -> bool | None:
        """Return `ok`, or None while an uploaded part awaits ok/ or ko/."""
        return None if self.pending else self.ok

    def as_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready values."""
        return {
            "ok": self._ok_so_far(),
            "uploaded": self.uploaded,
            "action": self.action.value,
            "media": self.media.value if self.media else None,
            "list_name": self.list_name,
            "remote_name": self.remote_name,
            "stage": self.stage.value if self.stage else None,
            "mode": self.mode.value if self.mode else None,
            "mode_changed": self.mode_change.changed if self.mode_change else False,
            "previous_mode": _previous_mode(self.mode_change),
            "parts": self.parts,
            "outcomes": [item.as_dict() for item in self.outcomes],
            "conversion": self.conversion,
            "notes": list(self.notes),
            "push_id": self.push_id,
        }


def _previous_mode(change: ModeChange | None) -> str | None:
    if change is None or change.previous is None:
        return None
    return change.previous.value
