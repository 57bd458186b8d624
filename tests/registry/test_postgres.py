"""PostgreSQL hardening: audit rows are append-only for everyone (triggers) and the
application role lacks UPDATE/DELETE/TRUNCATE on them (privileges)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from jbgrade import DatabaseError
from jbgrade.registry import Keyring, Registry, create_app_role, make_engine


@pytest.fixture
def pg(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    return engine


@pytest.fixture
def app_engine(pg: Engine) -> Iterator[Engine]:
    role = f"jbgrade_app_{secrets.token_hex(4)}"
    create_app_role(pg, role)
    eng = make_engine(pg.url.set(username=role).render_as_string(hide_password=False))
    try:
        yield eng
    finally:
        eng.dispose()
        with pg.begin() as c:
            c.exec_driver_sql(f"DROP OWNED BY {role}")
            c.exec_driver_sql(f"DROP ROLE {role}")


@pytest.mark.parametrize(
    "stmt",
    [
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "DELETE FROM audit_head",
        "TRUNCATE audit_head CASCADE",
    ],
)
def test_triggers_reject_rewrites_even_for_the_owner(pg: Engine, stmt: str) -> None:
    reg = Registry(pg, Keyring.generate())
    reg.bootstrap("Op", "root")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), pg.begin() as c:
        c.exec_driver_sql(stmt)
    assert reg.verify_audit().ok


@pytest.mark.parametrize(
    "stmt", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"]
)
def test_app_role_cannot_rewrite_audit_rows(app_engine: Engine, stmt: str) -> None:
    with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), app_engine.begin() as c:
        c.exec_driver_sql(stmt)


def test_app_role_runs_the_registry(app_engine: Engine) -> None:
    reg = Registry(app_engine, Keyring.generate())
    admin, _ = reg.bootstrap("Op", "root")
    c = reg.report_case(admin, title="t", payload="p")
    reg.transition(admin, c.id, "triaged")
    with app_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one() >= 4
    assert reg.verify_audit().ok


def test_app_role_name_is_checked(pg: Engine) -> None:
    with pytest.raises(DatabaseError, match="role name"):
        create_app_role(pg, "x; DROP TABLE cases")
