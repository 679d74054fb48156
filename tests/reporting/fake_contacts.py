"""Contacts written straight into the fake server's store, for reporting tests."""

from __future__ import annotations

import json

from fake_server.store import Store

# Three contacts with hand-picked means of contact. Zoé has no mobile, so SMS
# reaches Luc and Ana only; Ana has no e-mail, so EMAIL reaches Zoé and Luc.
CONTACTS = [
    {"Prénom": "Zoé", "Nom": "Martin", "Email": "zoe@example.com"},
    {
        "Prénom": "Luc",
        "Nom": "Durand",
        "Email": "luc@example.com",
        "Mobile": "0612345678",
    },
    {"Prénom": "Ana", "Nom": "Petit", "Mobile": "0612345679"},
]

_CANONICAL = {"0612345678": "+33612345678", "0612345679": "+33612345679"}


def add_contacts(store: Store, contacts: list[dict[str, str]] = CONTACTS) -> None:
    """Insert `contacts` with ids from 1, as an import of them would store them."""
    with store.transaction() as connection:
        for contact in contacts:
            connection.execute(
                "INSERT INTO contacts (account, fields, email, mobile, phone, created_at,"
                " updated_at) VALUES ('default', ?, ?, ?, NULL, 0, 0)",
                (
                    json.dumps(contact),
                    contact.get("Email"),
                    _CANONICAL.get(contact.get("Mobile", "")),
                ),
            )
