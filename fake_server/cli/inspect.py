"""`digitaleo-fake-server inspect`: show what the fake deposit did."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from digitaleo_client.contacts import columns
from fake_server.cli import app
from fake_server.clock import PARIS
from fake_server.store import STATE_DIR, STORE_FILE, Store


class View(StrEnum):
    """Part of the store that `inspect` shows."""

    LISTS = "lists"
    CONTACTS = "contacts"
    FILES = "files"
    SUPPRESSIONS = "suppressions"


@app.command()
def inspect(
    view: Annotated[View, typer.Argument(help="What to show.")],
    root: Annotated[
        Path,
        typer.Option(
            "--root",
            help="Root folder of the fake deposit, as given to `serve --root`.",
            file_okay=False,
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array instead of a table.")
    ] = False,
) -> None:
    """Show the lists, contacts, processed files or suppressed means of a fake deposit."""
    store_path = root / STATE_DIR / STORE_FILE
    if not store_path.is_file():
        typer.echo(
            f"error: {root} holds no fake deposit state ({store_path} not found); "
            f"start `digitaleo-fake-server serve --root {root}` first",
            err=True,
        )
        raise typer.Exit(code=2)

    store = Store(store_path)
    try:
        records = _READERS[view](store)
    finally:
        store.close()
    if as_json:
        json.dump(records, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    Console().print(_TABLES[view](records))


_READERS: dict[View, Callable[[Store], list[dict[str, Any]]]] = {
    View.LISTS: Store.lists,
    View.CONTACTS: Store.contacts,
    View.FILES: Store.files,
    View.SUPPRESSIONS: Store.suppressions,
}


def _time(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, PARIS).strftime("%Y-%m-%d %H:%M:%S")


def _lists_table(records: list[dict[str, Any]]) -> Table:
    table = Table("id", "name", "account", "created (Paris)", "size", title="Lists")
    for record in records:
        table.add_row(
            str(record["id"]),
            record["name"],
            record["account"],
            _time(record["created_at"]),
            str(record["size"]),
        )
    return table


_CONTACT_MAIN_COLUMNS = (
    columns.EMAIL,
    columns.MOBILE,
    columns.TELEPHONE_FIXE,
    columns.REFERENCE,
)


def _contacts_table(records: list[dict[str, Any]]) -> Table:
    table = Table(
        "id", "account", *_CONTACT_MAIN_COLUMNS, "other fields", "opted out of"
    )
    table.title = "Contacts"
    for record in records:
        fields = record["fields"]
        others = "; ".join(
            f"{name}={value}"
            for name, value in fields.items()
            if name not in _CONTACT_MAIN_COLUMNS
        )
        table.add_row(
            str(record["id"]),
            record["account"],
            *(fields.get(name, "") for name in _CONTACT_MAIN_COLUMNS),
            others,
            ", ".join(record["optout"]),
        )
    return table


def _files_table(records: list[dict[str, Any]]) -> Table:
    table = Table(
        "id",
        "action",
        "name",
        "stage",
        "list",
        "processed (Paris)",
        "counts",
        "reason",
        title="Files",
    )
    for record in records:
        action = record["action"] + (record["media"] or "")
        counts = ", ".join(
            f"{name} {count}" for name, count in record["counts"].items() if count
        )
        table.add_row(
            str(record["id"]),
            action,
            record["name"],
            record["stage"],
            record["list"] or "",
            _time(record["processed_at"]),
            counts,
            record["reason"] or "",
        )
    return table


def _suppressions_table(records: list[dict[str, Any]]) -> Table:
    table = Table(
        "account", "media", "column", "value", title="Suppressed means of contact"
    )
    for record in records:
        table.add_row(
            record["account"], record["media"], record["column"], record["value"]
        )
    return table


_TABLES: dict[View, Callable[[list[dict[str, Any]]], Table]] = {
    View.LISTS: _lists_table,
    View.CONTACTS: _contacts_table,
    View.FILES: _files_table,
    View.SUPPRESSIONS: _suppressions_table,
}
