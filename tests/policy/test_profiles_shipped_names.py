"""A shipped profile name always resolves to the shipped profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from jbgrade import load_profile


def test_shipped_name_wins_over_a_file_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = load_profile("lab-frontier")
    (tmp_path / "lab-frontier").write_text("id: not-a-profile\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_profile("lab-frontier").bundle_sha256 == shipped.bundle_sha256


def test_a_path_still_loads_a_file(tmp_path: Path) -> None:
    src = Path(__file__).resolve().parents[2] / "examples" / "policies" / "lab-frontier-v2.yaml"
    copy = tmp_path / "mine.yaml"
    copy.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_profile(str(copy)).id == "lab-frontier"
