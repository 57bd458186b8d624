"""Issue 14: the default key file lives apart from registry.db (design 0201), with a
migration for installs that kept it beside the database."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_rubric_cli import assert_one_line_error

pytest.importorskip("sqlalchemy")
ROOT = Path(__file__).resolve().parents[2]


def _env(tmp: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
    for var in ("JBGRADE_DATABASE_URL", "JBGRADE_KEY", "JBGRADE_KEY_FILE"):
        env.pop(var, None)
    env["JBGRADE_DATA_DIR"] = str(tmp / "data")
    env["JBGRADE_KEY_DIR"] = str(tmp / "config" / "jbgrade")
    return env


def jb(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jbgrade", *args],
        capture_output=True,
        text=True,
        env=_env(tmp),
        timeout=120,
        check=False,
    )


def _registry_with_a_sealed_payload(tmp: Path) -> str:
    """A data directory whose registry.db holds one payload sealed under a legacy key
    file kept beside it (as installs before design 0201 did); returns its key id."""
    from jbgrade.registry import Keyring, Registry, make_engine, upgrade

    data = tmp / "data"
    data.mkdir(parents=True)
    ring = Keyring.generate()
    ring.save(data / "keys.json")
    eng = make_engine(f"sqlite:///{data / 'registry.db'}")
    upgrade(eng)
    reg = Registry(eng, ring)
    admin, _ = reg.bootstrap("Org", "root")
    reg.report_case(admin, title="t", payload="PLACEHOLDER-CANARY")
    eng.dispose()
    return ring.active


def test_keys_status_moves_a_legacy_key_file_out_of_the_data_directory(tmp_path: Path) -> None:
    kid = _registry_with_a_sealed_payload(tmp_path)
    legacy = tmp_path / "data" / "keys.json"
    body = legacy.read_bytes()
    new = tmp_path / "config" / "jbgrade" / "keys.json"
    p = jb(tmp_path, "keys", "status", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["keys"] == [{"id": kid, "values": 1, "held": True}]
    assert p.stderr == f"jbgrade: warning: moved the key file {legacy} to {new}: " + (
        "a copy of the data directory no longer carries the key (back the key file up on its own)\n"
    )
    assert not legacy.exists() and new.read_bytes() == body
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    # Moved once: the next command says nothing and finds the key in its new place.
    again = jb(tmp_path, "keys", "status", "--json")
    assert again.returncode == 0 and again.stderr == ""
    assert json.loads(again.stdout)["keys"][0]["held"] is True
    # Commands that need the key open the registry with the moved file.
    cases = jb(tmp_path, "keys", "rotate")
    assert cases.returncode == 0, cases.stderr
    assert Path(new).read_bytes() != body  # rotated in its new place


def test_two_different_key_files_are_refused_not_guessed(tmp_path: Path) -> None:
    _registry_with_a_sealed_payload(tmp_path)
    other = tmp_path / "config" / "jbgrade" / "keys.json"
    assert jb(tmp_path, "keys", "generate", "--out", str(other)).returncode == 0
    p = jb(tmp_path, "keys", "status")
    assert_one_line_error(p, "two different key files", str(tmp_path / "data" / "keys.json"))
    assert (tmp_path / "data" / "keys.json").exists()  # nothing moved or deleted


def test_serve_never_pairs_a_fresh_key_with_sealed_values(tmp_path: Path) -> None:
    kid = _registry_with_a_sealed_payload(tmp_path)
    (tmp_path / "data" / "keys.json").unlink()  # the key left behind on another machine
    p = jb(tmp_path, "serve", "--port", "0")
    assert_one_line_error(p, f"encrypted under {kid}", "--key-file")
    assert not (tmp_path / "config").exists()  # no fresh key file was written


def test_serve_creates_the_key_file_in_the_key_directory(tmp_path: Path) -> None:
    from tests.web.conftest import start_server, stop_server

    data = tmp_path / "served"
    srv = start_server(data)
    try:
        keys = data.with_name("served-keys") / "keys.json"
        assert keys.is_file() and stat.S_IMODE(keys.stat().st_mode) == 0o600
        assert stat.S_IMODE(keys.parent.stat().st_mode) == 0o700
        assert not (data / "keys.json").exists()
        assert (data / "registry.db").is_file()
        assert f"created the encryption key file {keys}" in srv.text()
    finally:
        stop_server(srv)
