"""The pytest plugin: the `digitaleo_fake_server` fixture and its options."""

import textwrap

import pytest

from fake_server.clock import ManualClock

CONTACTS = b"Email\npierre.dupont@example.com\n"


def test_fixture_serves_a_deposit(digitaleo_fake_server, connect_sftp):
    server = digitaleo_fake_server

    assert server.running
    assert server.url == f"sftp://crm@127.0.0.1:{server.port}"
    assert server.known_hosts_path.read_text() == server.known_hosts_line + "\n"
    with (
        connect_sftp(
            server.port, server.known_hosts_path, server.username, server.password
        ) as client,
        client.open("/contacts/import/in/Clients.csv", "wb") as remote,
    ):
        remote.write(CONTACTS)

    assert server.processor.wait_idle(10)
    assert [(entry["name"], entry["size"]) for entry in server.store.lists()] == [
        ("Clients", 1)
    ]


def test_fixture_gives_each_test_a_fresh_deposit(digitaleo_fake_server):
    assert digitaleo_fake_server.store.lists() == []
    assert digitaleo_fake_server.store.files() == []


class TestOverriddenOptions:
    @pytest.fixture
    def digitaleo_fake_server_options(self, tmp_path):
        config = tmp_path / "deposit.toml"
        config.write_text(
            '[account]\nseparator = ","\n\n[[users]]\nname = "sync"\npassword = "pw"\n'
        )
        return {"config": config, "clock": ManualClock(1447797847)}

    def test_options_reach_the_server(self, digitaleo_fake_server, connect_sftp):
        server = digitaleo_fake_server

        assert server.username == "sync"
        assert server.password == "pw"
        assert server.config.account.separator == ","
        with connect_sftp(server.port, server.known_hosts_path, "sync", "pw") as client:
            with client.open("/contacts/import/in/Clients.csv", "wb") as remote:
                remote.write(b"Email,Nom\npierre.dupont@example.com,Dupont\n")
            assert server.processor.wait_idle(10)
            assert client.listdir("/contacts/import/ok") == ["1447797847_Clients.csv"]


def test_plugin_loads_from_entry_point(pytester):
    pytester.makepyfile(
        test_integration=textwrap.dedent(
            """
            def test_uses_fixture(digitaleo_fake_server):
                assert digitaleo_fake_server.url.startswith("sftp://crm@127.0.0.1:")
            """
        )
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
