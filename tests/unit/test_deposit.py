"""The deposit layout, pinned to the published folder and dot-file names."""

import pytest

from digitaleo_client import deposit
from digitaleo_client.deposit import Action, ImportMode, Media, Stage
from digitaleo_client.errors import InvalidRemoteName


@pytest.mark.parametrize(
    ("action", "media", "expected"),
    [
        (Action.IMPORT, None, "contacts/import"),
        (Action.OPTOUT, Media.EMAIL, "contacts/optoutEMAIL"),
        (Action.OPTOUT, Media.SMS, "contacts/optoutSMS"),
        (Action.OPTOUT, Media.VOICE, "contacts/optoutVOICE"),
        (Action.OPTOUT, Media.VOICEMAIL, "contacts/optoutVOICEMAIL"),
        (Action.OPTIN, Media.EMAIL, "contacts/optinEMAIL"),
        (Action.OPTIN, Media.SMS, "contacts/optinSMS"),
        (Action.OPTIN, Media.VOICE, "contacts/optinVOICE"),
        (Action.OPTIN, Media.VOICEMAIL, "contacts/optinVOICEMAIL"),
        (Action.DELETE, None, "contacts/delete"),
    ],
)
def test_action_folder(action, media, expected):
    assert deposit.action_folder(action, media) == expected


def test_action_folder_count():
    assert len(deposit.all_action_folders()) == 10


def test_layout_has_four_stages_per_action():
    folders = deposit.all_remote_folders()
    assert "contacts/import/in" in folders
    assert "contacts/delete/ko" in folders
    assert "reporting" in folders
    assert len(folders) == 2 + 10 * 5


@pytest.mark.parametrize(
    ("mode", "dotfile"),
    [
        (ImportMode.CREATE, ".createNewList"),
        (ImportMode.ADD, ".addToExistingList"),
        (ImportMode.SYNC, ".syncExistingList"),
    ],
)
def test_mode_dotfile(mode, dotfile):
    assert mode.dotfile_path == f"contacts/import/{dotfile}"


def test_media_needed_for_optout():
    with pytest.raises(ValueError, match="needs a media"):
        deposit.action_folder(Action.OPTOUT)


def test_processed_name_round_trip():
    assert deposit.processed_name(1447797847, "mylist.csv") == "1447797847_mylist.csv"
    assert deposit.parse_processed_name("1447797847_mylist.csv") == (1447797847, "mylist.csv")
    assert deposit.parse_processed_name("mylist.csv") is None


@pytest.mark.parametrize(
    ("file_name", "list_name"),
    [
        ("Clients.csv", "Clients"),
        ("Clients.ZIP", "Clients"),
        ("1447797847_Newsletter FR.csv", "Newsletter FR"),
        ("plain", "plain"),
    ],
)
def test_list_name_of(file_name, list_name):
    assert deposit.list_name_of(file_name) == list_name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        (".hidden.csv", "hidden"),
        ("a/b.csv", "'/'"),
        ("tab\there.csv", "'\\t'"),
        ("123_list.csv", "timestamp prefix"),
        ("x" * 201, "longer than 200 bytes"),
        (" padded.csv", "space"),
    ],
)
def test_check_remote_name_rejects(name, reason):
    with pytest.raises(InvalidRemoteName) as caught:
        deposit.check_remote_name(name)
    assert reason in str(caught.value)
    assert "--list" in str(caught.value)


def test_remote_file_name_adds_extension():
    assert deposit.remote_file_name("Newsletter FR") == "Newsletter FR.csv"
    assert deposit.remote_file_name("export.zip") == "export.zip"


def test_stage_final():
    assert Stage.OK.is_final and Stage.KO.is_final
    assert not Stage.IN.is_final and not Stage.ON.is_final
