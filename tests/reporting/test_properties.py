"""Properties of safe names and safe unpacking, over generated input."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digitaleo_client.errors import ReportError
from digitaleo_client.reporting.archive import extract_report
from digitaleo_client.reporting.names import safe_file_name

UNSAFE = set('/\\:*?"<>|') | {chr(code) for code in range(32)} | {"\x7f"}

# Entry names built from path pieces that attackers combine.
PIECES = st.sampled_from(["..", ".", "", "a", "B", "C:", "é", "x.csv", " ", "~"])
ENTRY_NAMES = st.lists(PIECES, min_size=1, max_size=5).flatmap(
    lambda parts: st.sampled_from(["/", "\\"]).map(
        lambda separator: separator.join(parts)
    )
)


@given(st.text(max_size=300))
def test_safe_file_name_is_safe(name: str) -> None:
    safe = safe_file_name(name)

    assert not set(safe) & UNSAFE
    assert safe == safe.strip(" .")
    assert len(safe.encode("utf-8")) <= 120


@pytest.mark.filterwarnings("ignore:Duplicate name")
@settings(max_examples=150, deadline=None)
@given(st.lists(ENTRY_NAMES, min_size=1, max_size=4))
def test_unpacking_stays_inside(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        zip_path = root / "r.zip"
        with zipfile.ZipFile(zip_path, "w") as archive:
            for name in names:
                archive.writestr(zipfile.ZipInfo(name), b"x")
        destination = root / "out" / "r"
        destination.parent.mkdir()

        try:
            extract_report(zip_path, destination)
        except ReportError:
            assert sorted(path.name for path in root.iterdir()) == ["out", "r.zip"]
            assert list((root / "out").iterdir()) == []
            return

        outside = [
            path
            for path in root.rglob("*")
            if path != zip_path and not path.is_relative_to(root / "out")
        ]
        assert outside == []
        assert [path.name for path in (root / "out").iterdir()] == ["r"]
