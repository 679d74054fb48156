"""pytest plugin of the fake deposit, registered through the pytest11 entry point.

Installing the package makes two fixtures available to every test suite:

- `digitaleo_fake_server`: a running `FakeServer` in a fresh temporary folder,
  on 127.0.0.1 and a free port, stopped after the test.
- `digitaleo_fake_server_options`: the keyword arguments that fixture passes
  to `FakeServer`; override it to change the account configuration, the
  clock or the processing delay.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fake_server.server import FakeServer


@pytest.fixture
def digitaleo_fake_server_options() -> dict[str, Any]:
    """Keyword arguments for the `digitaleo_fake_server` fixture's FakeServer.

    Empty by default: the default account, one user `crm` with a generated
    password, the system clock. Override this fixture in a conftest.py or a
    test module, for instance to return `{"config": path_to_toml}`.
    """
    return {}


@pytest.fixture
def digitaleo_fake_server(
    tmp_path_factory: pytest.TempPathFactory,
    digitaleo_fake_server_options: dict[str, Any],
) -> Iterator[FakeServer]:
    """Start a fake deposit for one test and stop it afterwards.

    The server offers `url`, `username`, `password`, `known_hosts_line`,
    `known_hosts_path`, `config`, `store`, `processor` and `reporting`.
    """
    # Imported here so that test suites that never use the fixture do not pay
    # for importing paramiko and the processor.
    from fake_server.server import FakeServer

    root = tmp_path_factory.mktemp("digitaleo-deposit")
    with FakeServer(root, **digitaleo_fake_server_options) as server:
        yield server
