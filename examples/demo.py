"""The whole job against a fake deposit on this machine, checked step by step.

`make demo` runs it. It starts the fake deposit on a free port of 127.0.0.1
in a temporary folder, pins its host key in a known_hosts file, sets sync
mode, pushes examples/contacts.csv, waits for the outcome, shows the
server's counts, then pushes examples/contacts-small.csv to the same list
and checks that the list now contains exactly that file's contacts. Last, the
fake deposit records a campaign for its contacts and writes its report
zips, and the demo pulls them and reads the opt-outs. It exits 0 only if every
check held.
"""

from __future__ import annotations

import csv
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from digitaleo_client.client import DigitaleoClient, PushResult, StageChange
from digitaleo_client.config import ConnectionSettings
from digitaleo_client.deposit import ImportMode
from digitaleo_client.journal import Journal
from digitaleo_client.reporting import ReportPuller, iter_pulled_events
from fake_server.server import FakeServer

EXAMPLES = Path(__file__).resolve().parent
LIST_NAME = "Newsletter FR"


class DemoFailed(Exception):
    """A check of the demo did not hold."""


def check(condition: bool, description: str) -> None:
    if not condition:
        raise DemoFailed(description)
    print(f"  checked: {description}")


def show_stage(change: StageChange) -> None:
    print(f"  {change.upload.remote_name} is in {change.stage.value}/")


def export_emails(path: Path) -> set[str]:
    """Return the e-mail addresses of an example export, lowercased."""
    with path.open(encoding="utf-8", newline="") as stream:
        return {
            row["email"].strip().lower()
            for row in csv.DictReader(stream)
            if row["email"]
        }


def list_members(server: FakeServer) -> tuple[int, list[dict[str, Any]]]:
    lists = [item for item in server.store.lists() if item["name"] == LIST_NAME]
    check(len(lists) == 1, f"the deposit has exactly one list named {LIST_NAME!r}")
    return lists[0]["size"], server.store.list_members(lists[0]["id"])


def last_file_counts(server: FakeServer) -> dict[str, int]:
    record = server.store.files()[-1]
    counts: dict[str, int] = record["counts"]
    print(f"  the deposit processed {record['name']}: {record['stage']}")
    print("  counts: " + ", ".join(f"{name} {value}" for name, value in counts.items()))
    return counts


def push(client: DigitaleoClient, export: Path) -> PushResult:
    print(f"pushing {export.name} to the list {LIST_NAME!r} in sync mode")
    result = client.push(
        export,
        mode=ImportMode.SYNC,
        list_name=LIST_NAME,
        timeout=120,
        on_stage=show_stage,
    )
    conversion = result.conversion or {}
    print(
        f"  converted: {conversion.get('rows_read')} rows read, "
        f"{conversion.get('rows_written')} written, {conversion.get('rows_rejected')} rejected"
    )
    for outcome in result.outcomes:
        print(f"  outcome: {outcome.stage.value} ({outcome.remote_path})")
    check(result.ok, f"{export.name} reached ok/")
    return result


def pull_reports(
    server: FakeServer, settings: ConnectionSettings, workspace: Path
) -> None:
    print("recording a campaign on the fake deposit and writing its report zips")
    campaign = server.reporting.record_campaign(
        "Soldes d'hiver #1", media=["EMAIL"], opened=5, clicked=2, optout=1
    )
    server.reporting.write_reports()
    with Journal(workspace / "journal.sqlite3") as journal:
        with ReportPuller.connect(settings, journal) as puller:
            result = puller.pull(workspace / "reports")
            again = puller.pull(workspace / "reports")
        for pulled in result.pulled:
            print(f"  pulled {pulled.remote_path} into {pulled.local_folder.name}/")
        optouts = list(iter_pulled_events(journal, optouts_only=True))
    check(
        len(result.pulled) == 2,
        "the campaign zip and the day's general zip were pulled",
    )
    check(again.bytes_received == 0, "a second pull transferred no bytes")
    check(
        [(event.campaign_id, event.media) for event in optouts]
        == [(str(campaign.id), "EMAIL")],
        "the report names the one contact who opted out: "
        + ", ".join(str(event.email) for event in optouts),
    )


def run(workspace: Path) -> None:
    with FakeServer(workspace / "deposit", processing_delay=0.5) as server:
        print(f"fake deposit at {server.url}, host key {server.host_key_fingerprint}")
        known_hosts = server.write_known_hosts(workspace / "known_hosts")
        settings = ConnectionSettings(
            url=server.url, password=server.password, known_hosts=known_hosts
        )
        with DigitaleoClient(settings) as client:
            change = client.set_mode(ImportMode.SYNC)
            print(change.describe())
            check(client.get_mode() is ImportMode.SYNC, "the account is in sync mode")

            big = push(client, EXAMPLES / "contacts.csv")
            counts = last_file_counts(server)
            size, _ = list_members(server)
            check(
                size == counts["created"] + counts["updated"] + counts["unchanged"],
                f"the list contains the {size} contacts the deposit accepted",
            )

            small_export = EXAMPLES / "contacts-small.csv"
            push(client, small_export)
            counts = last_file_counts(server)
            size, members = list_members(server)
            accepted = counts["created"] + counts["updated"] + counts["unchanged"]
            check(
                size == accepted,
                f"the list now contains {size} contacts, as many as "
                f"the deposit accepted from {small_export.name}",
            )
            emails = {
                str(member["fields"].get("Email", "")).lower() for member in members
            }
            check(
                emails - {""} <= export_emails(small_export),
                f"every member of the list comes from {small_export.name}",
            )
            check(
                big.ok and size < (big.conversion or {}).get("rows_written", 0),
                "contacts of the first file that are not in the second one left the list",
            )

        pull_reports(server, settings, workspace)


def main() -> int:
    # The fake server's paramiko threads log a client's disconnection as an
    # error; the demo's own checks report every real failure.
    logging.getLogger("paramiko.transport").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="digitaleo-demo-") as workspace:
        try:
            run(Path(workspace))
        except DemoFailed as failure:
            print(f"demo FAILED: {failure}", file=sys.stderr)
            return 1
    print("demo passed: the fake deposit was stopped and its folder removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
