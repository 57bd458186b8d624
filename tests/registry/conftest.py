"""Registry fixtures: every test that takes ``engine`` runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``JBGRADE_TEST_PG_URL`` (``.ci/run`` starts one). Each test
gets a fresh database cloned from a migrated template (``CREATE DATABASE ...
TEMPLATE``), so tests cannot see each other and parallel runs cannot collide.
Without the URL the PostgreSQL half skips locally and fails in CI
(``JBGRADE_REQUIRE_PG=1``).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from jbgrade.registry import ROLES, Actor, Keyring, Registry, make_engine, upgrade
from tests.conftest import require_or_skip

PG_URL = os.environ.get("JBGRADE_TEST_PG_URL")


class Clock:
    """A settable clock: tests move time (embargoes, expiry) explicitly."""

    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)  # strictly increasing, like real time
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("registry-template") / "template.db"
    eng = make_engine(f"sqlite:///{path}")
    upgrade(eng)
    with eng.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    eng.dispose()
    return path


@dataclass
class PgServer:
    admin: Engine
    url: sa.URL
    template: str
    made: list[str]

    def clone(self) -> str:
        name = f"jbgt_{os.getpid()}_{secrets.token_hex(4)}"
        with self.admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.made.append(name)
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer | None]:
    if not PG_URL:
        yield None
        return
    url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    template = f"jbgt_tmpl_{os.getpid()}_{secrets.token_hex(4)}"
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{template}"')
    srv = PgServer(admin, url, template, [])
    eng = make_engine(url.set(database=template).render_as_string(False))
    try:
        upgrade(eng)
    finally:
        eng.dispose()
    try:
        yield srv
    finally:
        for name in [*srv.made, template]:
            srv.drop(name)
        admin.dispose()


def _pg_engine(pg_server: PgServer | None) -> tuple[Engine, str, PgServer]:
    if pg_server is None:
        require_or_skip("JBGRADE_REQUIRE_PG", "no PostgreSQL: set JBGRADE_TEST_PG_URL")
        raise AssertionError("unreachable")
    name = pg_server.clone()
    return make_engine(pg_server.url.set(database=name).render_as_string(False)), name, pg_server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    pg_server: PgServer | None,
) -> Iterator[Engine]:
    if request.param == "sqlite":
        db = tmp_path / "registry.db"
        shutil.copyfile(sqlite_template, db)
        eng = make_engine(f"sqlite:///{db}")
        yield eng
        eng.dispose()
        return
    eng, name, srv = _pg_engine(pg_server)
    yield eng
    eng.dispose()
    srv.drop(name)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.generate()


@pytest.fixture
def registry(engine: Engine, keyring: Keyring, clock: Clock) -> Registry:
    return Registry(engine, keyring, clock=clock)


@dataclass
class World:
    """Organisations and one user of every role in each."""

    reg: Registry
    lab: str  # owns the affected models
    researchers: str  # reports
    gov: str  # a regulator's organisation (granted access when a test says so)
    other: str  # unrelated lab
    users: dict[tuple[str, str], Actor]  # (org key, role) -> actor

    def u(self, org: str, role: str) -> Actor:
        return self.users[(org, role)]

    def org_id(self, key: str) -> str:
        keys = {"lab": self.lab, "researchers": self.researchers, "gov": self.gov}
        return {**keys, "other": self.other}[key]


@pytest.fixture
def world(registry: Registry) -> World:
    admin, _ = registry.bootstrap("Registry operator", "root")
    ids = {
        "lab": registry.create_org(admin, "Frontier Lab", kind="lab").id,
        "researchers": registry.create_org(admin, "Red Team Collective", kind="research").id,
        "gov": registry.create_org(admin, "AI Safety Institute", kind="government").id,
        "other": registry.create_org(admin, "Other Lab", kind="lab").id,
    }
    users: dict[tuple[str, str], Actor] = {}
    for key, oid in ids.items():
        for role in ROLES:
            u = registry.create_user(admin, oid, f"{key}-{role}", role)
            users[(key, role)] = Registry.actor_of(u)
    return World(registry, ids["lab"], ids["researchers"], ids["gov"], ids["other"], users)


LAB_VECTOR = "JBG:1.0/LY:F/UN:N/RL:M/TR:F/HD:W/UP:P/AG:T/AC:M/AU:Y/EX:P/ST:U"
GOV_VECTOR = "JBG:1.0/LY:F/UN:D/RL:M/TR:F/HD:W/UP:F/AG:T/AC:L/AU:Y/EX:P/ST:P"


def disputed_case(world: World) -> tuple[str, dict[str, Any]]:
    """A case the lab and the regulator's office assessed differently, and the real
    reconciliation record of the two (``jbgrade dispute`` on the registry)."""
    from jbgrade.assess import PolicyDecider, dispute, sides_from_registry

    reg = world.reg
    lab, gov = world.u("lab", "assessor"), world.u("gov", "assessor")
    case = reg.report_case(lab, title="Persona jailbreak", owning_org_id=world.lab)
    reg.grant_access(lab, case.id, world.gov)
    reg.add_assessment(lab, case.id, LAB_VECTOR, rationales={"UN": "narrow <b>in</b> our replay"})
    reg.add_assessment(gov, case.id, GOV_VECTOR, rationales={"UP": "actionable steps"})
    a, b = sides_from_registry(reg, gov, case.id)
    rec = dispute(a, b, PolicyDecider(["us-export", "lab-frontier"]))
    return case.id, rec.model_dump(mode="json")
