"""The settle scan: which files of the in/ folders have stopped changing.

Files copied into an in/ folder behind the front ends' back give no signal
that they are complete, so the processor takes them only once their size
and modification time stayed the same for a settle time.
"""

from __future__ import annotations

import os
from pathlib import Path

from digitaleo_client.deposit import Stage, all_action_folders, is_hidden


def visible_in_files(root: Path) -> list[tuple[Path, int, int]]:
    """Return `(path, size, mtime in ns)` of every visible file of every in/ folder."""
    files = []
    for folder in all_action_folders():
        in_dir = root / folder.stage(Stage.IN)
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


class SettleTracker:
    """Remembers since when each file has had its current size and mtime."""

    def __init__(self) -> None:
        self._seen: dict[Path, tuple[int, int, float]] = {}

    def settled(
        self, files: list[tuple[Path, int, int]], now: float, settle: float
    ) -> list[Path]:
        """Return the files unchanged for `settle` seconds up to `now`.

        A file seen for the first time, or with a new size or mtime, starts
        its settle time at `now`. Files absent from `files` are forgotten.
        """
        present = set()
        settled = []
        for path, size, mtime in files:
            present.add(path)
            seen = self._seen.get(path)
            if seen is None or seen[:2] != (size, mtime):
                seen = (size, mtime, now)
                self._seen[path] = seen
            if now - seen[2] >= settle:
                settled.append(path)
        for path in set(self._seen) - present:
            del self._seen[path]
        return settled

    def forget(self, path: Path) -> None:
        """Drop a file taken for processing, so a new file of its name starts over."""
        self._seen.pop(path, None)
