"""Helpers of the resilience tests: deposit files, clients and invariant checks."""

from __future__ import annotations

from pathlib import Path

from digitaleo_client.client import DigitaleoClient, PollPolicy
from digitaleo_client.client.retrying import RetryPolicies
from digitaleo_client.config import ConnectionSettings
from digitaleo_client.journal import Journal
from fake_server.server import FakeServer

# Polls fast so that tests finish soon after the deposit does.
FAST_POLLS = PollPolicy(initial_interval=0.02, factor=1.5, max_interval=0.2)

# Retries that pause a few hundredths of a second, enough for a restarted
# server to come back and short enough to keep the tests quick.
SHORT_PAUSES = RetryPolicies().with_timing(initial_backoff=0.05, jitter=0.0)


def deposit_csv(first: int, count: int) -> bytes:
    """Return a deposit-format CSV (ISO-8859-1, `;`, LF) of `count` contacts.

    Contact `n` has the e-mail `contact<n>@example.com`, so files built from
    disjoint ranges share no contact.
    """
    lines = ["Email;Prénom;Nom"]
    lines += [
        f"contact{number}@example.com;Hélène;Martin-{number}"
        for number in range(first, first + count)
    ]
    return ("\n".join(lines) + "\n").encode("iso-8859-1")


def write_export(folder: Path, name: str, content: bytes) -> Path:
    """Write `content` as `folder/name` and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


def settings_for(
    server: FakeServer, operation_timeout: float = 10.0
) -> ConnectionSettings:
    """Return settings that log in to `server` and trust its host key."""
    return ConnectionSettings(
        url=server.url,
        password=server.password,
        known_hosts=server.known_hosts_path,
        connect_timeout=5.0,
        operation_timeout=operation_timeout,
    )


def cli_env(
    server: FakeServer, tmp_path: Path, journal: Path | None = None
) -> dict[str, str]:
    """Return the environment of `digitaleo` commands run against `server`.

    No profile file applies. `journal` None keeps the journal that the test
    suite's fixture sets.
    """
    env = {
        "DIGITALEO_URL": server.url,
        "DIGITALEO_PASSWORD": server.password or "",
        "DIGITALEO_KNOWN_HOSTS": str(server.known_hosts_path),
        "DIGITALEO_CONFIG": str(tmp_path / "no-config.toml"),
    }
    if journal is not None:
        env["DIGITALEO_JOURNAL"] = str(journal)
    return env


def client_for(
    server: FakeServer,
    *,
    operation_timeout: float = 10.0,
    retry_policies: RetryPolicies = SHORT_PAUSES,
) -> DigitaleoClient:
    """Return a client of `server` with fast polls and short retry pauses."""
    return DigitaleoClient(
        settings_for(server, operation_timeout),
        poll_policy=FAST_POLLS,
        retry_policies=retry_policies,
    )


def journaled_client(
    server: FakeServer, journal: Journal, retry_policies: RetryPolicies = SHORT_PAUSES
) -> DigitaleoClient:
    """Return a client of `server` that records its pushes in `journal`."""
    return DigitaleoClient(
        settings_for(server),
        poll_policy=FAST_POLLS,
        retry_policies=retry_policies,
        journal=journal,
    )


def list_sizes(server: FakeServer) -> list[tuple[str, int]]:
    """Return (name, member count) of every list of the deposit, oldest first."""
    return [(item["name"], item["size"]) for item in server.store.lists()]


def check_processed_files(server: FakeServer, expected: dict[str, bytes]) -> None:
    """Assert that the deposit processed exactly the files in `expected`, whole.

    `expected` maps a deposited name (without the timestamp prefix) to the
    bytes uploaded under it. Every processed file must carry a visible name,
    never a temporary `.part` one, and its content in ok/ or ko/ must be
    those bytes, not a truncated copy.
    """
    records = server.store.files()
    deposited = sorted(record["name"].split("_", 1)[1] for record in records)
    assert deposited == sorted(expected)
    for record in records:
        name = record["name"]
        assert not name.split("_", 1)[1].startswith(".")
        assert not name.endswith(".part")
        stored = server.root / "contacts" / "import" / record["stage"] / name
        assert stored.read_bytes() == expected[name.split("_", 1)[1]]


def leftover_temporary_files(server: FakeServer) -> list[str]:
    """Return the hidden files still in contacts/import/in/."""
    folder = server.root / "contacts" / "import" / "in"
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("."))
