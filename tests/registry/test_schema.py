"""Migrations create exactly the models' schema; `jbgrade db upgrade` works; bad URLs
fail in one line; the seed helper builds a registry that verifies."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from jbgrade import DatabaseError
from jbgrade.cli import main
from jbgrade.registry import (
    HEAD_REVISION,
    Registry,
    current_revision,
    make_engine,
    resolve_database_url,
    seed_cases,
)
from jbgrade.registry._models import Base


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    assert current_revision(engine) == HEAD_REVISION
    with engine.connect() as c:
        diff = compare_metadata(
            MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_db_upgrade_cli_and_fresh_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'reg.db'}"
    with pytest.raises(SystemExit) as ex:
        main(["db", "upgrade", "--db", url])
    assert ex.value.code == 0
    assert "revision 0004" in capsys.readouterr().out
    eng = make_engine(url)
    with eng.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    eng.dispose()
    with pytest.raises(SystemExit) as ex:  # idempotent
        main(["db", "upgrade", "--db", url])
    assert ex.value.code == 0


def test_unmigrated_database_is_refused(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(DatabaseError, match="jbgrade db upgrade"):
        Registry(eng)
    eng.dispose()


def test_database_url_resolution(tmp_path: Path) -> None:
    assert resolve_database_url("sqlite:///x.db", env={}) == "sqlite:///x.db"
    env = {"JBGRADE_DATABASE_URL": "postgresql://u@h/db"}
    assert resolve_database_url(None, env=env) == "postgresql://u@h/db"
    env2 = {"JBGRADE_DATA_DIR": str(tmp_path)}
    assert resolve_database_url(None, env=env2) == f"sqlite:///{tmp_path}/registry.db"
    with pytest.raises(DatabaseError, match="unsupported"):
        make_engine("mysql://u@h/db")
    with pytest.raises(DatabaseError, match="not a database URL"):
        make_engine("::nonsense::")


def test_bad_db_url_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ex:
        main(["audit", "verify", "--db", "postgresql://nobody:secretpw@127.0.0.1:1/x"])
    assert ex.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "secretpw" not in err[0] and "cannot open" in err[0]


def test_seed_builds_a_consistent_registry(registry: Registry) -> None:
    res = seed_cases(registry, 300, labs=3, batch=128)
    assert res.cases == 300 and 150 < res.assessments < 270
    assert registry.verify_audit().ok
    page = registry.list_cases(res.reporter, limit=500, with_total=True)
    assert page.total == 300  # the reporting org sees all, embargoed or not
    outsider = registry.list_cases(res.outsider, limit=500, with_total=True)
    assert outsider.total is not None and 200 < outsider.total < 300  # embargoed hidden
    a = registry.list_assessments(res.lab_assessor, page.items[0].id)
    assert all(x.version == 1 for x in a)
