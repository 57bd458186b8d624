"""Issue 14, point 6: the small things that cost trust, each refused cleanly."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_rubric_cli import assert_one_line_error, run

pytest.importorskip("sqlalchemy")
ROOT = Path(__file__).resolve().parents[2]


def test_mistyped_database_path_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "registry.db"
    for args in (
        ("audit", "verify", "--db", f"sqlite:///{missing}"),
        ("keys", "status", "--db", f"sqlite:///{missing}"),
        ("user", "list", "--db", f"sqlite:///{missing}"),
        ("dispute", "--db", f"sqlite:///{missing}", "--case", "c", "--token", "t"),
    ):
        p = run(*args)
        assert_one_line_error(p, "no registry database at")
    assert not (tmp_path / "no").exists()


def test_db_upgrade_never_overwrites_a_non_database(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n")
    p = run("db", "upgrade", "--db", f"sqlite:///{notes}")
    assert_one_line_error(p, "not a SQLite database")
    assert notes.read_text() == "my notes, not a database\n"


def test_registry_database_is_private(tmp_path: Path) -> None:
    db = tmp_path / "registry.db"
    p = run("db", "upgrade", "--db", f"sqlite:///{db}")
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_target_serve_port_out_of_range_is_a_usage_error() -> None:
    p = run("target", "serve", "--port", "99999")
    assert_one_line_error(p, "--port", "65535")


def test_serve_on_a_busy_port_creates_and_prints_nothing(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
        env.pop("JBGRADE_DATABASE_URL", None)
        data = str(tmp_path / "data")
        p = subprocess.run(
            [sys.executable, "-m", "jbgrade", "serve", "--port", str(port), "--data-dir", data],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert_one_line_error(p, f"cannot listen on 127.0.0.1:{port}")
    assert "password" not in p.stdout + p.stderr
    assert not (tmp_path / "data").exists()


def test_keys_status_refuses_a_garbage_key_file(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    assert run("db", "upgrade", "--db", f"sqlite:///{db}").returncode == 0
    garbage = tmp_path / "keys.json"
    garbage.write_text("this is not a key file")
    p = run("keys", "status", "--db", f"sqlite:///{db}", "--key-file", str(garbage))
    assert_one_line_error(p, str(garbage))


def test_version_short_help_completion_and_json_everywhere() -> None:
    import json

    from jbgrade import __version__

    p = run("--version")
    assert p.returncode == 0 and p.stdout.strip() == f"jbgrade {__version__}"
    assert run("-h").returncode == 0 and "Usage: jbgrade" in run("-h").stdout
    assert "Usage: jbgrade score" in run("score", "-h").stdout
    assert "--install-completion" in run("--help").stdout
    top = "JBG:1.0/LY:F/UN:U/RL:H/TR:M/HD:C/UP:F/AG:A/AC:L/AU:Y/EX:O/ST:A"
    for args, check in (
        (("explain", top, "--json"), lambda d: d["severity"] == "Critical"),
        (("schema", "list", "--json"), lambda d: any(s["name"] == "case" for s in d)),
        (("target", "types", "--json"), lambda d: "reference" in d),
        (("rubric", "check", "--json"), lambda d: d["ok"] is True),
    ):
        p = run(*args)
        assert p.returncode == 0, p.stderr
        assert check(json.loads(p.stdout)), args


def test_keys_status_json(tmp_path: Path) -> None:
    import json

    db = tmp_path / "r.db"
    assert run("db", "upgrade", "--db", f"sqlite:///{db}").returncode == 0
    keys = tmp_path / "k.json"
    assert run("keys", "generate", "--out", str(keys)).returncode == 0
    p = run("keys", "status", "--db", f"sqlite:///{db}", "--key-file", str(keys), "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["active"] and d["keys"] == []


def test_serve_takes_the_same_key_file_option(tmp_path: Path) -> None:
    garbage = tmp_path / "keys.json"
    garbage.write_text("not a key file")
    p = run("serve", "--port", "0", "--data-dir", str(tmp_path / "d"), "--key-file", str(garbage))
    assert_one_line_error(p, str(garbage))
