"""The SFTP session's channel, with a receive buffer that keeps downloads fast.

paramiko's channel stores incoming data in one byte array (BufferedPipe):
every packet the connection receives is copied onto its end, and every read
copies bytes out of its front and then moves all the bytes still buffered.
With a few megabytes of read responses in flight, that moving costs more
than the decryption. `ChunkedPipe` keeps each received packet as it came
and hands it out without moving the rest, so the client can keep as many
reads in flight as OpenSSH's sftp does.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import paramiko
from paramiko.buffered_pipe import BufferedPipe, PipeTimeout

SFTP_SUBSYSTEM = "sftp"


class ChunkedPipe(BufferedPipe):  # type: ignore[misc]
    """A drop-in BufferedPipe that stores received data as a queue of chunks.

    It keeps paramiko's contract. The connection's thread calls `feed`, and
    `read` raises PipeTimeout when nothing arrives within its timeout. A
    closed and drained pipe reads as empty bytes. The optional event is set
    exactly while data is waiting or the pipe is closed.
    """

    def __init__(self) -> None:
        super().__init__()
        self._chunks: deque[bytes] = deque()
        # Bytes of the first chunk already handed out.
        self._offset = 0
        self._size = 0

    def set_event(self, event: threading.Event) -> None:
        with self._lock:
            self._event = event
            if self._closed or self._size > 0:
                event.set()
            else:
                event.clear()

    def feed(self, data: bytes) -> None:
        chunk = bytes(data)
        with self._lock:
            if self._event is not None:
                self._event.set()
            if chunk:
                self._chunks.append(chunk)
                self._size += len(chunk)
            self._cv.notify_all()

    def read_ready(self) -> bool:
        with self._lock:
            return self._size > 0

    def read(self, nbytes: int, timeout: float | None = None) -> bytes:
        with self._lock:
            self._wait_for_data(timeout)
            if self._size == 0:
                return b""
            out = self._take(nbytes)
            self._clear_event_when_drained()
        return out

    def empty(self) -> bytes:
        with self._lock:
            out = self._take(self._size)
            self._clear_event_when_drained()
        return out

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._cv.notify_all()
            if self._event is not None:
                self._event.set()

    def __len__(self) -> int:
        with self._lock:
            return self._size

    # -- called with the lock held ----------------------------------------------

    def _wait_for_data(self, timeout: float | None) -> None:
        if timeout is not None:
            deadline = time.monotonic() + timeout
        while self._size == 0 and not self._closed:
            if timeout is None:
                self._cv.wait()
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PipeTimeout()
            self._cv.wait(remaining)

    def _take(self, nbytes: int) -> bytes:
        """Remove and return up to `nbytes` bytes from the front."""
        parts: list[bytes] = []
        remaining = min(nbytes, self._size)
        while remaining > 0:
            head = self._chunks[0]
            available = len(head) - self._offset
            if available <= remaining:
                parts.append(head[self._offset :] if self._offset else head)
                self._chunks.popleft()
                self._offset = 0
                count = available
            else:
                parts.append(head[self._offset : self._offset + remaining])
                self._offset += remaining
                count = remaining
            remaining -= count
            self._size -= count
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _clear_event_when_drained(self) -> None:
        if self._size == 0 and self._event is not None and not self._closed:
            self._event.clear()


def open_sftp_client(
    ssh: paramiko.Transport, window_size: int, max_packet_size: int
) -> paramiko.SFTPClient:
    """Open the sftp subsystem on a channel that buffers with `ChunkedPipe`.

    Does what `paramiko.SFTPClient.from_transport` does, swapping the
    channel's buffer before the server can send anything on it.
    Raises paramiko.SSHException when the server rejects the session.
    """
    channel = ssh.open_session(window_size=window_size, max_packet_size=max_packet_size)
    channel.in_buffer = ChunkedPipe()
    channel.invoke_subsystem(SFTP_SUBSYSTEM)
    return paramiko.SFTPClient(channel)
