"""Alembic environment: runs on the connection ``jbgrade.registry.upgrade`` passes in."""

from __future__ import annotations

from alembic import context

from jbgrade.registry._models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable from the alembic CLI
    raise SystemExit("run migrations with `jbgrade db upgrade`")
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
