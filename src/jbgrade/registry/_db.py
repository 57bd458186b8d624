"""Database URLs, engines and migrations.

SQLite is the default (a file under the data directory, WAL, foreign keys on);
PostgreSQL works through psycopg 3 (``postgresql+psycopg://...``). The URL comes
from a flag, else ``JBGRADE_DATABASE_URL``, else SQLite under the data directory
(``JBGRADE_DATA_DIR``, else ``$XDG_DATA_HOME/jbgrade``, else ``~/.local/share/jbgrade``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from jbgrade._errors import DatabaseError
from jbgrade.registry._keyfile import xdg_dir

__all__ = [
    "APP_ROLE_GRANTS",
    "HEAD_REVISION",
    "create_app_role",
    "current_revision",
    "default_data_dir",
    "make_engine",
    "redact_url",
    "resolve_database_url",
    "upgrade",
]

HEAD_REVISION = "0004"


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``JBGRADE_DATA_DIR``, else ``$XDG_DATA_HOME/jbgrade``, else ``~/.local/share/jbgrade``."""
    return xdg_dir("JBGRADE_DATA_DIR", "XDG_DATA_HOME", ".local/share", env)


def resolve_database_url(flag: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The flag, else ``JBGRADE_DATABASE_URL``, else SQLite in the data directory."""
    e = os.environ if env is None else env
    if flag:
        return flag
    if e.get("JBGRADE_DATABASE_URL"):
        return e["JBGRADE_DATABASE_URL"]
    return f"sqlite:///{default_data_dir(e) / 'registry.db'}"


def redact_url(url: str) -> str:
    """The URL with any password hidden (for messages)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Python's sqlite3 opens transactions implicitly and too late for writers;
    # we issue BEGIN ourselves (see _sqlite_begin).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    mode = cur.execute("PRAGMA journal_mode").fetchone()[0]
    if mode != "memory":
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the write lock up front (BEGIN IMMEDIATE), so two writers never
    # both read the audit head and then deadlock upgrading; readers stay deferred.
    mode = "IMMEDIATE" if conn.get_execution_options().get("jbgrade_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, *, echo: bool = False, **kwargs: Any) -> Engine:
    """An engine for ``url`` configured for the registry.

    SQLite: creates the parent directory, turns on WAL and foreign keys. Writes
    should go through ``engine.execution_options(jbgrade_write=True)``.
    """
    try:
        u = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"not a database URL: {redact_url(url)}") from None
    backend = u.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(f"unsupported database {backend!r}: use sqlite or postgresql")
    if backend == "postgresql" and u.get_driver_name() != "psycopg":
        u = u.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and u.database and u.database != ":memory:":
        Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = sa.create_engine(u, echo=echo, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(f"cannot use {backend}: {exc} (install jbgrade[postgres])") from None
    if backend == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option(
        "script_location", str(resources.files("jbgrade.registry").joinpath("migrations"))
    )
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Apply migrations up to ``revision``; return the revision now current."""
    from alembic import command

    try:
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), revision)
    except sa.exc.OperationalError as exc:
        raise DatabaseError(
            f"cannot migrate {redact_url(engine.url.render_as_string())}: {exc.orig}"
        ) from None
    rev = current_revision(engine)
    return rev or ""


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database, or None before the first upgrade."""
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            v = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.OperationalError as exc:
        raise DatabaseError(
            f"cannot open {redact_url(engine.url.render_as_string())}: {exc.orig}"
        ) from None
    return str(v) if v is not None else None


# The application role may do everything except rewrite history.
APP_ROLE_GRANTS = (
    "GRANT USAGE ON SCHEMA {schema} TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
    "REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.audit_log FROM {role}",
    "REVOKE DELETE, TRUNCATE ON {schema}.audit_head FROM {role}",
    "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {schema}.alembic_version FROM {role}",
)

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def create_app_role(
    engine: Engine, role: str, *, password: str | None = None, schema: str = "public"
) -> None:
    """PostgreSQL: create (or update) the login role the application runs as.

    It may read and write the registry's tables but cannot UPDATE, DELETE or
    TRUNCATE audit rows (a trigger also rejects those for every role).
    Run it as the schema owner after ``jbgrade db upgrade``.
    """
    if engine.dialect.name != "postgresql":
        raise DatabaseError("application roles exist on PostgreSQL only")
    for name, what in ((role, "role"), (schema, "schema")):
        if not _IDENT.match(name):
            raise DatabaseError(f"{what} name {name!r} must match {_IDENT.pattern}")
    with engine.begin() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).scalar()
        verb = "ALTER" if exists else "CREATE"
        if password is None:
            conn.exec_driver_sql(f"{verb} ROLE {role} LOGIN")
        else:
            lit = conn.execute(sa.text("SELECT quote_literal(:p)"), {"p": password}).scalar()
            conn.exec_driver_sql(f"{verb} ROLE {role} LOGIN PASSWORD {lit}")
        for stmt in APP_ROLE_GRANTS:
            conn.exec_driver_sql(stmt.format(schema=schema, role=role))
