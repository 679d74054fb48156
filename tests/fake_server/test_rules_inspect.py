"""`digitaleo-fake-server inspect`: tables and JSON of the store."""

from __future__ import annotations

import json

import pytest
from rules_support import Deposit, counts
from typer.testing import CliRunner

from fake_server.cli import app


@pytest.fixture
def deposit(tmp_path):
    deposit = Deposit(tmp_path)
    deposit.deposit_data("import", "clients_first.csv", "clients.csv")
    deposit.deposit_text("optoutSMS", "stop.csv", "Mobile\n0612345678\n0612345699\n")
    return deposit


def inspect(root, *arguments):
    # A wide terminal keeps rich from wrapping the values the tests look for.
    result = CliRunner().invoke(
        app, ["inspect", "--root", str(root), *arguments], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_lists_json(deposit):
    lists = json.loads(inspect(deposit.root, "lists", "--json"))

    assert lists == [
        {
            "id": 1,
            "name": "clients",
            "account": "default",
            "created_at": 1447797847.0,
            "size": 3,
        }
    ]


def test_files_json(deposit):
    files = json.loads(inspect(deposit.root, "files", "--json"))

    assert [
        (item["action"], item["media"], item["name"], item["stage"]) for item in files
    ] == [
        ("import", None, "1447797847_clients.csv", "ok"),
        ("optout", "SMS", "1447797848_stop.csv", "ok"),
    ]
    assert files[1]["counts"] == counts(opted_out=1, suppressed=1)
    assert files[1]["reason"] is None


def test_contacts_json_shows_optout(deposit):
    contacts = json.loads(inspect(deposit.root, "contacts", "--json"))

    assert contacts[0] == {
        "id": 1,
        "account": "default",
        "fields": {
            "Email": "anne.leroy@example.com",
            "Prénom": "Anne",
            "Nom": "Leroy",
            "Mobile": "06 12 34 56 78",
        },
        "optout": ["SMS"],
    }
    assert [contact["optout"] for contact in contacts[1:]] == [[], []]


def test_suppressions_json(deposit):
    suppressions = json.loads(inspect(deposit.root, "suppressions", "--json"))

    assert suppressions == [
        {
            "account": "default",
            "media": "SMS",
            "column": "Mobile",
            "value": "+33612345699",
        }
    ]


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("lists", "clients"),
        ("contacts", "anne.leroy@example.com"),
        ("files", "1447797848_stop.csv"),
        ("suppressions", "+33612345699"),
    ],
    ids=["lists", "contacts", "files", "suppressions"],
)
def test_table_output(deposit, view, expected):
    assert expected in inspect(deposit.root, view)


def test_root_without_state(tmp_path):
    result = CliRunner().invoke(app, ["inspect", "--root", str(tmp_path), "files"])

    assert result.exit_code == 2
    assert "holds no fake deposit state" in result.output
    assert f"serve --root {tmp_path}" in result.output
