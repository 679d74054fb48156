"""Mistakes that push, check and convert reject before sending anything."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digitaleo_client.cli import app
from digitaleo_client.errors import ExitCode
from fake_server.server import FakeServer

HEADER_ONLY = "Prénom;Nom;Email\n"
EXPORT = "Email;Prénom\npierre.dupont@example.com;Pierre\n"
# Nothing listens on port 1 of 127.0.0.1: a command that connects fails with 5.
CLOSED_URL = "sftp://crm@127.0.0.1:1/"


@pytest.fixture
def offline_env(tmp_path: Path) -> dict[str, str]:
    """Environment whose deposit cannot be reached, with no profile file."""
    return {
        "DIGITALEO_URL": CLOSED_URL,
        "DIGITALEO_PASSWORD": "unused",
        "DIGITALEO_CONFIG": str(tmp_path / "no-config.toml"),
    }


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(env: dict[str, str], *arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(arguments), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_push_rejects_header_only_file(
    env: dict[str, str], tmp_path: Path, digitaleo_fake_server: FakeServer
) -> None:
    header = write(tmp_path, "header.csv", HEADER_ONLY)

    code, _, err = run(
        env, "push", str(header), "--mode", "sync", "--list", "Newsletter FR"
    )

    assert code == ExitCode.INVALID_INPUT
    assert f"{header} has no contact rows, only a header" in err
    assert "pass --allow-empty to deposit it anyway" in err
    assert digitaleo_fake_server.store.lists() == []


def test_no_convert_rejects_header_only_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    header = write(tmp_path, "header.csv", "Email;Nom\n\n")

    code, _, err = run(env, "push", str(header), "--no-convert")

    assert code == ExitCode.INVALID_INPUT
    assert f"{header} has no contact rows, only a header" in err


def test_allow_empty_deposits_header_only(
    env: dict[str, str], tmp_path: Path, digitaleo_fake_server: FakeServer
) -> None:
    header = write(tmp_path, "header.csv", HEADER_ONLY)

    code, out, _ = run(env, "push", str(header), "--allow-empty", "--mode", "add")

    assert code == ExitCode.OK
    assert "header.csv: ok (contacts/import/ok/" in out


@pytest.mark.parametrize("command", ["check", "convert"], ids=["check", "convert"])
def test_zero_rows_warns(command: str, tmp_path: Path) -> None:
    header = write(tmp_path, "header.csv", HEADER_ONLY)
    extra = ["--out", str(tmp_path / "out")] if command == "convert" else []

    code, _, err = run({}, command, str(header), *extra)

    assert code == ExitCode.OK
    assert f"warning: {header} has no contact rows, only a header" in " ".join(
        err.split()
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../../escape", "names starting with '.' are hidden and never processed"),
        ("sub/escape", "the name contains '/'"),
        (".hid", "names starting with '.' are hidden and never processed"),
        ("", "the name is empty"),
    ],
    ids=["parent-folder", "separator", "hidden", "empty"],
)
def test_convert_rejects_bad_name(name: str, reason: str, tmp_path: Path) -> None:
    export = write(tmp_path, "export.csv", EXPORT)
    out = tmp_path / "deep" / "out"

    code, _, err = run({}, "convert", str(export), "--out", str(out), "--name", name)

    assert code == ExitCode.USAGE
    assert (
        f"invalid remote name {name!r}: {reason}; choose another name with --name"
        in (" ".join(err.split()))
    )
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["export.csv"]


@pytest.mark.parametrize("command", ["check", "push", "convert"])
def test_missing_input_file_is_usage_error(
    command: str, offline_env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "nonexist.csv"
    extra = ["--out", str(tmp_path / "out")] if command == "convert" else []

    code, _, err = run(offline_env, command, str(missing), *extra)

    assert code == ExitCode.USAGE
    assert f"{missing}: not found; check the path of the contact file" in " ".join(
        err.split()
    )


DELETE_REFUSED = (
    "the deposit deletes contacts only for an account that deduplicates on "
    "email_phone_mobile or reference, and the account settings have dedup = email"
)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--list", ""], "invalid remote name '': the name is empty"),
        (["--action", "optout"], "the optout action needs a media; give --media"),
        (
            ["--action", "delete", "--media", "SMS"],
            "the delete action takes no media; drop --media SMS",
        ),
        (
            ["--action", "delete", "--mode", "sync"],
            "an import mode applies to imports only, not to delete; drop --mode",
        ),
        (["--action", "delete"], DELETE_REFUSED),
        (
            ["--delimiter", "ab"],
            "--delimiter 'ab' is invalid: the separator must be one character",
        ),
        (
            ["--encoding", "klingon"],
            "unknown encoding 'klingon'; use a name such as utf-8, cp1252 or latin-1",
        ),
    ],
    ids=[
        "empty-list",
        "optout-without-media",
        "delete-with-media",
        "delete-with-mode",
        "delete-with-email-dedup",
        "two-character-delimiter",
        "unknown-encoding",
    ],
)
def test_push_options_checked_offline(
    offline_env: dict[str, str], tmp_path: Path, arguments: list[str], expected: str
) -> None:
    export = write(tmp_path, "export.csv", EXPORT)

    code, _, err = run(offline_env, "push", str(export), *arguments)

    assert code == ExitCode.USAGE
    assert expected in " ".join(err.split())


def test_delete_error_names_account_option(
    offline_env: dict[str, str], tmp_path: Path
) -> None:
    export = write(tmp_path, "export.csv", EXPORT)

    _, _, err = run(offline_env, "push", str(export), "--action", "delete")

    assert "Pass --account FILE with the account's real settings" in " ".join(
        err.split()
    )


def test_delete_allowed_by_triplet_criterion(
    env: dict[str, str], tmp_path: Path, digitaleo_fake_server: FakeServer
) -> None:
    account = write(
        tmp_path, "account.toml", '[account]\ndedup = "email_phone_mobile"\n'
    )
    export = write(tmp_path, "del.csv", EXPORT)

    code, _, err = run(
        env, "push", str(export), "--action", "delete", "--account", str(account)
    )

    assert "the deposit deletes contacts only" not in err
    assert code in (ExitCode.OK, ExitCode.REJECTED)


@pytest.mark.parametrize(
    ("content", "found"),
    [
        ("Email;Prénom\nzoe@example.com;Zoé 🎉\n".encode(), "is encoded in UTF-8"),
        (
            b"\xef\xbb\xbfEmail;Nom\nzoe@example.com;Martin\n",
            "starts with a UTF-8 byte order mark",
        ),
    ],
    ids=["emoji", "bom"],
)
def test_no_convert_rejects_utf8(
    env: dict[str, str],
    tmp_path: Path,
    digitaleo_fake_server: FakeServer,
    content: bytes,
    found: str,
) -> None:
    emoji = tmp_path / "emoji.csv"
    emoji.write_bytes(content)

    code, _, err = run(env, "push", str(emoji), "--no-convert")

    assert code == ExitCode.INVALID_INPUT
    assert f"{emoji} {found}" in " ".join(err.split())
    assert "drop --no-convert to let push convert it" in " ".join(err.split())
    assert digitaleo_fake_server.store.lists() == []


def test_no_convert_sends_latin1(
    env: dict[str, str], tmp_path: Path, digitaleo_fake_server: FakeServer
) -> None:
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("Email;Prénom\nzoe@example.com;Zoé\n".encode("iso-8859-1"))

    code, out, _ = run(env, "push", str(latin1), "--no-convert")

    assert code == ExitCode.OK
    assert "latin1.csv: ok (contacts/import/ok/" in out


def test_push_json_reports_unexpected_error(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = write(tmp_path, "export.csv", EXPORT)

    def broken_prepare(*args: object, **kwargs: object) -> None:
        raise RuntimeError("part export.zip is 20007424 bytes, over 20000000")

    monkeypatch.setattr("digitaleo_client.client.core.prepare_deposit", broken_prepare)

    code, out, err = run(env, "push", str(export), "--json")

    assert code == ExitCode.ERROR
    document = json.loads(out)
    assert document["ok"] is False
    assert document["error"]["type"] == "DigitaleoError"
    assert document["error"]["details"] == {"cause": "RuntimeError"}
    assert document["error"]["message"] == (
        "unexpected RuntimeError: part export.zip is 20007424 bytes, over 20000000; "
        "this is a defect of digitaleo, so rerun with -v to log the traceback and "
        "report it"
    )
    assert "Traceback" not in err


# Both rows have a different number of fields than the header, so both are
# rejected: 2 rows read, 0 written.
RAGGED = (
    "email,first_name,mobile\nr1@example.com,R1\nr2@example.com,R2,0611111111,x,y\n"
)


def test_push_rejects_all_rejected_file(
    env: dict[str, str], tmp_path: Path, digitaleo_fake_server: FakeServer
) -> None:
    good = write(tmp_path, "Test B.csv", EXPORT)
    code, _, err = run(env, "push", str(good), "--mode", "sync")
    assert code == ExitCode.OK, err
    ragged = write(tmp_path, "ragged.csv", RAGGED)

    code, _, err = run(
        env,
        "push",
        str(ragged),
        "--list",
        "Test B",
        "--mode",
        "sync",
        "--max-invalid",
        "100",
    )

    assert code == ExitCode.INVALID_INPUT
    assert (
        f"{ragged}: all 2 rows would be rejected and 0 written, so the deposit "
        "would get only a header, which imports nothing and in sync mode empties "
        f"the list; run `digitaleo check {ragged}` to see why, fix the export, or "
        "pass --allow-empty to deposit it anyway"
    ) in " ".join(err.split())
    assert [
        (item["name"], item["size"]) for item in digitaleo_fake_server.store.lists()
    ] == [("Test B", 1)]


@pytest.mark.parametrize("command", ["check", "convert"], ids=["check", "convert"])
def test_all_rejected_warns(command: str, tmp_path: Path) -> None:
    ragged = write(tmp_path, "ragged.csv", RAGGED)
    extra = ["--out", str(tmp_path / "out")] if command == "convert" else []

    code, _, err = run({}, command, str(ragged), "--max-invalid", "100", *extra)

    assert code == ExitCode.OK
    assert f"warning: all 2 rows of {ragged} would be rejected" in " ".join(err.split())


def test_no_convert_sends_zip(
    env: dict[str, str], tmp_path: Path, digitaleo_fake_server: FakeServer
) -> None:
    deposit = tmp_path / "clients.zip"
    with zipfile.ZipFile(deposit, "w") as archive:
        archive.writestr(
            "clients.csv", "Email;Prénom\nzoe@example.com;Zoé\n".encode("iso-8859-1")
        )

    code, out, err = run(env, "push", str(deposit), "--no-convert")

    assert code == ExitCode.OK, err
    assert "clients.zip: ok (contacts/import/ok/" in out
    assert [
        (item["name"], item["size"]) for item in digitaleo_fake_server.store.lists()
    ] == [("clients", 1)]


@pytest.mark.parametrize(
    ("content", "extra", "media", "column"),
    [
        ("Mobile\n0612345678\n", [], "EMAIL", "Email"),
        ("email\nzoe@example.com\n", [], "SMS", "Mobile"),
        (
            "Email;Mobile\nzoe@example.com;0612345678\n",
            ["--no-convert"],
            "VOICE",
            "Téléphone Fixe",
        ),
    ],
    ids=["converted-email", "converted-sms", "as-is-voice"],
)
def test_optout_without_media_column_rejected(
    env: dict[str, str],
    tmp_path: Path,
    digitaleo_fake_server: FakeServer,
    content: str,
    extra: list[str],
    media: str,
    column: str,
) -> None:
    source = tmp_path / "stop.csv"
    source.write_bytes(content.encode("iso-8859-1"))

    code, _, err = run(
        env, "push", str(source), "--action", "optout", "--media", media, *extra
    )

    message = " ".join(err.split())
    assert code == ExitCode.INVALID_INPUT
    assert f"{source} has no {column} column, which an optout for {media} needs" in (
        message
    )
    assert "choose the --media that matches the file's column" in message
    assert digitaleo_fake_server.store.files() == []


def test_optout_with_media_column_sent(
    env: dict[str, str], tmp_path: Path, digitaleo_fake_server: FakeServer
) -> None:
    source = tmp_path / "stop.csv"
    source.write_bytes(b"Mobile\n0612345678\n")

    code, out, _ = run(env, "push", str(source), "--action", "optout", "--media", "SMS")

    assert code == ExitCode.OK, out
    assert [record["stage"] for record in digitaleo_fake_server.store.files()] == ["ok"]


def test_zipped_optout_without_media_column_rejected(
    env: dict[str, str], tmp_path: Path, digitaleo_fake_server: FakeServer
) -> None:
    source = tmp_path / "stop.zip"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("stop.csv", b"Mobile\n0612345678\n")

    code, _, err = run(
        env,
        "push",
        str(source),
        "--action",
        "optout",
        "--media",
        "EMAIL",
        "--no-convert",
    )

    assert code == ExitCode.INVALID_INPUT
    assert f"{source} has no Email column" in " ".join(err.split())
    assert "(its columns: Mobile)" in " ".join(err.split())
    assert digitaleo_fake_server.store.files() == []


def test_handshake_failure_without_library_traceback(tmp_path: Path) -> None:
    # paramiko logs a failed handshake as ERROR lines with a traceback. Without
    # -v, only the client's own message may reach the output.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def greet_wrongly() -> None:
        for _ in range(5):
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.sendall(b"HELLO THERE\r\n")
                connection.recv(1024)

    server = threading.Thread(target=greet_wrongly, daemon=True)
    server.start()
    env = {
        "DIGITALEO_PASSWORD": "unused",
        "DIGITALEO_CONFIG": str(tmp_path / "none.toml"),
        "DIGITALEO_KNOWN_HOSTS": str(tmp_path / "known_hosts"),
    }
    try:
        code, _, err = run(
            env,
            "mode",
            "show",
            "--url",
            f"sftp://crm@127.0.0.1:{port}",
            "--connect-timeout",
            "2",
        )
    finally:
        listener.close()

    assert code == ExitCode.CONNECTION
    assert "Traceback" not in err
    assert "SSH handshake with sftp://crm@127.0.0.1:" in " ".join(err.split())


def write_gzip(path: Path) -> None:
    path.write_bytes(gzip.compress(b"Email\nzoe@example.com\n"))


def write_xlsx_like(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")


@pytest.mark.parametrize(
    ("name", "writer", "expected"),
    [
        ("clients.csv.gz", write_gzip, "looks like a gzip file, not a CSV"),
        (
            "clients.xlsx",
            write_xlsx_like,
            (
                "is a zip (or xlsx) file containing [Content_Types].xml, "
                "xl/workbook.xml, but a zipped deposit must contain exactly one CSV file"
            ),
        ),
    ],
    ids=["gzip", "xlsx"],
)
def test_no_convert_rejects_non_deposit_file(
    env: dict[str, str],
    tmp_path: Path,
    digitaleo_fake_server: FakeServer,
    name: str,
    writer: Callable[[Path], None],
    expected: str,
) -> None:
    source = tmp_path / name
    writer(source)

    code, _, err = run(env, "push", str(source), "--no-convert", "--allow-empty")

    assert code == ExitCode.INVALID_INPUT
    assert f"{source} {expected}" in " ".join(err.split())
    assert digitaleo_fake_server.store.files() == []
