"""Compare the client's transfer speed with OpenSSH's sftp and with curl.

SFTP: one OpenSSH sshd on 127.0.0.1 (started here with tests/sshd.py)
serves a temporary folder. Each round uploads and downloads the same file
through the client's SFTPTransport and through `sftp -b`, interleaved so
that both see the same machine load. FTP: the fake server's FTP front end
(pyftpdlib) on 127.0.0.1, the client's FTPTransport against `curl`.

Every timing includes opening and closing the connection, on both sides,
because `sftp` and `curl` cannot be timed without theirs. The printed ratio
is the client's throughput divided by the baseline's, median of the rounds:
above 1.0 the client is faster.

    python benchmarks/bench_transfer.py                    # 20 MB and 200 MB, 5 rounds
    python benchmarks/bench_transfer.py --sizes 20 --rounds 5
"""

from __future__ import annotations

import argparse
import logging
import os
import posixpath
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# tests/sshd.py starts sshd; it lives beside this folder, not in the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digitaleo_client.config import ConnectionSettings
from digitaleo_client.deposit import all_remote_folders
from digitaleo_client.transport import open_transport
from fake_server.ftp import FTPFrontEnd
from tests.sshd import OpenSSHServer, sshd_missing_reason

MEGABYTE = 1_000_000
FTP_USER = "bench"
FTP_PASSWORD = "bench-password"
# The fake FTP server accepts writes only in in/ folders.
FTP_FOLDER = "contacts/import/in"

Timed = Callable[[], None]


@dataclass
class Comparison:
    """Seconds per round for the client and for the baseline tool.

    `setup` is the median seconds each side spends connecting and closing
    without transferring anything, when it was measured.
    """

    label: str
    size: int
    client: list[float]
    baseline: list[float]
    setup: tuple[float, float] | None = None

    @property
    def ratio(self) -> float:
        """Client throughput over baseline throughput, from the median times."""
        return statistics.median(self.baseline) / statistics.median(self.client)

    @property
    def transfer_ratio(self) -> float | None:
        """The same ratio once each side's connection setup time is taken off."""
        if self.setup is None:
            return None
        client = statistics.median(self.client) - self.setup[0]
        baseline = statistics.median(self.baseline) - self.setup[1]
        return baseline / client

    def line(self) -> str:
        client_rate = self.size / statistics.median(self.client) / MEGABYTE
        baseline_rate = self.size / statistics.median(self.baseline) / MEGABYTE
        line = (
            f"{self.label:<30} {self.size // MEGABYTE:>4} MB  client {client_rate:6.1f} MB/s  "
            f"baseline {baseline_rate:6.1f} MB/s  ratio {self.ratio:5.2f}"
        )
        if self.transfer_ratio is not None:
            line += f"  without setup {self.transfer_ratio:5.2f}"
        return line


def seconds(action: Timed) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def interleave(
    label: str, size: int, rounds: int, client: Timed, baseline: Timed
) -> Comparison:
    """Time `client` and `baseline` alternately, starting with each in turn.

    One untimed run of each comes first, so that neither side pays alone for
    a cold page cache or a first connection.
    """
    client()
    baseline()
    result = Comparison(label, size, [], [])
    for index in range(rounds):
        pair = [(result.client, client), (result.baseline, baseline)]
        if index % 2:
            pair.reverse()
        for times, action in pair:
            times.append(seconds(action))
    return result


def make_file(path: Path, size: int) -> Path:
    """Write `size` random bytes, which no link layer can compress."""
    block = os.urandom(MEGABYTE)
    with path.open("wb") as stream:
        for _ in range(size // MEGABYTE):
            stream.write(block)
        stream.write(block[: size % MEGABYTE])
    return path


def client_connect(settings: ConnectionSettings) -> Timed:
    def run() -> None:
        open_transport(settings).close()

    return run


def client_put(settings: ConnectionSettings, source: Path, remote: str) -> Timed:
    def run() -> None:
        with open_transport(settings) as transport, source.open("rb") as stream:
            transport.put(stream, remote)

    return run


def client_get(settings: ConnectionSettings, remote: str, target: Path) -> Timed:
    def run() -> None:
        with open_transport(settings) as transport, target.open("wb") as stream:
            transport.get(remote, stream)

    return run


def run_quietly(command: list[str], stdin: str | None = None) -> Timed:
    def run() -> None:
        subprocess.run(command, input=stdin, text=True, check=True, capture_output=True)

    return run


@dataclass
class Side:
    """How the client and a baseline tool reach the same server folder."""

    protocol: str
    baseline: str
    settings: ConnectionSettings
    # The folder files go to, relative to the deposit root, and on this machine.
    remote_folder: str
    local_folder: Path
    # Called with (local source, remote name) and (remote name, local target).
    upload_baseline: Callable[[Path, str], Timed]
    download_baseline: Callable[[str, Path], Timed]


def compare_sizes(
    side: Side, work: Path, sizes: list[int], rounds: int
) -> list[Comparison]:
    """Time uploads, then downloads, of one file per size, client against baseline."""
    results = []
    for size in sizes:
        source = make_file(work / f"source-{size}.bin", size)
        download = work / "download.bin"
        results.append(
            interleave(
                f"{side.protocol} upload vs {side.baseline}",
                size,
                rounds,
                client_put(
                    side.settings, source, posixpath.join(side.remote_folder, ".up.bin")
                ),
                side.upload_baseline(source, ".up.bin"),
            )
        )
        shutil.copyfile(source, side.local_folder / "down.bin")
        results.append(
            interleave(
                f"{side.protocol} download vs {side.baseline}",
                size,
                rounds,
                client_get(
                    side.settings,
                    posixpath.join(side.remote_folder, "down.bin"),
                    download,
                ),
                side.download_baseline("down.bin", download),
            )
        )
        check_same(source, download)
        source.unlink()
    return results


# -- SFTP against OpenSSH --------------------------------------------------------------


def openssh_command(server: OpenSSHServer, known_hosts: Path) -> list[str]:
    return [
        "sftp",
        "-q",
        "-b",
        "-",
        "-i",
        str(server.client_key),
        "-P",
        str(server.port),
        "-o",
        f"UserKnownHostsFile={known_hosts}",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        f"{server.username}@127.0.0.1",
    ]


def compare_sftp(work: Path, sizes: list[int], rounds: int) -> list[Comparison]:
    root = work / "sftp-root"
    root.mkdir()
    with OpenSSHServer(work / "sshd") as server:
        known_hosts = server.write_known_hosts(work / "known_hosts")
        settings = ConnectionSettings(
            url=server.url(root), key_file=server.client_key, known_hosts=known_hosts
        )
        sftp = openssh_command(server, known_hosts)
        setup = interleave(
            "SFTP connect and close",
            0,
            max(rounds, 5),
            client_connect(settings),
            run_quietly(sftp, "bye\n"),
        )
        setup_medians = (
            statistics.median(setup.client),
            statistics.median(setup.baseline),
        )
        print(
            f"SFTP connect and close: client {setup_medians[0]:.3f} s, "
            f"OpenSSH sftp {setup_medians[1]:.3f} s (median of {len(setup.client)})"
        )
        side = Side(
            "SFTP",
            "OpenSSH sftp",
            settings,
            remote_folder="",
            local_folder=root,
            upload_baseline=lambda source, name: run_quietly(
                sftp, f"put {source} {root}/{name}\n"
            ),
            download_baseline=lambda name, target: run_quietly(
                sftp, f"get {root}/{name} {target}\n"
            ),
        )
        results = compare_sizes(side, work, sizes, rounds)
    for result in results:
        result.setup = setup_medians
    return results


# -- FTP against curl ----------------------------------------------------------------


def compare_ftp(work: Path, sizes: list[int], rounds: int) -> list[Comparison]:
    root = work / "ftp-root"
    for folder in all_remote_folders():
        (root / folder).mkdir(parents=True, exist_ok=True)
    front_end = FTPFrontEnd(root, lambda user, password: True, lambda path: None)
    front_end.start()
    try:
        base = f"ftp://127.0.0.1:{front_end.port}/{FTP_FOLDER}"
        settings = ConnectionSettings(
            url=f"ftp://{FTP_USER}@127.0.0.1:{front_end.port}/",
            password=FTP_PASSWORD,
        )
        curl = [
            "curl",
            "--silent",
            "--show-error",
            "--user",
            f"{FTP_USER}:{FTP_PASSWORD}",
        ]
        side = Side(
            "FTP",
            "curl",
            settings,
            remote_folder=FTP_FOLDER,
            local_folder=root / FTP_FOLDER,
            upload_baseline=lambda source, name: run_quietly(
                [*curl, "-T", str(source), f"{base}/{name}"]
            ),
            download_baseline=lambda name, target: run_quietly(
                [*curl, "-o", str(target), f"{base}/{name}"]
            ),
        )
        results = compare_sizes(side, work, sizes, rounds)
    finally:
        front_end.stop()
    return results


def check_same(source: Path, copy: Path) -> None:
    if source.stat().st_size != copy.stat().st_size:
        raise SystemExit(
            f"{copy} has {copy.stat().st_size} bytes, expected {source.stat().st_size}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[20, 200],
        help="file sizes in MB (10^6 bytes)",
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="timed rounds per tool and direction"
    )
    parser.add_argument("--skip-ftp", action="store_true", help="compare SFTP only")
    arguments = parser.parse_args()
    # The plain-FTP warning would print once per timed connection.
    logging.getLogger("digitaleo_client").setLevel(logging.ERROR)
    sizes = [size * MEGABYTE for size in arguments.sizes]

    reason = sshd_missing_reason()
    if reason is not None or shutil.which("sftp") is None:
        raise SystemExit(
            f"cannot compare with OpenSSH: {reason or 'sftp is not installed'}"
        )
    with tempfile.TemporaryDirectory(prefix="bench-transfer-") as folder:
        work = Path(folder)
        results = compare_sftp(work, sizes, arguments.rounds)
        if arguments.skip_ftp:
            pass
        elif shutil.which("curl") is None:
            print("curl is not installed: FTP comparison skipped", file=sys.stderr)
        else:
            results += compare_ftp(work, sizes, arguments.rounds)

    print(
        f"median of {arguments.rounds} rounds, connection setup included; ratio > 1: client faster"
    )
    for result in results:
        print(result.line())


if __name__ == "__main__":
    main()
