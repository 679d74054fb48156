"""Push a contact export with the SDK, wait for the deposit's outcome, print it.

Against any deposit (the password comes from the environment, never argv):

    export DIGITALEO_URL=sftp://crm@127.0.0.1:2222
    export DIGITALEO_PASSWORD=...
    export DIGITALEO_KNOWN_HOSTS=~/.ssh/known_hosts
    python examples/push_with_sdk.py examples/contacts.csv "Newsletter FR"

It sets sync mode, so the list ends up holding exactly the file's contacts.
Exit status: 0 when the file reached ok/, 3 when the deposit moved it to ko/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from digitaleo_client.client import DigitaleoClient, StageChange
from digitaleo_client.config import DEFAULT_KNOWN_HOSTS, ConnectionSettings
from digitaleo_client.deposit import ImportMode
from digitaleo_client.errors import ExitCode


def show_stage(change: StageChange) -> None:
    print(f"{change.upload.remote_name}: {change.stage.value}/", file=sys.stderr)


def parse_arguments(arguments: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Push a contact export in sync mode and wait for ok/ or ko/. "
        "The deposit comes from DIGITALEO_URL, DIGITALEO_PASSWORD and "
        "DIGITALEO_KNOWN_HOSTS.",
    )
    parser.add_argument("export", type=Path, help="contact export (CSV) to push")
    parser.add_argument(
        "list_name", nargs="?", help="list to feed (default: the export's name)"
    )
    parsed = parser.parse_args(arguments)
    if "DIGITALEO_URL" not in os.environ:
        parser.error("DIGITALEO_URL is not set; export the deposit URL first")
    return parsed


def main(arguments: list[str]) -> int:
    parsed = parse_arguments(arguments)
    settings = ConnectionSettings(
        url=os.environ["DIGITALEO_URL"],
        password=os.environ.get("DIGITALEO_PASSWORD"),
        known_hosts=Path(os.environ.get("DIGITALEO_KNOWN_HOSTS", DEFAULT_KNOWN_HOSTS)),
    )

    with DigitaleoClient(settings) as client:
        result = client.push(
            parsed.export,
            mode=ImportMode.SYNC,
            list_name=parsed.list_name,
            timeout=300,
            on_stage=show_stage,
        )

    print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    return ExitCode.OK if result.ok else ExitCode.REJECTED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
