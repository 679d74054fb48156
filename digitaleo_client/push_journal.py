"""The pushes part of the client's journal: what was pushed where, and how it ended.

`Journal` (in `digitaleo_client.journal`) mixes these methods in; the
`pushes` table is created by its migrations.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from digitaleo_client.deposit import list_name_of
from digitaleo_client.errors import DuplicatePush

logger = logging.getLogger(__name__)
# Outcomes of a push that end it; NULL in the journal while it is not final.
PUSH_OK = "ok"
PUSH_REJECTED = "ko"
PUSH_FAILED = "failed"
# Outcomes after which the same content may be pushed again without --force:
# a file in ko/ changed nothing, and a failed push published nothing.
_REPEATABLE_OUTCOMES = (PUSH_REJECTED, PUSH_FAILED)


@dataclass(frozen=True)
class PushRecord:
    """One push as the journal stores it.

    `deposit` is the deposit URL without password. `stage` is "uploading"
    until the first part is published, then the stage folder (in, on, ok,
    ko) of the last part seen. `outcome` is "ok", "ko" or "failed" once
    final, None while the push runs, crashed, or was left waiting.
    `uploads` contains one JSON-ready dict per part, as the client wrote it,
    from just before the part's rename. `pid` and `host` are the process id
    and host name of the pushing process, None for pushes recorded before
    the journal stored them. Times are POSIX seconds of the client's clock.
    """

    id: int
    deposit: str
    content_sha256: str
    source: str
    action: str
    media: str | None
    mode: str | None
    remote_name: str
    parts: int
    stage: str
    outcome: str | None
    error: str | None
    created_at: float
    updated_at: float
    finished_at: float | None
    uploads: list[dict[str, Any]] = field(default_factory=list)
    pid: int | None = None
    host: str | None = None

    @property
    def final(self) -> bool:
        return self.outcome is not None

    @property
    def list_name(self) -> str | None:
        """Name of the list an import feeds; None for the other actions."""
        return list_name_of(self.remote_name) if self.action == "import" else None

    def as_dict(self) -> dict[str, Any]:
        """Return the record as JSON-ready values."""
        return {
            "id": self.id,
            "deposit": self.deposit,
            "content_sha256": self.content_sha256,
            "source": self.source,
            "action": self.action,
            "media": self.media,
            "mode": self.mode,
            "list_name": self.list_name,
            "remote_name": self.remote_name,
            "parts": self.parts,
            "stage": self.stage,
            "outcome": self.outcome,
            "error": self.error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "finished_at": self.finished_at,
            "uploads": self.uploads,
            "pid": self.pid,
            "host": self.host,
        }


@dataclass(frozen=True)
class NewPush:
    """The fields of a push that the journal records before its upload starts.

    `pid` and `host` default to this process and this machine.
    """

    deposit: str
    content_sha256: str
    source: str
    action: str
    media: str | None
    remote_name: str
    parts: int
    mode: str | None = None
    pid: int = field(default_factory=os.getpid)
    host: str = field(default_factory=socket.gethostname)


class PushJournal:
    """Methods of `Journal` that record pushes; they need its connection and clock."""

    _db: sqlite3.Connection

    def now(self) -> float:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    # -- pushes --------------------------------------------------------------

    def begin_push(self, push: NewPush, *, force: bool = False) -> int:
        """Record `push` before its upload and return its id.

        Raises DuplicatePush, unless `force`, when the same content was
        already pushed to the same deposit, action and remote name and that
        push did not end in ko/ or fail before publishing anything. The
        check and the insert are one transaction, so of two processes
        pushing the same content at once, one is refused.
        """
        with self._write() as db:
            if not force:
                self._refuse_duplicate(db, push)
            now = self.now()
            cursor = db.execute(
                "INSERT INTO pushes (deposit, content_sha256, source, action, media, "
                "mode, remote_name, parts, uploads, stage, created_at, updated_at, "
                "pid, host) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '[]', 'uploading', ?, ?, ?, ?)",
                (
                    push.deposit,
                    push.content_sha256,
                    push.source,
                    push.action,
                    push.media,
                    push.mode,
                    push.remote_name,
                    push.parts,
                    now,
                    now,
                    push.pid,
                    push.host,
                ),
            )
        push_id = int(cursor.lastrowid or 0)
        logger.debug("journal: push %d of %s recorded", push_id, push.source)
        return push_id

    def _refuse_duplicate(self, db: sqlite3.Connection, push: NewPush) -> None:
        row = db.execute(
            "SELECT id, stage, outcome, created_at, parts, uploads FROM pushes "
            "WHERE deposit = ? AND content_sha256 = ? AND action = ? AND media IS ? "
            "AND remote_name = ? AND (outcome IS NULL OR outcome NOT IN (?, ?)) "
            "ORDER BY id DESC LIMIT 1",
            (
                push.deposit,
                push.content_sha256,
                push.action,
                push.media,
                push.remote_name,
                *_REPEATABLE_OUTCOMES,
            ),
        ).fetchone()
        if row is None:
            return
        earlier_id, stage, outcome, created_at, parts, uploads = row
        state = f"ended in {outcome}/" if outcome else f"last seen in stage {stage}"
        published = sum(
            1 for item in json.loads(str(uploads)) if item.get("confirmed", True)
        )
        advice = (
            "pushing it again could create a second list or apply it twice. "
            "Check it with `digitaleo status`, or push anyway with --force"
        )
        if outcome is None and 0 < published < int(parts):
            state = f"{published} of {parts} parts uploaded, {state}"
            advice = (
                "the list holds only the uploaded parts' contacts. Once that push's "
                "process has ended, push again with --force to send the whole file"
            )
        raise DuplicatePush(
            f"{push.source} has the same content as push {earlier_id} "
            f"({_time_text(float(created_at))}, {state}) to {push.remote_name} "
            f"in contacts/{push.action}{push.media or ''} on {push.deposit}; {advice}",
            push_id=int(earlier_id),
            path=push.source,
        )

    def update_push(
        self,
        push_id: int,
        *,
        mode: str | None = None,
        stage: str | None = None,
        outcome: str | None = None,
        error: str | None = None,
        clear_error: bool = False,
    ) -> None:
        """Change the fields given (not None) of push `push_id` and its update time.

        A final `outcome` also sets the finish time. `clear_error` sets the
        error to NULL, for a push that reached ok/ after an earlier error.
        """
        changes: dict[str, object] = {"updated_at": self.now()}
        for name, value in (
            ("mode", mode),
            ("stage", stage),
            ("outcome", outcome),
            ("error", error),
        ):
            if value is not None:
                changes[name] = value
        if clear_error:
            changes["error"] = None
        if outcome is not None:
            changes["finished_at"] = changes["updated_at"]
        assignments = ", ".join(f"{name} = ?" for name in changes)
        with self._write() as db:
            db.execute(
                f"UPDATE pushes SET {assignments} WHERE id = ?",
                (*changes.values(), push_id),
            )

    def record_upload(self, push_id: int, upload: dict[str, Any]) -> None:
        """Add or replace (by its "part" key) one part of push `push_id`."""
        self._change_uploads(push_id, upload.get("part"), upload)

    def forget_upload(self, push_id: int, part: int) -> None:
        """Remove part `part` from the uploads of push `push_id`, if recorded."""
        self._change_uploads(push_id, part, None)

    def _change_uploads(
        self, push_id: int, part: object, upload: dict[str, Any] | None
    ) -> None:
        """Drop the record of `part` of push `push_id`, then add `upload` unless None."""
        with self._write() as db:
            row = db.execute(
                "SELECT uploads FROM pushes WHERE id = ?", (push_id,)
            ).fetchone()
            if row is None:
                raise KeyError(push_id)
            uploads = [
                item for item in json.loads(str(row[0])) if item.get("part") != part
            ]
            if upload is not None:
                uploads.append(upload)
            uploads.sort(key=lambda item: int(item.get("part", 0)))
            db.execute(
                "UPDATE pushes SET uploads = ?, updated_at = ? WHERE id = ?",
                (json.dumps(uploads), self.now(), push_id),
            )

    def push(self, push_id: int) -> PushRecord | None:
        """Return push `push_id`, or None if the journal has no such push."""
        row = self._db.execute(
            f"SELECT {_PUSH_COLUMNS} FROM pushes WHERE id = ?", (push_id,)
        ).fetchone()
        return None if row is None else _push_from_row(row)

    def pushes(self, limit: int | None = None) -> list[PushRecord]:
        """Return the pushes, newest first; `limit` None returns all of them."""
        rows = self._db.execute(
            f"SELECT {_PUSH_COLUMNS} FROM pushes ORDER BY id DESC LIMIT ?",
            (-1 if limit is None else limit,),
        ).fetchall()
        return [_push_from_row(row) for row in rows]


_PUSH_COLUMNS = (
    "id, deposit, content_sha256, source, action, media, mode, remote_name, parts, "
    "stage, outcome, error, created_at, updated_at, finished_at, uploads, pid, host"
)


def _push_from_row(row: tuple[Any, ...]) -> PushRecord:
    (push_id, deposit, content_sha256, source, action, media, mode) = row[:7]
    (remote_name, parts, stage, outcome, error) = row[7:12]
    (created_at, updated_at, finished_at, uploads, pid, host) = row[12:]
    return PushRecord(
        id=int(push_id),
        deposit=str(deposit),
        content_sha256=str(content_sha256),
        source=str(source),
        action=str(action),
        media=media,
        mode=mode,
        remote_name=str(remote_name),
        parts=int(parts),
        stage=str(stage),
        outcome=outcome,
        error=error,
        created_at=float(created_at),
        updated_at=float(updated_at),
        finished_at=None if finished_at is None else float(finished_at),
        uploads=json.loads(str(uploads)),
        pid=None if pid is None else int(pid),
        host=host,
    )


def _time_text(value: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value))
