"""ChunkedPipe, the SFTP channel's receive buffer, against paramiko's own.

The pipe must return what paramiko's BufferedPipe returns for every call,
since paramiko's channel and SFTP client read it. The last tests download
through OpenSSH's sshd with the pipe in place.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paramiko.buffered_pipe import BufferedPipe, PipeTimeout

from digitaleo_client.config import ConnectionSettings
from digitaleo_client.transport.sftp import SFTPTransport
from digitaleo_client.transport.sftp_channel import ChunkedPipe
from digitaleo_client.transport.sftp_pipeline import (
    LARGE_REQUEST_SIZE,
    READ_BACKLOG_BYTES,
)
from tests.sshd import OpenSSHServer


def test_reads_cross_chunk_boundaries() -> None:
    pipe = ChunkedPipe()
    pipe.feed(b"abc")
    pipe.feed(b"defgh")

    assert pipe.read(2) == b"ab"
    assert len(pipe) == 6
    assert pipe.read(4) == b"cdef"
    assert pipe.read(10) == b"gh"
    assert len(pipe) == 0
    assert not pipe.read_ready()


def test_whole_chunk_read_without_copy() -> None:
    pipe = ChunkedPipe()
    chunk = b"x" * 1000
    pipe.feed(chunk)

    assert pipe.read(1000) is chunk


def test_empty_returns_everything_left() -> None:
    pipe = ChunkedPipe()
    pipe.feed(b"abcd")
    pipe.feed(b"ef")
    pipe.read(1)

    assert pipe.empty() == b"bcdef"
    assert len(pipe) == 0


def test_read_on_an_empty_pipe_times_out() -> None:
    pipe = ChunkedPipe()
    with pytest.raises(PipeTimeout):
        pipe.read(10, timeout=0.0)
    with pytest.raises(PipeTimeout):
        pipe.read(10, timeout=0.05)


def test_empty_feed_keeps_reader_waiting() -> None:
    # An empty read result means "closed", so an empty feed must not wake a
    # reader with one.
    pipe = ChunkedPipe()
    pipe.feed(b"")
    with pytest.raises(PipeTimeout):
        pipe.read(10, timeout=0.05)


def test_read_waits_for_late_feed() -> None:
    pipe = ChunkedPipe()
    feeder = threading.Timer(0.05, pipe.feed, args=(b"late",))
    feeder.start()
    try:
        assert pipe.read(10, timeout=5.0) == b"late"
    finally:
        feeder.cancel()


def test_close_wakes_a_waiting_reader() -> None:
    pipe = ChunkedPipe()
    closer = threading.Timer(0.05, pipe.close)
    closer.start()
    try:
        started = time.monotonic()
        assert pipe.read(10, timeout=5.0) == b""
        assert time.monotonic() - started < 4.0
    finally:
        closer.cancel()


def test_closed_pipe_drains_then_ends() -> None:
    pipe = ChunkedPipe()
    pipe.feed(b"last")
    pipe.close()

    assert pipe.read(10) == b"last"
    assert pipe.read(10) == b""
    assert pipe.read(10, timeout=0.0) == b""


def test_event_set_while_data_waits() -> None:
    pipe = ChunkedPipe()
    event = threading.Event()
    pipe.set_event(event)
    assert not event.is_set()

    pipe.feed(b"ab")
    assert event.is_set()
    pipe.read(1)
    assert event.is_set()
    pipe.read(1)
    assert not event.is_set()

    pipe.close()
    assert event.is_set()


def test_late_event_starts_set() -> None:
    pipe = ChunkedPipe()
    pipe.feed(b"a")
    event = threading.Event()

    pipe.set_event(event)

    assert event.is_set()


# Each step is ("feed", bytes), ("read", n), ("empty", 0), ("len", 0) or
# ("close", 0).
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("feed"), st.binary(max_size=40)),
        st.tuples(st.just("read"), st.integers(min_value=1, max_value=60)),
        st.tuples(st.just("empty"), st.just(0)),
        st.tuples(st.just("len"), st.just(0)),
        st.tuples(st.just("close"), st.just(0)),
    ),
    max_size=40,
)


def run_steps(pipe: BufferedPipe, steps: list[tuple[str, object]]) -> list[object]:
    """Apply the steps to a pipe and collect what each call gave back."""
    results: list[object] = []
    for action, argument in steps:
        if action == "feed":
            assert isinstance(argument, bytes)
            pipe.feed(argument)
            results.append(None)
        elif action == "read":
            assert isinstance(argument, int)
            try:
                results.append(pipe.read(argument, timeout=0.0))
            except PipeTimeout:
                results.append("timeout")
        elif action == "empty":
            results.append(pipe.empty())
        elif action == "close":
            pipe.close()
            results.append(None)
        else:
            results.append((len(pipe), pipe.read_ready()))
    return results


@settings(max_examples=300, deadline=None)
@given(steps=STEPS)
def test_matches_paramiko_buffered_pipe(steps: list[tuple[str, object]]) -> None:
    assert run_steps(ChunkedPipe(), steps) == run_steps(BufferedPipe(), steps)


# -- through a real server -------------------------------------------------------


@pytest.fixture
def sshd_settings(
    openssh_server: OpenSSHServer, tmp_path: Path
) -> tuple[ConnectionSettings, Path]:
    root = tmp_path / "served"
    root.mkdir()
    settings = ConnectionSettings(
        url=openssh_server.url(root),
        key_file=openssh_server.client_key,
        known_hosts=openssh_server.write_known_hosts(tmp_path / "known_hosts"),
        connect_timeout=5.0,
    )
    return settings, root


def test_session_channel_uses_chunked_pipe(
    sshd_settings: tuple[ConnectionSettings, Path],
) -> None:
    settings, _ = sshd_settings
    with SFTPTransport.connect(settings) as transport:
        channel = transport._sftp.get_channel()
        assert channel is not None
        assert isinstance(channel.in_buffer, ChunkedPipe)


def test_download_larger_than_backlog(
    sshd_settings: tuple[ConnectionSettings, Path], tmp_path: Path
) -> None:
    settings, root = sshd_settings
    # Three backlogs and a partial request: the reader refills its requests
    # many times and ends on a short one.
    content = os.urandom(3 * READ_BACKLOG_BYTES + LARGE_REQUEST_SIZE // 3)
    (root / "large.bin").write_bytes(content)
    target = tmp_path / "large.bin"

    with SFTPTransport.connect(settings) as transport:
        received = transport.download("large.bin", target)

    assert received == len(content)
    assert target.read_bytes() == content
