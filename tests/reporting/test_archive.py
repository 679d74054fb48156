"""Safe unpacking of report zips: every hostile zip is rejected, nothing leaks."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from report_zips import cp437_info, fifo_info, raw_name_info, symlink_info, write_zip

from digitaleo_client.errors import CorruptReport, HostileReport
from digitaleo_client.reporting.archive import ExtractionLimits, extract_report

CSV = b"Email\na@example.com\n"


def tree(root: Path) -> list[str]:
    """List every path under `root`, relative, sorted."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """A folder holding only the zip's folder `in/` and the destination's parent."""
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    return tmp_path


def test_unpacks_plain_zip(sandbox: Path) -> None:
    zip_path = write_zip(
        sandbox / "in" / "r.zip",
        [("EMAIL_opened.csv", CSV), ("SMS_optout.csv", b"Mobile\n0612345678\n")],
    )

    files = extract_report(zip_path, sandbox / "out" / "r")

    assert [path.name for path in files] == ["EMAIL_opened.csv", "SMS_optout.csv"]
    assert (sandbox / "out" / "r" / "EMAIL_opened.csv").read_bytes() == CSV
    assert tree(sandbox / "out") == ["r", "r/EMAIL_opened.csv", "r/SMS_optout.csv"]


def test_unpack_replaces_previous_content(sandbox: Path) -> None:
    destination = sandbox / "out" / "r"
    destination.mkdir()
    (destination / "EMAIL_old.csv").write_bytes(b"Email\n")
    zip_path = write_zip(sandbox / "in" / "r.zip", [("EMAIL_opened.csv", CSV)])

    extract_report(zip_path, destination)

    assert tree(sandbox / "out") == ["r", "r/EMAIL_opened.csv"]


def test_unpacks_nested_folders(sandbox: Path) -> None:
    zip_path = write_zip(
        sandbox / "in" / "r.zip", [("sub/", b""), ("sub/EMAIL_opened.csv", CSV)]
    )

    extract_report(zip_path, sandbox / "out" / "r")

    assert tree(sandbox / "out") == ["r", "r/sub", "r/sub/EMAIL_opened.csv"]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        pytest.param(
            [("../EMAIL_opened.csv", CSV)], "climbs out with '..'", id="parent"
        ),
        pytest.param(
            [("a/../../EMAIL_opened.csv", CSV)],
            "climbs out with '..'",
            id="nested-parent",
        ),
        pytest.param(
            [("..\\EMAIL_opened.csv", CSV)],
            "climbs out with '..'",
            id="backslash-parent",
        ),
        pytest.param(
            [("/tmp/EMAIL_opened.csv", CSV)], "with an absolute path", id="absolute"
        ),
        pytest.param(
            [("\\tmp\\EMAIL_opened.csv", CSV)],
            "with an absolute path",
            id="absolute-backslash",
        ),
        pytest.param(
            [("C:/EMAIL_opened.csv", CSV)], "with an absolute path", id="drive"
        ),
        pytest.param(
            [("c:EMAIL_opened.csv", CSV)], "with an absolute path", id="drive-relative"
        ),
        pytest.param([("./", b"")], "with an empty path", id="empty"),
        pytest.param(
            [(symlink_info("EMAIL_opened.csv"), b"/etc/passwd")],
            "is a symbolic link",
            id="symlink",
        ),
        pytest.param(
            [(fifo_info("EMAIL_opened.csv"), b"")], "is a special file", id="fifo"
        ),
        pytest.param(
            [("EMAIL_opened.csv", CSV), ("EMAIL_opened.csv", CSV)],
            "with the same name",
            id="duplicate",
        ),
        pytest.param(
            [("EMAIL_opened.csv", CSV), ("email_OPENED.CSV", CSV)],
            "with the same name",
            id="duplicate-case",
        ),
        pytest.param(
            [("EMAIL_ouvert\u00e9.csv", CSV), ("EMAIL_ouverte\u0301.csv", CSV)],
            "with the same name",
            id="duplicate-unicode-normalization",
        ),
        pytest.param(
            [("a", CSV), ("a/EMAIL_opened.csv", CSV)],
            "both a file and a folder",
            id="file-and-folder",
        ),
    ],
)
@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_rejects_hostile_entry(sandbox: Path, entries: list, message: str) -> None:
    zip_path = sandbox / "in" / "r.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        for name, content in entries:
            if isinstance(name, str) and name.endswith("/"):
                archive.writestr(zipfile.ZipInfo(name), content)
            else:
                archive.writestr(name, content)

    with pytest.raises(HostileReport) as raised:
        extract_report(zip_path, sandbox / "out" / "r")

    assert message in str(raised.value)
    assert str(zip_path) in str(raised.value)
    assert "was not unpacked" in str(raised.value)
    assert tree(sandbox / "out") == []
    assert tree(sandbox / "in") == ["r.zip"]


def test_rejects_nul_in_name(sandbox: Path) -> None:
    zip_path = sandbox / "in" / "r.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr(raw_name_info(b"EMAIL_opened.csv\x00../../x"), CSV)

    with pytest.raises(HostileReport, match="contains a NUL byte"):
        extract_report(zip_path, sandbox / "out" / "r")

    assert tree(sandbox / "out") == []


def test_rejects_zip_bomb_by_ratio(sandbox: Path) -> None:
    # 20 MB of zeros deflate to about 20 KB, a ratio near 1,000.
    zip_path = write_zip(
        sandbox / "in" / "r.zip", [("EMAIL_opened.csv", bytes(20_000_000))]
    )

    with pytest.raises(HostileReport) as raised:
        extract_report(zip_path, sandbox / "out" / "r")

    assert "'EMAIL_opened.csv' that unpacks" in str(raised.value)
    assert "(20000000 bytes), over the bound of 200" in str(raised.value)
    assert tree(sandbox / "out") == []


def test_small_entry_ignores_ratio(sandbox: Path) -> None:
    # 1,000 zeros compress about 100 times, but small entries cannot harm.
    zip_path = write_zip(
        sandbox / "in" / "r.zip", [("EMAIL_opened.csv", bytes(100_000))]
    )

    extract_report(zip_path, sandbox / "out" / "r", ExtractionLimits(max_ratio=2))

    assert (sandbox / "out" / "r" / "EMAIL_opened.csv").stat().st_size == 100_000


def test_rejects_total_size_over_bound(sandbox: Path) -> None:
    zip_path = write_zip(
        sandbox / "in" / "r.zip",
        [("EMAIL_opened.csv", b"x" * 600), ("SMS_opened.csv", b"y" * 500)],
    )

    with pytest.raises(HostileReport) as raised:
        extract_report(
            zip_path, sandbox / "out" / "r", ExtractionLimits(max_total_bytes=1_000)
        )

    assert "unpacks to 1100 bytes, over the bound of 1000 bytes" in str(raised.value)
    assert tree(sandbox / "out") == []


def test_rejects_too_many_entries(sandbox: Path) -> None:
    entries = [(f"EMAIL_e{index}.csv", CSV) for index in range(4)]
    zip_path = write_zip(sandbox / "in" / "r.zip", entries)

    with pytest.raises(HostileReport, match="has 4 entries, over the bound of 3"):
        extract_report(zip_path, sandbox / "out" / "r", ExtractionLimits(max_entries=3))


def test_rejects_truncated_zip(sandbox: Path) -> None:
    zip_path = write_zip(sandbox / "in" / "r.zip", [("EMAIL_opened.csv", CSV * 50)])
    data = zip_path.read_bytes()
    zip_path.write_bytes(data[: len(data) // 2])

    with pytest.raises(CorruptReport) as raised:
        extract_report(zip_path, sandbox / "out" / "r")

    assert "is not a readable zip (File is not a zip file)" in str(raised.value)
    assert "the next pull downloads it again" in str(raised.value)
    assert tree(sandbox / "out") == []


def test_rejects_corrupt_entry_data(sandbox: Path) -> None:
    content = os.urandom(4_000)
    zip_path = sandbox / "in" / "r.zip"
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("EMAIL_opened.csv", content)
    data = bytearray(zip_path.read_bytes())
    start = data.index(content)
    data[start + 100] ^= 0xFF
    zip_path.write_bytes(bytes(data))

    with pytest.raises(CorruptReport) as raised:
        extract_report(zip_path, sandbox / "out" / "r")

    assert "entry 'EMAIL_opened.csv' that cannot be read (Bad CRC-32" in str(
        raised.value
    )
    assert tree(sandbox / "out") == []


def test_rejects_encrypted_entry(sandbox: Path) -> None:
    zip_path = write_zip(sandbox / "in" / "r.zip", [("EMAIL_opened.csv", CSV)])
    data = bytearray(zip_path.read_bytes())
    # Set bit 0 (encrypted) of the general purpose flags in the central directory.
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x01
    zip_path.write_bytes(bytes(data))

    with pytest.raises(CorruptReport, match="'EMAIL_opened.csv' that is encrypted"):
        extract_report(zip_path, sandbox / "out" / "r")


def test_rejected_zip_keeps_previous_content(sandbox: Path) -> None:
    destination = sandbox / "out" / "r"
    destination.mkdir()
    (destination / "EMAIL_opened.csv").write_bytes(CSV)
    zip_path = write_zip(sandbox / "in" / "r.zip", [("../EMAIL_opened.csv", CSV)])

    with pytest.raises(HostileReport):
        extract_report(zip_path, destination)

    assert tree(sandbox / "out") == ["r", "r/EMAIL_opened.csv"]


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        pytest.param(
            cp437_info("EMAIL_d\u00e9sabonn\u00e9.csv"),
            "EMAIL_d\u00e9sabonn\u00e9.csv",
            id="cp437",
        ),
        # Bytes of UTF-8 "é" (C3 A9) without the flag read as cp437 "├⌐".
        pytest.param(
            raw_name_info(b"EMAIL_d\xc3\xa9sabonn\xc3\xa9.csv"),
            "EMAIL_d\u251c\u2310sabonn\u251c\u2310.csv",
            id="utf8-bytes-without-flag",
        ),
        pytest.param(
            zipfile.ZipInfo("EMAIL_d\u00e9sabonn\u00e9.csv"),
            "EMAIL_d\u00e9sabonn\u00e9.csv",
            id="utf8-flag",
        ),
    ],
)
def test_entry_name_encoding(
    sandbox: Path, info: zipfile.ZipInfo, expected: str
) -> None:
    zip_path = sandbox / "in" / "r.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr(info, CSV)

    files = extract_report(zip_path, sandbox / "out" / "r")

    assert [path.name for path in files] == [expected]


def test_rejects_invalid_utf8_flagged_name(sandbox: Path) -> None:
    zip_path = sandbox / "in" / "r.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("EMAIL_\u00e9.csv"), CSV)
    data = zip_path.read_bytes().replace("\u00e9".encode(), b"\xff\xfe")
    zip_path.write_bytes(data)

    with pytest.raises(CorruptReport, match="flagged UTF-8 that is not UTF-8"):
        extract_report(zip_path, sandbox / "out" / "r")
