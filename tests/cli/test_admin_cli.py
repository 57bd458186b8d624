"""``jbgrade org | user | token``: adding the second party from the command line,
with organisation isolation applied to the acting user."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_rubric_cli import assert_one_line_error, run

pytest.importorskip("sqlalchemy")


@pytest.fixture
def url(tmp_path: Path) -> str:
    from jbgrade.registry import Registry, make_engine, upgrade

    u = f"sqlite:///{tmp_path / 'reg.db'}"
    engine = make_engine(u)
    upgrade(engine)
    Registry(engine).bootstrap("Registry operator", "root")
    engine.dispose()
    return u


def test_add_the_second_party(url: str) -> None:
    p = run("org", "add", "Lab B", "--kind", "lab", "--db", url, "--json")
    assert p.returncode == 0, p.stderr
    org = json.loads(p.stdout)
    assert org["name"] == "Lab B"
    p = run("user", "add", "b-admin", "--org", "Lab B", "--role", "admin", "--db", url, "--json")
    assert p.returncode == 0, p.stderr
    user = json.loads(p.stdout)
    assert user["org_id"] == org["id"] and user["role"] == "admin" and len(user["password"]) >= 12
    p = run("token", "issue", "b-admin", "--name", "ci", "--db", url, "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["token"].startswith("jbg_")
    # Lab B's admin manages Lab B only: a user in the operators' organisation is refused.
    p = run("user", "add", "mole", "--org", "Registry operator", "--as", "b-admin", "--db", url)
    assert_one_line_error(p, "may not create")
    p = run("user", "list", "--as", "b-admin", "--db", url, "--json")
    assert [u["username"] for u in json.loads(p.stdout)] == ["b-admin"]
    p = run("user", "deactivate", "b-admin", "--db", url)
    assert p.returncode == 0 and "deactivated" in p.stdout
    p = run("user", "list", "--as", "b-admin", "--db", url)
    assert_one_line_error(p, "no active user")
