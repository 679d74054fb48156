"""`digitaleo mode` and `digitaleo push` against the fake deposit, through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digitaleo_client.cli import app
from digitaleo_client.errors import ExitCode
from fake_server.server import FakeServer

EXPORT = (
    "Email;Prénom\npierre.dupont@example.com;Pierre\nsylvie.martin@example.com;Sylvie\n"
)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "Newsletter.csv"
    path.write_text(EXPORT, encoding="utf-8")
    return path


def run(env: dict[str, str], *arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(arguments), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_mode_set_then_show_json(env: dict[str, str]) -> None:
    set_code, set_out, _ = run(env, "mode", "set", "sync", "--json")
    show_code, show_out, _ = run(env, "mode", "show", "--json")

    assert set_code == ExitCode.OK
    assert json.loads(set_out) == {
        "ok": True,
        "mode": "sync",
        "previous_mode": "create",
        "changed": True,
    }
    assert show_code == ExitCode.OK
    assert json.loads(show_out)["mode"] == "sync"
    assert json.loads(show_out)["dotfile"] == ".syncExistingList"


def test_push_with_mode_says_it_changed(env: dict[str, str], export: Path) -> None:
    code, out, err = run(
        env, "push", str(export), "--mode", "sync", "--list", "Newsletter FR"
    )

    assert code == ExitCode.OK
    assert "import mode changed from create to sync" in out
    # Without a terminal, progress is logged as plain lines on stderr.
    assert "INFO uploaded " in err
    assert "INFO Newsletter FR.csv is in ok/" in err
    assert "Newsletter FR.csv: ok (contacts/import/ok/" in out
    assert "list: Newsletter FR" in out


def test_push_without_mode_names_current_mode(
    env: dict[str, str], export: Path
) -> None:
    code, out, _ = run(env, "push", str(export))

    assert code == ExitCode.OK
    assert "import mode is create" in out


def test_push_json_is_one_document(
    env: dict[str, str], export: Path, digitaleo_fake_server: FakeServer
) -> None:
    code, out, _ = run(env, "push", str(export), "--mode", "add", "--json")

    document = json.loads(out)
    assert code == ExitCode.OK
    assert document["ok"] is True
    assert document["stage"] == "ok"
    assert document["mode"] == "add"
    assert document["mode_changed"] is True
    assert document["list_name"] == "Newsletter"
    assert document["conversion"]["rows_written"] == 2
    assert [item["size"] for item in digitaleo_fake_server.store.lists()] == [2]


def test_push_no_wait_leaves_file_in(env: dict[str, str], export: Path) -> None:
    code, out, _ = run(env, "push", str(export), "--no-wait", "--json")

    document = json.loads(out)
    assert code == ExitCode.OK
    assert document["outcomes"][0]["stage"] in ("in", "on", "ok")
    assert document["outcomes"][0]["finished_at"] is None


def test_rejected_file_exits_with_ko_code(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"Nom;Ville\nDupont;Rennes\n")

    code, out, err = run(env, "push", str(bad), "--no-convert", "--wait")

    assert code == ExitCode.REJECTED
    assert "bad.csv: ko (contacts/import/ko/" in out
    assert "error: the deposit rejected bad.csv" in err


def test_unknown_host_key_exits_with_connection_code(
    env: dict[str, str], tmp_path: Path, digitaleo_fake_server: FakeServer
) -> None:
    env["DIGITALEO_KNOWN_HOSTS"] = str(tmp_path / "empty_known_hosts")

    code, out, err = run(env, "mode", "show")

    assert code == ExitCode.CONNECTION
    assert out == ""
    assert "is unknown" in err
    assert f"--host-key-fingerprint {digitaleo_fake_server.host_key_fingerprint}" in err


def test_pinned_fingerprint_accepted(
    env: dict[str, str], tmp_path: Path, digitaleo_fake_server: FakeServer
) -> None:
    env["DIGITALEO_KNOWN_HOSTS"] = str(tmp_path / "empty_known_hosts")
    pin = digitaleo_fake_server.host_key_fingerprint

    code, out, _ = run(env, "mode", "show", "--host-key-fingerprint", pin)

    assert code == ExitCode.OK
    assert "import mode: create" in out


def test_accept_new_then_strict(
    env: dict[str, str], tmp_path: Path, digitaleo_fake_server: FakeServer
) -> None:
    known_hosts = tmp_path / "ssh" / "known_hosts"
    env["DIGITALEO_KNOWN_HOSTS"] = str(known_hosts)

    first_code, _, first_err = run(env, "mode", "show", "--accept-new")
    second_code, _, _ = run(env, "mode", "show")

    assert first_code == ExitCode.OK
    assert "trusted new host key" in first_err
    assert known_hosts.read_text() == digitaleo_fake_server.known_hosts_line + "\n"
    assert second_code == ExitCode.OK


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--action", "optout"], "the optout action needs a media"),
        (["--media", "SMS"], "the import action takes no media"),
        (
            ["--action", "delete", "--mode", "sync"],
            "an import mode applies to imports only",
        ),
        (["--list", "../escape"], "invalid remote name '../escape.csv'"),
    ],
    ids=[
        "optout-without-media",
        "import-with-media",
        "mode-with-delete",
        "bad-list-name",
    ],
)
def test_push_usage_errors(
    env: dict[str, str], export: Path, arguments: list[str], expected: str
) -> None:
    code, _, err = run(env, "push", str(export), *arguments)

    assert code == ExitCode.USAGE
    assert expected in err


def test_missing_url_is_usage_error(env: dict[str, str]) -> None:
    del env["DIGITALEO_URL"]

    code, _, err = run(env, "mode", "show", "--json")

    assert code == ExitCode.USAGE
    assert "no deposit URL; give --url" in err


def test_error_json_on_stdout(env: dict[str, str]) -> None:
    del env["DIGITALEO_URL"]

    _, out, _ = run(env, "mode", "show", "--json")

    document = json.loads(out)
    assert document["ok"] is False
    assert document["error"]["type"] == "ConfigurationError"
    assert document["error"]["exit_code"] == ExitCode.USAGE


def test_password_option_does_not_exist(env: dict[str, str], export: Path) -> None:
    code, _, err = run(env, "push", str(export), "--password", "secret")

    assert code == ExitCode.USAGE
    assert "--password" in err


def test_help_lists_exit_codes(env: dict[str, str]) -> None:
    code, out, _ = run(env, "--help")

    assert code == ExitCode.OK
    assert "3 file rejected (in ko/)" in " ".join(out.split())


def test_wait_after_no_wait(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"Nom;Ville\nDupont;Rennes\n")
    # A server that keeps each file in on/ for a while, so push returns first.
    with FakeServer(tmp_path / "slow", processing_delay=0.5) as slow:
        env["DIGITALEO_URL"] = slow.url
        env["DIGITALEO_PASSWORD"] = slow.password or ""
        env["DIGITALEO_KNOWN_HOSTS"] = str(slow.known_hosts_path)

        push_code, push_out, _ = run(env, "push", str(bad), "--no-convert", "--no-wait")
        wait_code, wait_out, _ = run(env, "wait", "bad.csv", "--json")

    document = json.loads(wait_out)
    assert push_code == ExitCode.OK
    # The processor takes the file from in/ at once, so either stage may show.
    assert "bad.csv: on (contacts/import/on/" in push_out or (
        "bad.csv: in (contacts/import/in/bad.csv)" in push_out
    )
    assert wait_code == ExitCode.REJECTED
    assert document["ok"] is False
    assert document["stage"] == "ko"
    assert document["remote_path"].startswith("contacts/import/ko/")


def test_wait_for_unknown_name(env: dict[str, str]) -> None:
    code, _, err = run(env, "wait", "absent")

    assert code == ExitCode.USAGE
    assert "no file named absent.csv or absent.zip" in err
