"""Access rules of the fake deposit, on client paths alone."""

import os

import pytest

from fake_server import access
from fake_server.access import ClientPath, PathNotFound, PermissionDenied, WriteTarget


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", ()),
        ("", ()),
        (".", ()),
        ("contacts/import/in", ("contacts", "import", "in")),
        ("/contacts//import/./in/", ("contacts", "import", "in")),
        ("/contacts/import/in/../ok/a.csv", ("contacts", "import", "ok", "a.csv")),
        ("/../../etc/passwd", ("etc", "passwd")),
        ("contacts/../../../..", ()),
        ("/contacts/import/in/..a.csv", ("contacts", "import", "in", "..a.csv")),
    ],
    ids=[
        "root",
        "empty",
        "dot",
        "relative",
        "repeated-slashes-and-dots",
        "dotdot-inside",
        "dotdot-above-root",
        "dotdot-only",
        "name-starting-with-dots",
    ],
)
def test_parse_client_path(path, expected):
    assert access.parse_client_path(path).parts == expected


def test_parse_client_path_rejects_nul():
    with pytest.raises(PermissionDenied) as caught:
        access.parse_client_path("/contacts/import/in/a.csv\x00.txt")
    assert caught.value.reason == "the path contains a NUL character"


@pytest.mark.parametrize(
    ("path", "visible"),
    [
        ("/", True),
        ("/contacts", True),
        ("/contacts/optoutSMS/ok/1_a.csv", True),
        ("/reporting/2015-04-27/2015-04-27_Daily.zip", True),
        ("/.fake-server", False),
        ("/.fake-server/store.sqlite", False),
        ("/contacts/../.fake-server/store.sqlite", False),
        ("/etc/passwd", False),
        ("/Contacts", False),
    ],
    ids=[
        "root",
        "contacts",
        "stage-file",
        "report",
        "state-folder",
        "store-file",
        "state-through-dotdot",
        "outside-name",
        "wrong-case",
    ],
)
def test_is_visible(path, visible):
    assert access.is_visible(access.parse_client_path(path)) is visible


def test_check_visible_hides_state_folder():
    with pytest.raises(PathNotFound) as caught:
        access.check_visible(access.parse_client_path("/.fake-server/store.sqlite"))
    assert str(caught.value) == "/.fake-server/store.sqlite: no such file or folder"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/contacts/import/in/list.csv", WriteTarget.IN_FILE),
        ("/contacts/import/in/.list.csv.part", WriteTarget.IN_FILE),
        ("/contacts/optoutSMS/in/stop.csv", WriteTarget.IN_FILE),
        ("/contacts/optinVOICEMAIL/in/back.zip", WriteTarget.IN_FILE),
        ("/contacts/delete/in/gone.csv", WriteTarget.IN_FILE),
        ("/contacts/import/.createNewList", WriteTarget.MODE_DOTFILE),
        ("/contacts/import/.addToExistingList", WriteTarget.MODE_DOTFILE),
        ("/contacts/import/.syncExistingList", WriteTarget.MODE_DOTFILE),
        ("/contacts/import/on/1447797847_list.csv", None),
        ("/contacts/import/ok/list.csv", None),
        ("/contacts/import/ko/list.csv", None),
        ("/contacts/import/in", None),
        ("/contacts/import/in/sub/list.csv", None),
        ("/contacts/import/list.csv", None),
        ("/contacts/optoutSMS/.syncExistingList", None),
        ("/contacts/import/.otherMode", None),
        ("/contacts/optoutFAX/in/list.csv", None),
        ("/contacts/list.csv", None),
        ("/reporting/2015-04-27/x.zip", None),
        ("/list.csv", None),
        ("/.fake-server/store.sqlite", None),
        ("/", None),
    ],
    ids=[
        "import-in",
        "import-in-hidden",
        "optout-in",
        "optin-in",
        "delete-in",
        "mode-create",
        "mode-add",
        "mode-sync",
        "on",
        "ok",
        "ko",
        "in-folder-itself",
        "below-in",
        "import-folder-file",
        "dotfile-outside-import",
        "unknown-dotfile",
        "unknown-action",
        "contacts-file",
        "reporting",
        "root-file",
        "state-folder",
        "root",
    ],
)
def test_write_target(path, expected):
    assert access.write_target(access.parse_client_path(path)) is expected


def test_check_write_names_writable_places():
    with pytest.raises(PermissionDenied) as caught:
        access.check_write(access.parse_client_path("contacts/import/ok/a.csv"))
    assert str(caught.value) == (
        "/contacts/import/ok/a.csv: read-only; only files in contacts/<action>/in/ "
        "and the import-mode dot-files in contacts/import/ are writable"
    )


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("/contacts/import/in/.a.csv.part", "/contacts/import/in/a.csv"),
        ("/contacts/import/in/a.csv", "/contacts/import/in/b.csv"),
        ("/contacts/optoutSMS/in/a.csv", "/contacts/optoutSMS/in/.a.csv"),
    ],
    ids=["hidden-to-visible", "visible-to-visible", "visible-to-hidden"],
)
def test_check_rename_allows_same_in_folder(source, target):
    access.check_rename(
        access.parse_client_path(source), access.parse_client_path(target)
    )


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        (
            "/contacts/import/in/a.csv",
            "/contacts/optoutSMS/in/a.csv",
            (
                "/contacts/optoutSMS/in/a.csv: a file can only be renamed within its own "
                "folder, /contacts/import/in"
            ),
        ),
        (
            "/contacts/import/in/a.csv",
            "/contacts/import/ok/a.csv",
            (
                "/contacts/import/ok/a.csv: read-only; only files in contacts/<action>/in/ "
                "and the import-mode dot-files in contacts/import/ are writable"
            ),
        ),
        (
            "/contacts/import/ok/1_a.csv",
            "/contacts/import/in/a.csv",
            (
                "/contacts/import/ok/1_a.csv: read-only; only files in contacts/<action>/in/ "
                "and the import-mode dot-files in contacts/import/ are writable"
            ),
        ),
        (
            "/contacts/import/.createNewList",
            "/contacts/import/.syncExistingList",
            (
                "/contacts/import/.createNewList: import-mode dot-files cannot be renamed; "
                "create or remove them"
            ),
        ),
    ],
    ids=["other-in-folder", "into-ok", "out-of-ok", "mode-dotfile"],
)
def test_check_rename_denied(source, target, message):
    with pytest.raises(PermissionDenied) as caught:
        access.check_rename(
            access.parse_client_path(source), access.parse_client_path(target)
        )
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "path", ["/contacts/import/in/sub", "/contacts/new", "/contacts/import/in"]
)
def test_check_folder_change_always_denied(path):
    with pytest.raises(PermissionDenied) as caught:
        access.check_folder_change(access.parse_client_path(path))
    assert caught.value.reason == (
        "the deposit's folders are fixed; clients cannot add or remove them"
    )


@pytest.mark.parametrize(
    ("path", "submitted"),
    [
        ("/contacts/import/in/list.csv", True),
        ("/contacts/optoutEMAIL/in/stop.zip", True),
        ("/contacts/import/in/.list.csv.part", False),
        ("/contacts/import/.syncExistingList", False),
        ("/contacts/import/ok/list.csv", False),
    ],
    ids=["visible-in", "visible-optout", "hidden-in", "mode-dotfile", "ok"],
)
def test_is_submitted_upload(path, submitted):
    assert access.is_submitted_upload(access.parse_client_path(path)) is submitted


def test_real_path_joins_under_root(tmp_path):
    path = ClientPath(("contacts", "import", "in", "new.csv"))
    assert access.real_path(tmp_path, path) == tmp_path / "contacts/import/in/new.csv"


@pytest.mark.parametrize(
    ("writing", "error"),
    [(False, PathNotFound), (True, PermissionDenied)],
    ids=["reading", "writing"],
)
def test_real_path_refuses_links(tmp_path, writing, error):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "root/contacts/import").mkdir(parents=True)
    os.symlink(outside, tmp_path / "root/contacts/import/in")
    path = ClientPath(("contacts", "import", "in", "a.csv"))

    with pytest.raises(error) as caught:
        access.real_path(tmp_path / "root", path, writing=writing)

    assert (
        str(caught.value)
        == "/contacts/import/in/a.csv: symbolic links are not followed"
    )


def test_real_path_refuses_hidden_root_entries(tmp_path):
    with pytest.raises(PathNotFound) as caught:
        access.real_path(tmp_path, ClientPath((".fake-server", "store.sqlite")))
    assert caught.value.reason == "no such file or folder"
