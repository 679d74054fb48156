"""Pick-up: the worker thread, settle scans, hidden files and processed names."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from rules_support import DATA, START, Deposit, counts

from fake_server.processor import Processor

# Real seconds a test waits for the worker thread before it fails.
WAIT = 10.0


def in_path(deposit, name, folder="import"):
    return deposit.root / "contacts" / folder / "in" / name


def write_in(deposit, name, data_name="email_only.csv"):
    path = in_path(deposit, name)
    path.write_bytes((DATA / data_name).read_bytes())
    return path


def wait_for(condition):
    """Poll `condition` until it is true or WAIT real seconds pass; return its last value."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def deposit(tmp_path):
    deposit = Deposit(tmp_path)
    yield deposit
    deposit.processor.stop()


def with_processor(deposit, **options):
    deposit.processor = Processor(
        deposit.root, deposit.config, deposit.store, deposit.clock, **options
    )
    return deposit.processor


def test_layout_has_every_folder(deposit):
    assert (deposit.root / "reporting").is_dir()
    for folder in ("import", "optoutSMS", "optinVOICEMAIL", "delete"):
        for stage in ("in", "on", "ok", "ko"):
            assert (deposit.root / "contacts" / folder / stage).is_dir()


def test_submit_processes_on_worker(deposit):
    path = write_in(deposit, "clients.csv")

    deposit.processor.start()
    deposit.processor.submit(path)

    assert deposit.processor.wait_idle(WAIT)
    assert (deposit.root / "contacts/import/ok/1447797847_clients.csv").is_file()
    assert not path.exists()
    assert [record["stage"] for record in deposit.store.files()] == ["ok"]


def test_hidden_file_never_processed(deposit):
    path = write_in(deposit, ".clients.csv.part")

    deposit.processor.start()
    deposit.processor.submit(path)
    settled = deposit.processor.scan()

    assert deposit.processor.wait_idle(WAIT)
    assert settled == []
    assert path.exists()
    assert deposit.store.files() == []


def test_process_rejects_hidden_path(deposit):
    path = write_in(deposit, ".clients.csv.part")

    with pytest.raises(ValueError) as caught:
        deposit.processor.process(path)

    assert str(caught.value) == f"{path} is hidden; hidden files are never processed"


def test_process_rejects_path_outside_in(deposit):
    path = deposit.root / "contacts/import/ok/clients.csv"
    path.write_bytes(b"Email\n")

    with pytest.raises(ValueError) as caught:
        deposit.processor.process(path)

    assert str(caught.value) == (
        f"{path} is not directly in an in/ folder of {deposit.root}/contacts"
    )


def test_file_queued_once(deposit, caplog):
    path = write_in(deposit, "clients.csv")
    caplog.set_level(logging.DEBUG, logger="fake_server.processor")

    deposit.processor.submit(path)
    deposit.processor.submit(path)
    deposit.processor.start()

    assert deposit.processor.wait_idle(WAIT)
    assert f"{path} is already queued" in caplog.messages
    assert len(deposit.store.files()) == 1


def test_scan_waits_for_settle_time(deposit):
    processor = with_processor(deposit, settle_seconds=5.0)
    path = write_in(deposit, "clients.csv")

    first = processor.scan()
    deposit.clock.advance(4)
    before_settle = processor.scan()
    with path.open("ab") as stream:
        stream.write(b"bruno@example.com;Martin\n")
    after_growth = processor.scan()
    deposit.clock.advance(4)
    growth_plus_4 = processor.scan()
    deposit.clock.advance(1)
    settled = processor.scan()

    assert first == []
    assert before_settle == []
    # The scan that finds the file grown restarts the settle time.
    assert after_growth == []
    assert growth_plus_4 == []
    assert settled == [path]


def test_worker_scans_in_settle_mode(deposit):
    processor = with_processor(deposit, settle_seconds=2.0)
    optout = in_path(deposit, "stop.csv", "optoutSMS")
    optout.write_bytes(b"Mobile\n0612345678\n")
    ok_folder = deposit.root / "contacts/optoutSMS/ok"

    processor.start()

    # The clock moves a little on each poll, so the worker's scans see the
    # file first and then see it unchanged for 2 s of the clock.
    def processed():
        deposit.clock.advance(0.1)
        return any(ok_folder.iterdir())

    assert wait_for(processed)
    assert processor.wait_idle(WAIT)
    [record] = deposit.store.files()
    timestamp, _, name = record["name"].partition("_")
    assert name == "stop.csv"
    assert int(timestamp) >= START + 2


def test_processing_delay_shows_on_stage(deposit):
    processor = with_processor(deposit, processing_delay=0.5)
    path = write_in(deposit, "clients.csv")
    on_path = deposit.root / "contacts/import/on/1447797847_clients.csv"
    ok_path = deposit.root / "contacts/import/ok/1447797847_clients.csv"

    processor.start()
    processor.submit(path)

    # The file reaches on/ just before its record is added to the store.
    assert wait_for(lambda: on_path.exists() and deposit.store.files())
    assert deposit.store.files()[0]["stage"] == "on"
    assert processor.wait_idle(WAIT)
    assert ok_path.is_file()
    assert not on_path.exists()


def test_same_name_same_second(deposit):
    first = deposit.processor.process(write_in(deposit, "clients.csv"))
    second = deposit.processor.process(write_in(deposit, "clients.csv"))

    assert first["name"] == "1447797847_clients.csv"
    assert second["name"] == "1447797848_clients.csv"
    assert second["deposited_at"] == START


def test_start_twice_rejected(deposit):
    deposit.processor.start()

    with pytest.raises(RuntimeError) as caught:
        deposit.processor.start()

    assert str(caught.value) == "the processor is already running; call stop() first"


def test_stop_leaves_queued_files(deposit):
    path = write_in(deposit, "clients.csv")
    deposit.processor.submit(path)

    deposit.processor.start()
    deposit.processor.stop()

    assert deposit.processor.wait_idle(WAIT)
    assert len(deposit.store.files()) + int(path.exists()) == 1


def test_store_read_from_other_thread(deposit):
    deposit.deposit_data("import", "clients_first.csv", "clients.csv")
    seen = []
    reader = threading.Thread(target=lambda: seen.append(len(deposit.store.contacts())))

    reader.start()
    reader.join(WAIT)

    assert seen == [3]


def test_ok_and_ko_files_kept(deposit):
    deposit.deposit_data("import", "clients_first.csv", "clients.csv")
    deposit.deposit_data("import", "no_means.csv", "broken.csv")

    # 30 days later: 1447797849 + 2592000 seconds.
    deposit.clock.advance(30 * 24 * 3600)
    deposit.deposit_data("import", "clients_first.csv", "clients.csv")

    assert sorted(
        path.name for path in (deposit.root / "contacts/import/ok").iterdir()
    ) == [
        "1447797847_clients.csv",
        "1450389849_clients.csv",
    ]
    assert [path.name for path in (deposit.root / "contacts/import/ko").iterdir()] == [
        "1447797848_broken.csv"
    ]


def leave_in_on(deposit, name, data_name="clients_first.csv"):
    """Put a file in import/on/ as a process stopped mid-file would leave it."""
    path = deposit.root / "contacts/import/on" / name
    path.write_bytes((DATA / data_name).read_bytes())
    return path


def test_start_finishes_file_left_in_on(deposit):
    leave_in_on(deposit, "1447797000_clients.csv")

    deposit.processor.start()

    [record] = deposit.store.files()
    assert record["name"] == "1447797000_clients.csv"
    assert record["stage"] == "ok"
    assert record["deposited_at"] == 1447797000.0
    assert record["counts"] == counts(created=3)
    assert (deposit.root / "contacts/import/ok/1447797000_clients.csv").is_file()
    assert not any((deposit.root / "contacts/import/on").iterdir())


def test_start_reapplies_uncommitted_record(deposit):
    leave_in_on(deposit, "1447797000_clients.csv")
    file_id = deposit.store.add_file(
        "import", None, "1447797000_clients.csv", "clients", 1447797000.0
    )

    deposit.processor.start()

    [record] = deposit.store.files()
    assert record["id"] == file_id
    assert record["stage"] == "ok"
    assert deposit.list_sizes() == [("default", "clients", 3)]


def test_start_moves_committed_file_only(deposit):
    record = deposit.deposit_data("import", "clients_first.csv", "clients.csv")
    ok_path = deposit.root / "contacts/import/ok" / record["name"]
    ok_path.rename(deposit.root / "contacts/import/on" / record["name"])

    deposit.processor.start()

    assert ok_path.is_file()
    assert deposit.store.files() == [record]
    assert len(deposit.store.contacts()) == 3


def test_worker_survives_unexpected_error(deposit, monkeypatch, caplog):
    import fake_server.processor as processor_module

    original = processor_module.apply_file
    calls = []

    def fail_first(job, *arguments):
        calls.append(job.name)
        if len(calls) == 1:
            raise RuntimeError("defect in a rule")
        return original(job, *arguments)

    monkeypatch.setattr(processor_module, "apply_file", fail_first)
    first = write_in(deposit, "first.csv")
    deposit.processor.start()
    deposit.processor.submit(first)
    assert deposit.processor.wait_idle(WAIT)
    second = write_in(deposit, "second.csv")

    deposit.processor.submit(second)

    assert deposit.processor.wait_idle(WAIT)
    assert (deposit.root / "contacts/import/on/1447797847_first.csv").is_file()
    assert (deposit.root / "contacts/import/ok/1447797847_second.csv").is_file()
    assert f"processing {first} failed unexpectedly; it stays in on/" in caplog.messages
