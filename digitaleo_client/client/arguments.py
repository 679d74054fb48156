"""Checks of a push's arguments that need no connection, run before opening one."""

from __future__ import annotations

from digitaleo_client.contacts.account import AccountSettings, Dedup
from digitaleo_client.deposit import (
    Action,
    ActionFolder,
    ImportMode,
    Media,
    check_remote_name,
    remote_file_name,
)
from digitaleo_client.errors import ConfigurationError

DELETE_CRITERIA = " or ".join(
    criterion.value for criterion in Dedup if criterion.allows_delete
)


def check_push_arguments(
    account: AccountSettings,
    action: Action,
    media: Media | None,
    mode: ImportMode | None,
    list_name: str | None,
) -> ActionFolder:
    """Return the folder a push of `action` goes to, once its arguments agree.

    `media` is required for opt-out and opt-in and refused otherwise;
    `mode` applies to imports only; `list_name` None means the file's
    name, but an empty one is refused. A delete needs an account whose
    deduplication criterion lets the deposit delete contacts.

    Raises ConfigurationError (InvalidRemoteName for the list name) naming
    the option to change.
    """
    folder = action_folder(action, media)
    if mode is not None and action is not Action.IMPORT:
        raise ConfigurationError(
            f"an import mode applies to imports only, not to {action.value}; "
            "drop --mode"
        )
    if list_name is not None:
        if not list_name.strip():
            check_remote_name(list_name)
        remote_file_name(list_name)
    if action is Action.DELETE and not account.dedup.allows_delete:
        raise ConfigurationError(
            f"the deposit deletes contacts only for an account that deduplicates on "
            f"{DELETE_CRITERIA}, and the account settings have dedup = "
            f"{account.dedup.value}; the deposit would put the file in ko/. Pass "
            "--account FILE with the account's real settings, or ask Digitaleo to "
            "change the criterion",
            dedup=account.dedup.value,
        )
    return folder


def action_folder(action: Action, media: Media | None) -> ActionFolder:
    """Return the folder of `action` and `media`.

    Raises ConfigurationError when an opt-out or opt-in has no media, or
    another action has one.
    """
    if action.needs_media and media is None:
        raise ConfigurationError(
            f"the {action.value} action needs a media; give --media EMAIL, SMS, VOICE "
            "or VOICEMAIL"
        )
    if not action.needs_media and media is not None:
        raise ConfigurationError(
            f"the {action.value} action takes no media; drop --media {media.value}"
        )
    return ActionFolder(action, media)
