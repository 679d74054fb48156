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


def main(arguments: list[str]) -> int:
    export = Path(arguments[0])
    list_name = arguments[1] if len(arguments) > 1 else None
    settings = ConnectionSettings(
        url=os.environ["DIGITALEO_URL"],
        password=os.environ.get("DIGITALEO_PASSWORD"),
        known_hosts=Path(os.environ.get("DIGITALEO_KNOWN_HOSTS", DEFAULT_KNOWN_HOSTS)),
    )

    with DigitaleoClient(settings) as client:
        result = client.push(
            export,
            mode=ImportMode.SYNC,
            list_name=list_name,
            timeout=300,
            on_stage=show_stage,
        )

    print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    return ExitCode.OK if result.ok else ExitCode.REJECTED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
