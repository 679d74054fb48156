"""Write the contacts who opted out in the pulled reports to a suppression CSV.

    python3 suppression_list.py suppressions.csv [--since 2026-11-01]

Run it after `digitaleo reports pull`. Each line names the media the contact
opted out of and its means of contact. A contact who opted out twice from
the same media appears once. The file is UTF-8 and comma-separated, and it
is replaced only once complete.
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

from digitaleo_client.journal import Journal, default_journal_path
from digitaleo_client.reporting import iter_pulled_events

COLUMNS = ["media", "email", "mobile", "phone", "reference", "day", "campaign_id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="CSV file to write")
    parser.add_argument(
        "--since", help="only opt-outs of this day or later, YYYY-MM-DD"
    )
    parser.add_argument(
        "--journal", type=Path, help="journal written by `digitaleo reports pull`"
    )
    arguments = parser.parse_args()

    partial = arguments.output.with_name(f".{arguments.output.name}.part")
    seen = set()
    with (
        Journal(arguments.journal or default_journal_path()) as journal,
        partial.open("w", newline="", encoding="utf-8") as output,
    ):
        writer = csv.writer(output)
        writer.writerow(COLUMNS)
        for event in iter_pulled_events(
            journal, since=arguments.since, optouts_only=True
        ):
            key = (event.media, event.email, event.mobile, event.phone, event.reference)
            if key in seen:
                continue
            seen.add(key)
            writer.writerow([*key, event.day, event.campaign_id])
    os.replace(partial, arguments.output)


if __name__ == "__main__":
    main()
