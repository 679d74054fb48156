"""State that every action handler needs while it applies one file."""

from __future__ import annotations

from dataclasses import dataclass, field

from digitaleo_client.contacts.account import AccountSettings
from digitaleo_client.contacts.validation import ContactValidator
from fake_server.rules.contacts import ContactBook, target_account
from fake_server.store import empty_counts


@dataclass
class FileContext:
    """The account's settings, the store and the running counts of one file."""

    settings: AccountSettings
    book: ContactBook
    default_account: str
    counts: dict[str, int] = field(default_factory=empty_counts)

    def __post_init__(self) -> None:
        self.validator = ContactValidator(self.settings)

    @property
    def now(self) -> float:
        return self.book.now

    def account_of(self, values: dict[str, str]) -> str | None:
        """Return the account a row goes to, or None for an unknown dispatch reference."""
        return target_account(values, self.settings, self.default_account)
