"""Import generated contacts through the fake deposit's processor and time it.

Each contact has an e-mail, a mobile and a fixed phone, all valid and all
distinct, so every row goes through full validation and is created. The
rows are split into deposit files of at most 20,000,000 bytes, the deposit's
limit per file, and each file is processed as the server does it (in -> on
-> ok, one SQLite transaction per file).

For scale, two baselines run in the same process: the csv module alone
reads every file, and ContactValidator alone judges a sample of the rows.
Validation is most of the processor's work, so judging every row twice
would double the run time.

    python benchmarks/bench_processor.py            # 1,000,000 contacts
    python benchmarks/bench_processor.py --rows 50000
"""

from __future__ import annotations

import argparse
import collections
import csv
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from digitaleo_client.contacts import validation
from digitaleo_client.contacts.account import AccountSettings
from digitaleo_client.contacts.validation import ContactValidator
from digitaleo_client.deposit import MAX_PART_BYTES
from fake_server.clock import ManualClock
from fake_server.config import load_server_config
from fake_server.processor import Processor
from fake_server.store import Store

# Rows judged by the validation baseline.
VALIDATION_SAMPLE = 20_000

HEADER = "Email;Mobile;Téléphone Fixe;Prénom;Nom\n"


def contact_line(index: int) -> str:
    """Return one deposit row with valid, distinct means of contact."""
    mobile = (
        f"06 12 {index // 10000 % 100:02d} {index // 100 % 100:02d} {index % 100:02d}"
    )
    fixed = (
        f"01.45.{index // 10000 % 100:02d}.{index // 100 % 100:02d}.{index % 100:02d}"
    )
    return f"client.{index}@example.com;{mobile};{fixed};Hélène;Dupont-{index}\n"


def write_parts(folder: Path, rows: int) -> list[Path]:
    """Write `rows` contacts as ISO-8859-1 files of at most MAX_PART_BYTES each."""
    parts: list[Path] = []
    index = 0
    while index < rows:
        path = folder / f"contacts-{len(parts) + 1:03d}.csv"
        size = len(HEADER.encode("iso-8859-1"))
        with path.open("w", encoding="iso-8859-1", newline="") as stream:
            stream.write(HEADER)
            while index < rows:
                line = contact_line(index)
                size += len(line.encode("iso-8859-1"))
                if size > MAX_PART_BYTES:
                    break
                stream.write(line)
                index += 1
        parts.append(path)
    return parts


def csv_baseline(parts: list[Path]) -> float:
    """Return the seconds the csv module alone takes to read every part."""
    started = time.perf_counter()
    for path in parts:
        with path.open(encoding="iso-8859-1", newline="") as stream:
            for _ in csv.reader(stream, delimiter=";"):
                pass
    return time.perf_counter() - started


def validation_baseline(parts: list[Path], sample: int) -> tuple[int, float]:
    """Return how many rows ContactValidator judged and the seconds it took.

    The validation module's caches are emptied first, because the processor
    has just judged the same values.
    """
    with parts[-1].open(encoding="iso-8859-1", newline="") as stream:
        rows = collections.deque(csv.DictReader(stream, delimiter=";"), maxlen=sample)
    for function in vars(validation).values():
        if hasattr(function, "cache_clear"):
            function.cache_clear()
    validator = ContactValidator(AccountSettings())
    started = time.perf_counter()
    for row in rows:
        validator.check(row)
    return len(rows), time.perf_counter() - started


def run(rows: int, work: Path) -> None:
    source = work / "source"
    source.mkdir()
    parts = write_parts(source, rows)
    baseline = csv_baseline(parts)

    root = work / "root"
    store = Store.for_root(root)
    processor = Processor(
        root, load_server_config(None), store, ManualClock(1_700_000_000)
    )
    processor.ensure_layout()
    created = invalid = 0
    started = time.perf_counter()
    started_cpu = time.process_time()
    for part in parts:
        deposited = root / "contacts/import/in" / part.name
        shutil.copyfile(part, deposited)
        record = processor.process(deposited)
        if record["stage"] != "ok":
            raise SystemExit(f"{part.name} went to ko/: {record['reason']}")
        created += record["counts"]["created"]
        invalid += record["counts"]["invalid"]
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - started_cpu
    store.close()
    # Taken before the validation baseline, which keeps its sample in memory.
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sampled, validation_seconds = validation_baseline(parts, VALIDATION_SAMPLE)

    rate = rows / elapsed
    baseline_rate = rows / baseline
    print(f"contacts:            {rows:,} in {len(parts)} files")
    print(f"created / invalid:   {created:,} / {invalid:,}")
    print(f"processor:           {elapsed:.1f} s, {rate:,.0f} contacts/s")
    # On a busy machine the wall-clock rate drops; the CPU rate much less.
    print(
        f"processor CPU time:  {cpu:.1f} s, {rows / cpu:,.0f} contacts per CPU second"
    )
    print(f"csv module alone:    {baseline:.1f} s, {baseline_rate:,.0f} rows/s")
    print(f"processor / csv:     {rate / baseline_rate:.4f}")
    validation_rate = sampled / validation_seconds
    print(f"validation alone:    {validation_rate:,.0f} rows/s on {sampled:,} rows")
    print(f"processor / validation: {rate / validation_rate:.2f}")
    print(f"peak memory (RSS):   {peak_mib:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=1_000_000,
        help="number of contacts (default 1,000,000)",
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-processor-") as work:
        run(arguments.rows, Path(work))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
