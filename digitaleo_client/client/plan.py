"""The import mode and waiting of each part when a file is split into parts.

The deposit names the list after the file, so every part goes under the
same remote name, one after another. Sync and create mean something for
the file as a whole: the first part is sent in that mode and the others
are added to its list in add mode, after which the chosen mode is restored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from digitaleo_client.deposit import ImportMode


@dataclass(frozen=True)
class PartPlan:
    """How to send each part (numbered from 1) of one push.

    `first_mode` None means no mode switch between parts; `restore_mode`
    is the mode to set again after the last part, or None.
    """

    parts: int
    wait: bool
    first_mode: ImportMode | None = None
    restore_mode: ImportMode | None = None
    notes: list[str] = field(default_factory=list)

    def mode_of(self, part: int) -> ImportMode | None:
        """Return the mode part `part` needs, or None to leave the mode alone."""
        if self.first_mode is None:
            return None
        return self.first_mode if part == 1 else ImportMode.ADD

    def waits_for(self, part: int) -> bool:
        """Tell whether to wait for part `part` to reach ok/ or ko/."""
        if part < self.parts or self.restore_mode is not None:
            return True
        return self.wait


def plan_parts(mode: ImportMode | None, parts: int, wait: bool) -> PartPlan:
    """Plan the modes and waits of `parts` parts pushed in `mode`.

    `mode` None is for actions other than import.
    """
    if parts == 1:
        return PartPlan(parts, wait)
    notes = [
        f"the file was split into {parts} parts, sent one after another under one name"
    ]
    if mode not in (ImportMode.SYNC, ImportMode.CREATE):
        if mode is ImportMode.ADD:
            notes.append(f"all {parts} parts are added to the list in add mode")
        return PartPlan(parts, wait, notes=notes)

    verb = "synchronises" if mode is ImportMode.SYNC else "creates"
    notes.append(
        f"part 1 {verb} the list in {mode.value} mode; parts 2 to {parts} are added "
        f"to it in add mode, then {mode.value} mode is restored"
    )
    if not wait:
        notes.append(
            "every part was waited for, because the mode is restored after the last"
        )
    return PartPlan(parts, wait, first_mode=mode, restore_mode=mode, notes=notes)
