"""A fake deposit on a temporary folder, driven by hand, for the rule tests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from digitaleo_client.contacts.account import account_settings_from_dict
from digitaleo_client.deposit import ImportMode
from fake_server.clock import ManualClock
from fake_server.config import ServerConfig, User
from fake_server.processor import Processor
from fake_server.store import Store

DATA = Path(__file__).resolve().parent.parent / "data" / "server"

# 2015-11-17 22:04:07 UTC (23:04:07 in Paris), the timestamp of the published example.
START = 1447797847.0


class Deposit:
    """A processor, its store and a manual clock on one temporary root."""

    def __init__(self, root: Path, account: dict[str, Any] | None = None) -> None:
        self.root = root
        settings = account_settings_from_dict(account or {})
        self.config = ServerConfig(settings, (User("crm", "secret", None),))
        self.store = Store.for_root(root)
        self.clock = ManualClock(START)
        self.processor = Processor(root, self.config, self.store, self.clock)
        self.processor.ensure_layout()

    def set_mode(self, *modes: ImportMode) -> None:
        """Leave exactly the dot-files of `modes` in contacts/import/."""
        for mode in ImportMode:
            (self.root / mode.dotfile_path).unlink(missing_ok=True)
        for mode in modes:
            (self.root / mode.dotfile_path).touch()

    def deposit(self, folder: str, name: str, content: bytes) -> dict[str, Any]:
        """Write `content` as `contacts/<folder>/in/<name>` and process it."""
        path = self.root / "contacts" / folder / "in" / name
        path.write_bytes(content)
        record = self.processor.process(path)
        self.clock.advance(1)
        return record

    def deposit_text(self, folder: str, name: str, text: str) -> dict[str, Any]:
        """Deposit `text` encoded in ISO-8859-1, as the deposit reads it."""
        return self.deposit(folder, name, text.encode("iso-8859-1"))

    def deposit_data(
        self, folder: str, data_name: str, name: str | None = None
    ) -> dict[str, Any]:
        """Deposit a file of tests/data/server under its own name or `name`."""
        path = self.root / "contacts" / folder / "in" / (name or data_name)
        shutil.copyfile(DATA / data_name, path)
        record = self.processor.process(path)
        self.clock.advance(1)
        return record

    def contacts_by(self, column: str) -> dict[str, dict[str, Any]]:
        """Return the contacts keyed by their value in `column`."""
        return {contact["fields"][column]: contact for contact in self.store.contacts()}

    def list_sizes(self) -> list[tuple[str, str, int]]:
        """Return `(account, name, size)` of every list, oldest first."""
        return [
            (item["account"], item["name"], item["size"]) for item in self.store.lists()
        ]

    def members(self, list_index: int, column: str) -> list[str]:
        """Return the `column` values of the members of the `list_index`-th list."""
        list_id = self.store.lists()[list_index]["id"]
        return sorted(
            contact["fields"].get(column, "")
            for contact in self.store.list_members(list_id)
        )


def counts(**nonzero: int) -> dict[str, int]:
    """Return a full counts object with the given counts and zero elsewhere."""
    # Written out here, not imported, so that a renamed count fails the tests.
    names = ["created", "updated", "unchanged", "invalid", "invalid_values"]
    names += ["opted_out", "opted_in", "deleted", "suppressed"]
    unknown = set(nonzero) - set(names)
    assert not unknown, f"unknown counts {unknown}"
    return {name: nonzero.get(name, 0) for name in names}
