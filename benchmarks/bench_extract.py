"""Benchmark: safe unpacking of a report zip, against zipfile's extractall.

Builds a report zip of two event CSVs in the deposit's format (default
1,000,000 contacts in the first, a third of them in the second), then times
in the same run, best of `--repeat`:

- baseline: zipfile.ZipFile.extractall into a fresh folder;
- extract_report: the entry checks, the staging folder and its rename.

    python benchmarks/bench_extract.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from digitaleo_client.reporting.archive import extract_report


def build_zip(path: Path, rows: int) -> int:
    """Write the report zip; return the bytes its entries unpack to."""
    rng = random.Random(1)
    lines = [
        f"P{rng.randrange(10**6)};N{rng.randrange(10**6)};user{index}@example.com;"
        f"06{rng.randrange(10**8):08d}\n"
        for index in range(rows)
    ]
    opened = ("Prénom;Nom;Email;Mobile\n" + "".join(lines)).encode("iso-8859-1")
    clicked = opened[: len(opened) // 3]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("EMAIL_opened.csv", opened)
        archive.writestr("EMAIL_clicked.csv", clicked)
    return len(opened) + len(clicked)


def best_of(repeat: int, run: Callable[[], None]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-extract-") as folder:
        root = Path(folder)
        zip_path = root / "report.zip"
        unpacked = build_zip(zip_path, arguments.rows)
        zip_size = zip_path.stat().st_size
        (root / "safe").mkdir()

        def baseline() -> None:
            target = root / "plain"
            shutil.rmtree(target, ignore_errors=True)
            with zipfile.ZipFile(zip_path) as archive:
                archive.extractall(target)

        plain = best_of(arguments.repeat, baseline)
        safe = best_of(
            arguments.repeat, lambda: extract_report(zip_path, root / "safe" / "r")
        )

    print(f"zip: {zip_size:,} bytes, unpacked: {unpacked:,} bytes")
    print(f"zipfile.extractall: {plain:.3f} s")
    print(f"extract_report:     {safe:.3f} s ({safe / plain:.2f} x the baseline)")


if __name__ == "__main__":
    main()
